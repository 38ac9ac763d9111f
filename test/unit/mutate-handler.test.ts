import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fastJsonPatch from "fast-json-patch";
import { SnapshotClusterView } from "../../core/cluster-view.ts";
import { NO_CLOUD } from "../../core/disk-cloud.ts";
import { migrationId } from "../../core/migration-id.ts";
import type { AdmissionRequest } from "../../webhook/admission/review.ts";
import { mutate } from "../../webhook/handlers/mutate.ts";
import { RUNNER, scaleRequest, stsRequest, update } from "../support/admission.ts";
import { NAMESPACE, statefulSet } from "../support/cluster-fixtures.ts";

const context = { view: new SnapshotClusterView({}), cloud: NO_CLOUD, runnerIdentity: RUNNER };
const TARGET = "cn-shanghai-b,cn-shanghai-g";

function applyPatch(request: AdmissionRequest, patch: string | undefined): Record<string, unknown> {
  assert.ok(patch !== undefined, "expected a patch");
  const operations = JSON.parse(Buffer.from(patch, "base64").toString("utf8")) as fastJsonPatch.Operation[];
  const result = fastJsonPatch.applyPatch(structuredClone(request.object), operations, true, false);
  return result.newDocument as Record<string, unknown>;
}

function newRequest(annotations: Record<string, string> = {}) {
  const old = statefulSet({ annotations });
  return update(old, (next) => { next.metadata!.annotations!["zoneferry.io/target-zones"] = TARGET; });
}

describe("stamping a new request", () => {
  it("stamps the migration id and status Pending, and the patch applies cleanly", async () => {
    const request = newRequest();
    const { verdict } = await mutate(request, context);
    assert.equal(verdict.allowed, true);
    assert.equal(verdict.patchType, "JSONPatch");
    const patchedObject = applyPatch(request, verdict.patch);
    const expected = structuredClone(request.object)!;
    expected.metadata!.annotations = {
      ...expected.metadata!.annotations,
      "zoneferry.io/migration-id": migrationId({ namespace: NAMESPACE, name: "db", targetZones: TARGET.split(","), retry: "" }),
      "zoneferry.io/status": "Pending",
    };
    assert.deepEqual(patchedObject, expected);
  });

  it("yields the same patch for the same request every time", async () => {
    const first = await mutate(newRequest(), context);
    const second = await mutate(newRequest(), context);
    assert.equal(first.verdict.patch, second.verdict.patch);
  });

  it("clears the step and message of the previous migration, and nothing else", async () => {
    const request = newRequest({ "zoneferry.io/target-zones": "cn-shanghai-m", "zoneferry.io/status": "Failed", "zoneferry.io/step": "restore", "zoneferry.io/message": "ready timeout", "team.example.com/owner": "shop" });
    request.object!.metadata!.annotations!["zoneferry.io/target-zones"] = TARGET;
    const patchedObject = applyPatch(request, (await mutate(request, context)).verdict.patch) as { metadata: { annotations: Record<string, string> }; spec: unknown };
    assert.deepEqual(Object.keys(patchedObject.metadata.annotations).sort(), ["team.example.com/owner", "zoneferry.io/migration-id", "zoneferry.io/status", "zoneferry.io/target-zones"]);
    assert.equal(patchedObject.metadata.annotations["zoneferry.io/status"], "Pending");
    assert.deepEqual(patchedObject.spec, request.object!.spec, "nothing Git owns is rewritten");
  });

  it("only ever patches paths under metadata.annotations", async () => {
    const { verdict } = await mutate(newRequest({ "zoneferry.io/message": "old" }), context);
    const operations = JSON.parse(Buffer.from(verdict.patch!, "base64").toString("utf8")) as { path: string }[];
    assert.ok(operations.length > 0);
    for (const operation of operations) assert.match(operation.path, /^\/metadata\/annotations(\/zoneferry\.io~1|$)/);
  });
});

describe("leaving other writes alone", () => {
  it("does not patch a re-apply of the same request", async () => {
    const old = statefulSet({ annotations: { "zoneferry.io/target-zones": TARGET, "zoneferry.io/status": "Succeeded" } });
    assert.deepEqual(await mutate(update(old, (next) => { next.spec!.minReadySeconds = 5; }), context), { verdict: { allowed: true } });
  });

  it("does not patch a creation", async () => {
    assert.deepEqual(await mutate(stsRequest(statefulSet({ annotations: { "zoneferry.io/target-zones": TARGET } })), context), { verdict: { allowed: true } });
  });

  it("does not patch a malformed request (the validating webhook denies it)", async () => {
    const old = statefulSet();
    const request = update(old, (next) => { next.metadata!.annotations!["zoneferry.io/target-zones"] = "B"; });
    assert.deepEqual(await mutate(request, context), { verdict: { allowed: true } });
  });

  it("does not patch a StatefulSet held by a running migration", async () => {
    const old = statefulSet({ annotations: { "zoneferry.io/target-zones": "cn-shanghai-m", "zoneferry.io/status": "Running" } });
    const request = update(old, (next) => { next.metadata!.annotations!["zoneferry.io/target-zones"] = TARGET; });
    assert.deepEqual(await mutate(request, context), { verdict: { allowed: true } });
  });

  it("does not patch scale requests", async () => {
    assert.deepEqual(await mutate(scaleRequest(NAMESPACE, "db", 2, 3), context), { verdict: { allowed: true } });
  });
});
