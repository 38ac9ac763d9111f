/**
 * Exports and restores at admission (docs/cross-account.md): what each annotation accepts and the
 * message for what it refuses, the mutating webhook's hold of a restore's replicas, and what the
 * validating webhook queues or refuses for each.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fastJsonPatch from "fast-json-patch";
import { SnapshotClusterView, type ClusterObjects } from "../../core/cluster-view.ts";
import { exportSnapshotName } from "../../core/cross-account-request.ts";
import { currentRequest, migrationId } from "../../core/migration-id.ts";
import { parseMigrationRequest } from "../../core/migration-request.ts";
import type { AdmissionRequest } from "../../webhook/admission/review.ts";
import { mutate } from "../../webhook/handlers/mutate.ts";
import { validate } from "../../webhook/handlers/validate.ts";
import { RUNNER, USER, stsRequest, update } from "../support/admission.ts";
import { cloudAnswering } from "../support/cloud-answers.ts";
import { NAMESPACE, clusterWithDisks, nasClaim, statefulSet } from "../support/cluster-fixtures.ts";

const ACCOUNT = "2222222222222222";
const SOURCE = "1111111111111111";
const EXPORT_ID = "0123456789ab";

function problems(annotations: Record<string, string>): string[] {
  const parsed = parseMigrationRequest(annotations);
  assert.ok(!parsed.ok, "expected the annotations to be refused");
  return parsed.problems.map((problem) => problem.message);
}

function contextOf(objects: ClusterObjects, crossAccount = true) {
  return { view: new SnapshotClusterView(objects), cloud: cloudAnswering(), runnerIdentity: RUNNER, crossAccount };
}

function patchedObject(request: AdmissionRequest, patch: string | undefined): Record<string, unknown> {
  assert.ok(patch !== undefined, "expected a patch");
  const operations = JSON.parse(Buffer.from(patch, "base64").toString("utf8")) as fastJsonPatch.Operation[];
  return fastJsonPatch.applyPatch(structuredClone(request.object), operations, true, false).newDocument as Record<string, unknown>;
}

describe("the export and restore annotations", () => {
  it("parses an export to accounts into a request with no target zones, snapshots kept until deleted by hand", () => {
    const parsed = parseMigrationRequest({ "zoneferry.io/export-to-accounts": ` ${ACCOUNT}, 3333333333333333` });
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.request.operation, { kind: "export", accounts: [ACCOUNT, "3333333333333333"] });
    assert.deepEqual(parsed.request.targetZones, []);
    assert.equal(parsed.request.snapshotRetentionDays, -1);
  });

  it("refuses an account id that is not 16 digits, and one listed twice, naming each", () => {
    assert.match(problems({ "zoneferry.io/export-to-accounts": "12345,abc" })[0]!, /has invalid account ids "12345", "abc"; expected comma-separated Alibaba Cloud account ids \(16 digits each\)/);
    assert.match(problems({ "zoneferry.io/export-to-accounts": `${ACCOUNT},${ACCOUNT}` })[0]!, /lists 2222222222222222 more than once/);
  });

  it("refuses a move, an export or a restore asked for together: one request at a time", () => {
    assert.match(problems({ "zoneferry.io/target-zones": "cn-shanghai-g", "zoneferry.io/export-to-accounts": ACCOUNT })[0]!, /cannot be set together: a StatefulSet carries one request at a time/);
  });

  it("refuses a move's annotations on an export instead of ignoring them", () => {
    assert.deepEqual(problems({ "zoneferry.io/export-to-accounts": ACCOUNT, "zoneferry.io/strategy": "Rolling" }), [
      "annotation zoneferry.io/strategy means nothing to an export (zoneferry.io/export-to-accounts); remove it",
    ]);
  });

  it("parses a restore source as account and export id, and says how to write one that is not", () => {
    const parsed = parseMigrationRequest({ "zoneferry.io/restore-from": `${SOURCE}/${EXPORT_ID}` });
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.request.operation, { kind: "restore", sourceAccount: SOURCE, exportId: EXPORT_ID });
    assert.match(problems({ "zoneferry.io/restore-from": "shop/db" })[0]!, /is not a restore source; write "<source account id>\/<export id>"/);
  });

  it("gives an export and a restore ids of their own, and leaves the ids of moves as they were", () => {
    const exportId = currentRequest(NAMESPACE, "db", { "zoneferry.io/export-to-accounts": ACCOUNT })!.migrationId;
    const move = currentRequest(NAMESPACE, "db", { "zoneferry.io/target-zones": "cn-shanghai-g" })!.migrationId;
    assert.equal(move, migrationId({ namespace: NAMESPACE, name: "db", targetZones: ["cn-shanghai-g"], retry: "" }));
    assert.notEqual(exportId, migrationId({ namespace: NAMESPACE, name: "db", targetZones: [], retry: "" }));
    assert.notEqual(exportId, currentRequest(NAMESPACE, "db", { "zoneferry.io/export-to-accounts": ACCOUNT, "zoneferry.io/retry": "2" })!.migrationId);
  });
});

describe("admitting an export", () => {
  function exportRequest(annotations: Record<string, string> = {}) {
    const old = statefulSet({ replicas: 2 });
    const request = update(old, (next) => { next.metadata!.annotations = { ...next.metadata!.annotations, "zoneferry.io/export-to-accounts": ACCOUNT, ...annotations }; });
    return { old, request };
  }

  it("queues an export of a StatefulSet on ESSD disks as a job carrying its accounts", async () => {
    const { old, request } = exportRequest();
    const stamped = patchedObject(request, (await mutate(request, contextOf({}))).verdict.patch);
    const decision = await validate({ ...request, object: stamped }, contextOf(clusterWithDisks(old, ["cn-shanghai-b", "cn-shanghai-g"])));
    assert.equal(decision.verdict.allowed, true);
    assert.deepEqual(decision.verdict.warnings ?? [], []);
    assert.deepEqual(decision.enqueue?.operation, { kind: "export", accounts: [ACCOUNT] });
    assert.deepEqual(decision.enqueue.targetZones, []);
    assert.equal(decision.enqueue.requestedBy, USER);
  });

  it("refuses an export where zoneferry is not set up for exports and restores, saying who can enable it", async () => {
    const { old, request } = exportRequest();
    const decision = await validate(request, contextOf(clusterWithDisks(old, ["cn-shanghai-b", "cn-shanghai-g"]), false));
    assert.equal(decision.verdict.allowed, false);
    assert.match(decision.verdict.status?.message ?? "", /asks for an export across accounts, and this zoneferry is not set up for them \(the chart's crossAccount.enabled, CROSS_ACCOUNT=false\)/);
    assert.equal(decision.enqueue, undefined);
  });

  it("refuses an export of a claim that is not on an Alibaba Cloud disk, naming it", async () => {
    const { old, request } = exportRequest();
    const cluster = clusterWithDisks(old, ["cn-shanghai-b", "cn-shanghai-g"]);
    const [claim, volume] = nasClaim("data-db-1");
    const decision = await validate(request, contextOf({ ...cluster, persistentVolumeClaims: [...cluster.persistentVolumeClaims.filter((item) => item.metadata?.name !== "data-db-1"), claim], persistentVolumes: [...cluster.persistentVolumes, volume] }));
    assert.equal(decision.verdict.allowed, false);
    assert.match(decision.verdict.status?.message ?? "", /cannot be exported: PVC data-db-1 is on nasplugin.csi.alibabacloud.com; only Alibaba Cloud disks/);
    assert.equal(decision.enqueue, undefined);
  });

  it("names each claim's snapshot for its namespace, claim and export, within ECS's 128 characters", () => {
    assert.equal(exportSnapshotName("shop", "data-db-0", EXPORT_ID), "zf-shop-data-db-0-0123456789ab");
  });
});

describe("admitting a restore", () => {
  const restoring = (): ReturnType<typeof statefulSet> => statefulSet({ replicas: 3, annotations: { "zoneferry.io/restore-from": `${SOURCE}/${EXPORT_ID}` } });

  it("holds a new StatefulSet's replicas at 0, stamping the replicas asked for, and queues the restore", async () => {
    const request = stsRequest(restoring());
    const stamped = patchedObject(request, (await mutate(request, contextOf({}))).verdict.patch) as { spec: { replicas: number }; metadata: { annotations: Record<string, string> } };
    assert.equal(stamped.spec.replicas, 0);
    assert.equal(stamped.metadata.annotations["zoneferry.io/restore-replicas"], "3");
    assert.equal(stamped.metadata.annotations["zoneferry.io/status"], "Pending");
    const decision = await validate({ ...request, object: stamped }, contextOf({}));
    assert.equal(decision.verdict.allowed, true);
    assert.match(decision.verdict.warnings?.[0] ?? "", /spec.replicas held at 0 until restore [0-9a-f]{12} has made the claims from export 0123456789ab; the runner scales to 3 then/);
    assert.deepEqual(decision.enqueue?.operation, { kind: "restore", sourceAccount: SOURCE, exportId: EXPORT_ID });
  });

  it("refuses the StatefulSet when the mutating webhook did not hold its replicas, since its pods would start on empty claims", async () => {
    const decision = await validate(stsRequest(restoring()), contextOf({}));
    assert.equal(decision.verdict.allowed, false);
    assert.match(decision.verdict.status?.message ?? "", /did not hold its replicas at 0 \(did it not answer\?\): its pods would start on empty claims/);
    assert.equal(decision.enqueue, undefined);
  });

  it("leaves a StatefulSet made again with a restore that already ran unheld and unqueued, saying how to restore again", async () => {
    const request = stsRequest(restoring());
    const id = currentRequest(NAMESPACE, "db", request.object!.metadata!.annotations!)!.migrationId;
    const journal = { metadata: { name: `db-${id}`, namespace: NAMESPACE }, spec: { statefulSet: "db", migrationId: id }, status: { phase: "Succeeded" as const } };
    const context = { ...contextOf({}), view: new SnapshotClusterView({ zoneMigrations: [journal] }) };
    assert.deepEqual(await mutate(request, context), { verdict: { allowed: true } });
    const decision = await validate(request, context);
    assert.equal(decision.verdict.allowed, true);
    assert.match(decision.verdict.warnings?.[0] ?? "", /already ran \(ZoneMigration db-[0-9a-f]{12} ended Succeeded\), so it is not run again and the StatefulSet starts on the PVCs it finds/);
    assert.equal(decision.enqueue, undefined);
  });

  it("refuses a restore asked of a StatefulSet that exists, saying it is read at creation", async () => {
    const old = statefulSet({ replicas: 2 });
    const decision = await validate(update(old, (next) => { next.metadata!.annotations = { "zoneferry.io/restore-from": `${SOURCE}/${EXPORT_ID}` }; }), contextOf(clusterWithDisks(old, ["cn-shanghai-b", "cn-shanghai-g"])));
    assert.equal(decision.verdict.allowed, false);
    assert.match(decision.verdict.status?.message ?? "", /zoneferry.io\/restore-from is read only when the StatefulSet is created/);
  });

  it("admits a re-apply of the restored StatefulSet without queueing anything", async () => {
    const old = statefulSet({ replicas: 3, annotations: { "zoneferry.io/restore-from": `${SOURCE}/${EXPORT_ID}`, "zoneferry.io/status": "Succeeded" } });
    const decision = await validate(update(old, (next) => { next.metadata!.labels = { team: "shop" }; }), contextOf({}));
    assert.deepEqual(decision, { verdict: { allowed: true } });
  });
});
