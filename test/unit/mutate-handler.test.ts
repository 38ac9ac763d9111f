import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fastJsonPatch from "fast-json-patch";
import { SnapshotClusterView } from "../../core/cluster-view.ts";
import { NO_CLOUD } from "../../core/disk-cloud.ts";
import { migrationId } from "../../core/migration-id.ts";
import type { AdmissionRequest, KubeObject } from "../../webhook/admission/review.ts";
import { mutate } from "../../webhook/handlers/mutate.ts";
import { validate } from "../../webhook/handlers/validate.ts";
import { ARGO, RUNNER, scaleRequest, stsRequest, update } from "../support/admission.ts";
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

describe("holding the fields the runner set while a migration runs", () => {
  const ID = "0123456789ab";
  /** As the runner leaves it at create-disks: scaled to 0, whenScaled Retain where Git says Delete. */
  const held = (status = "Running") => {
    const sts = statefulSet({ replicas: 0, whenScaled: "Delete", annotations: { "zoneferry.io/target-zones": TARGET, "zoneferry.io/migration-id": ID, "zoneferry.io/status": status, "zoneferry.io/step": "create-disks" } });
    sts.spec!.persistentVolumeClaimRetentionPolicy!.whenScaled = "Retain";
    return sts;
  };
  /** A GitOps re-apply of the manifest in Git: 2 replicas, whenScaled Delete, and a new label. */
  const resync = (old = held(), options: { dryRun?: boolean; user?: string } = {}) => update(old, (next) => {
    next.spec!.replicas = 2;
    next.spec!.persistentVolumeClaimRetentionPolicy!.whenScaled = "Delete";
    next.metadata!.labels = { team: "shop" };
  }, { user: ARGO, ...options });
  const operationsOf = (patch: string | undefined) => JSON.parse(Buffer.from(patch!, "base64").toString("utf8")) as fastJsonPatch.Operation[];

  it("puts back replicas and whenScaled, warns naming the migration and its step, and lets the rest of the write apply", async () => {
    const request = resync();
    const { verdict } = await mutate(request, context);
    assert.equal(verdict.allowed, true);
    assert.deepEqual(verdict.warnings, [
      `zoneferry: spec.replicas held at 0, spec.persistentVolumeClaimRetentionPolicy.whenScaled held at "Retain" while migration ${ID} runs (step create-disks); they are restored when the migration ends`,
    ]);
    const admitted = applyPatch(request, verdict.patch) as { metadata: { labels: Record<string, string> }; spec: { replicas: number; persistentVolumeClaimRetentionPolicy: Record<string, string> } };
    assert.equal(admitted.spec.replicas, 0);
    assert.deepEqual(admitted.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Retain", whenScaled: "Retain" });
    assert.deepEqual(admitted.metadata.labels, { team: "shop" }, "the rest of the write is kept");
    assert.deepEqual(operationsOf(verdict.patch).map((operation) => operation.path).sort(), ["/spec/persistentVolumeClaimRetentionPolicy/whenScaled", "/spec/replicas"]);
  });

  it("answers a dry run (Flux's drift detection, Argo CD's server-side diff) with the very same patch", async () => {
    const write = await mutate(resync(), context);
    const dryRun = await mutate(resync(held(), { dryRun: true }), context);
    assert.deepEqual(dryRun.verdict, write.verdict);
  });

  it("warns about replicas alone when whenScaled is left as it is, and says which status holds it when there is no step yet", async () => {
    const old = held("Pending");
    delete old.metadata!.annotations!["zoneferry.io/step"];
    old.spec!.replicas = 2;
    const { verdict } = await mutate(update(old, (next) => { next.spec!.replicas = 3; }), context);
    assert.deepEqual(verdict.warnings, [`zoneferry: spec.replicas held at 2 while migration ${ID} runs (status Pending); it is restored when the migration ends`]);
    assert.deepEqual(operationsOf(verdict.patch), [{ op: "replace", path: "/spec/replicas", value: 2 }]);
  });

  it("holds a StatefulSet known held only from its running ZoneMigration journal", async () => {
    const old = statefulSet({ replicas: 0, annotations: { "zoneferry.io/target-zones": TARGET } });
    const journal = { metadata: { name: "db-abcdefabcdef", namespace: NAMESPACE }, spec: { statefulSet: "db", migrationId: "abcdefabcdef" }, status: { phase: "Running" as const, step: "snapshot" } };
    const view = new SnapshotClusterView({ zoneMigrations: [journal] });
    const { verdict } = await mutate(update(old, (next) => { next.spec!.replicas = 1; }), { ...context, view });
    assert.deepEqual(verdict.warnings, ["zoneferry: spec.replicas held at 0 while migration abcdefabcdef runs (step snapshot); it is restored when the migration ends"]);
  });

  it("leaves a change of the pod template in, with replicas held, for the validating webhook to refuse", async () => {
    const request = update(held(), (next) => { next.spec!.replicas = 2; next.spec!.template.spec!.containers[0]!.image = "nginx:1.28"; });
    const { verdict } = await mutate(request, context);
    assert.deepEqual(operationsOf(verdict.patch), [{ op: "replace", path: "/spec/replicas", value: 0 }]);
    const admitted = applyPatch(request, verdict.patch) as KubeObject;
    const decision = await validate({ ...request, object: admitted }, context);
    assert.equal(decision.verdict.allowed, false);
    assert.match(decision.verdict.status!.message, /: spec\.template cannot change until the migration ends/);
  });

  it("admits the held object at the validating webhook: the whole sync applies", async () => {
    const request = resync();
    const admitted = applyPatch(request, (await mutate(request, context)).verdict.patch) as KubeObject;
    assert.deepEqual(await validate({ ...request, object: admitted }, context), { verdict: { allowed: true } });
  });

  it("holds nothing for zoneferry's runner, nor once the migration has ended", async () => {
    assert.deepEqual(await mutate(resync(held(), { user: RUNNER }), context), { verdict: { allowed: true } });
    for (const status of ["Succeeded", "Failed", "RollbackFailed"]) {
      assert.deepEqual(await mutate(resync(held(status)), context), { verdict: { allowed: true } }, status);
    }
  });

  it("holds replicas through a cancel (target-zones removed) and stamps nothing", async () => {
    const request = update(held(), (next) => { delete next.metadata!.annotations!["zoneferry.io/target-zones"]; next.spec!.replicas = 2; });
    const { verdict } = await mutate(request, context);
    assert.deepEqual(operationsOf(verdict.patch), [{ op: "replace", path: "/spec/replicas", value: 0 }]);
  });
});
