import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SnapshotClusterView } from "../../core/cluster-view.ts";
import { MAX_WARNING_LENGTH } from "../../webhook/admission/response.ts";
import { validate } from "../../webhook/handlers/validate.ts";
import { RUNNER, update } from "../support/admission.ts";
import { cloudAnswering } from "../support/cloud-answers.ts";
import { clusterWithDisks, statefulSet } from "../support/cluster-fixtures.ts";

const B = "cn-shanghai-b";
const G = "cn-shanghai-g";
const M = "cn-shanghai-m";

async function warningsOf(dryRun: boolean, replicas = 2, zones: string[] = [B, M]) {
  const old = statefulSet({ replicas });
  const request = update(old, (next) => { next.metadata!.annotations = { ...next.metadata!.annotations, "zoneferry.io/target-zones": `${G},${M}` }; }, { dryRun });
  const decision = await validate(request, { view: new SnapshotClusterView(clusterWithDisks(old, zones)), cloud: cloudAnswering(), runnerIdentity: RUNNER });
  assert.equal(decision.verdict.allowed, true);
  return decision.verdict.warnings ?? [];
}

describe("the plan on a server-side dry run", () => {
  it("is the first warning of a dry run: each ordinal's zone and the volumes that move", async () => {
    const [first] = await warningsOf(true);
    assert.equal(first, "dry run: plan for db to cn-shanghai-g,cn-shanghai-m: db-0 → cn-shanghai-g (moves data-db-0 from cn-shanghai-b), db-1 stays in cn-shanghai-m; 1 of 2 volumes move");
  });

  it("is not told on a real apply", async () => {
    assert.ok(!(await warningsOf(false)).some((warning) => warning.startsWith("dry run: plan")));
  });

  it("stays within a warning's bound for a large StatefulSet", async () => {
    const zones = Array.from({ length: 60 }, (_, ordinal) => (ordinal % 2 === 0 ? B : M));
    const [first] = await warningsOf(true, 60, zones);
    assert.ok(first!.startsWith("dry run: plan for db"));
    assert.ok(first!.length < MAX_WARNING_LENGTH, `${first!.length} characters`);
    assert.match(first!, /… and \d+ more; 30 of 60 volumes move$/);
  });
});
