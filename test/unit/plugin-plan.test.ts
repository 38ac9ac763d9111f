import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { migrationAssessor } from "../../core/assess-migration.ts";
import { SnapshotClusterView } from "../../core/cluster-view.ts";
import { NO_CLOUD } from "../../core/disk-cloud.ts";
import { MAX_PLAN_SUMMARY_LENGTH, planSummary } from "../../core/plan-summary.ts";
import { planPlacement } from "../../core/planner.ts";
import { planReport, proposedRequest } from "../../plugin/plan.ts";
import { clusterWithDisks, statefulSet } from "../support/cluster-fixtures.ts";

const B = "cn-shanghai-b";
const G = "cn-shanghai-g";
const M = "cn-shanghai-m";

async function planOf(zones: string[], target: string, annotations: Record<string, string> = {}) {
  const sts = statefulSet({ replicas: zones.length, annotations });
  const proposed = proposedRequest(sts, target);
  assert.ok("request" in proposed);
  const assessment = await migrationAssessor({ maxReplicas: 64 })(sts, proposed.request, new SnapshotClusterView(clusterWithDisks(sts, zones)), NO_CLOUD);
  return planReport("db", proposed.request, assessment);
}

describe("kubectl zoneferry plan", () => {
  it("plans from the PVs' zones without ECS: ordinal → zone, the volumes that move, replicas per zone", async () => {
    const report = await planOf([B, M], `${G},${M}`);
    assert.equal(report.denied, false);
    assert.match(report.text, /^Plan for StatefulSet db to cn-shanghai-g,cn-shanghai-m \(strategy Recreate\):$/m);
    assert.match(report.text, /^ {2}db-0 → cn-shanghai-g \(moves data-db-0 from cn-shanghai-b\)$/m);
    assert.match(report.text, /^ {2}db-1 stays in cn-shanghai-m$/m);
    assert.match(report.text, /^Volumes moving: 1; replicas per zone after the move: cn-shanghai-g: 1, cn-shanghai-m: 1$/m);
    assert.doesNotMatch(report.text, /ECS unreachable/, "ECS not asked is said once, in the plugin's words");
    assert.match(report.text, /Not checked here \(ECS not asked: pass --ecs/);
  });

  it("keeps the StatefulSet's other zoneferry annotations (the strategy) and says what admission would deny", async () => {
    const report = await planOf([B, B], "cn-shanghai-x", { "zoneferry.io/strategy": "Rolling" });
    assert.match(report.text, /strategy Rolling/);
    assert.equal(report.denied, true);
    assert.match(report.text, /Admission would deny it:\n {2}- target zone cn-shanghai-x has no Ready, schedulable node/);
  });

  it("answers the annotation's problems for a malformed target-zones", () => {
    const proposed = proposedRequest(statefulSet(), ",,");
    assert.ok("problems" in proposed && proposed.problems.length > 0);
  });

  it("says the plan in one bounded line, moving ordinals first, whatever the size", () => {
    assert.equal(
      planSummary("db", [G, M], planPlacement([{ ordinal: 0, volumes: [{ claim: "data-db-0", zone: M }] }, { ordinal: 1, volumes: [{ claim: "data-db-1", zone: B }] }], [G, M])),
      "plan for db to cn-shanghai-g,cn-shanghai-m: db-1 → cn-shanghai-g (moves data-db-1 from cn-shanghai-b), db-0 stays in cn-shanghai-m; 1 of 2 volumes move",
    );
    const huge = planPlacement(Array.from({ length: 500 }, (_, ordinal) => ({ ordinal, volumes: ["a", "b", "c", "d", "e"].map((template) => ({ claim: `${template}-${"x".repeat(200)}-${ordinal}`, zone: B })) })), [G, M]);
    const line = planSummary("db", [G, M], huge);
    assert.ok(line.length <= MAX_PLAN_SUMMARY_LENGTH, `${line.length} characters`);
    assert.equal(planSummary("db", [G], planPlacement([], [G])), "plan for db to cn-shanghai-g: no disk volumes, nothing to move");
  });
});
