import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { ApiextensionsV1Api, AppsV1Api, CoreV1Api, KubeConfig, type V1StatefulSet } from "@kubernetes/client-node";
import { OWNED_ANNOTATIONS } from "../../core/annotations.ts";
import { activeZoneMigration, type ZoneMigration } from "../../core/zone-migration.ts";
import { installZoneMigrationCrd } from "../../runner/journal/crd.ts";
import { recordEvent } from "../../runner/journal/events.ts";
import { setCondition } from "../../runner/journal/conditions.ts";
import { MigrationJournal, journalName, journaledStatefulSetUid } from "../../runner/journal/journal.ts";
import { memoized } from "../../runner/journal/memoized-journal.ts";
import { withinStep } from "../../runner/saga/step-scope.ts";
import { writeStatefulSetStatus } from "../../runner/journal/statefulset-status.ts";
import type { JournalRequest, VolumeProgress } from "../../runner/journal/types.ts";
import { controlPlaneBinaries, startControlPlane, type ControlPlane } from "../../sandbox/control-plane.ts";
import { NAMESPACE, statefulSet } from "../support/cluster-fixtures.ts";
import { ensureNamespace, seed } from "../support/kube-seed.ts";
import { TEST_SEAL } from "../support/journal-seal.ts";

const run = promisify(execFile);

const REQUEST: JournalRequest = {
  checkIntervalMs: 60_000,
  readyTimeoutMs: 900_000,
  healthDurationMs: 0,
  snapshotRetentionDays: 1,
  retainSource: false,
  strategy: "Recreate",
  retry: "",
};

describe("the ZoneMigration journal, on a real API server", () => {
  let plane: ControlPlane;
  let kubeconfig: KubeConfig;
  let journal: MigrationJournal;
  let db: V1StatefulSet;

  const ensureFor = (sts: V1StatefulSet, migrationId: string, namespace = NAMESPACE) =>
    journal.ensure({ namespace, statefulSet: sts, migrationId, targetZones: ["cn-shanghai-g", "cn-shanghai-m"], request: REQUEST });

  before(async () => {
    plane = await startControlPlane(controlPlaneBinaries(process.env));
    kubeconfig = new KubeConfig();
    kubeconfig.loadFromFile(plane.kubeconfig);
    await installZoneMigrationCrd(kubeconfig);
    await seed(kubeconfig, { statefulSets: [statefulSet({ name: "db" })] });
    db = await kubeconfig.makeApiClient(AppsV1Api).readNamespacedStatefulSet({ namespace: NAMESPACE, name: "db" });
    journal = new MigrationJournal(kubeconfig, { seal: TEST_SEAL, fieldManager: "zoneferry-runner" });
  });
  after(async () => {
    await plane.stop();
  });

  it("installs the CRD with its status subresource, and a second install (an upgrade) is harmless", async () => {
    const crd = await installZoneMigrationCrd(kubeconfig);
    assert.equal(crd.metadata?.name, "zonemigrations.zoneferry.io");
    assert.ok(crd.status?.conditions?.some((condition) => condition.type === "Established" && condition.status === "True"));
    const stored = await kubeconfig.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: "zonemigrations.zoneferry.io" });
    const version = stored.spec.versions[0]!;
    assert.deepEqual(stored.spec.names.shortNames, ["zm"]);
    assert.deepEqual(version.subresources?.status, {});
    // The x-kubernetes-* keys survive client-node's serializer on the way to the server.
    const conditions = version.schema?.openAPIV3Schema?.properties?.["status"]?.properties?.["conditions"];
    assert.equal(conditions?.x_kubernetes_list_type, "map");
  });

  it("creates the journal once and returns the same object the second time", async () => {
    const first = await ensureFor(db, "m1");
    const second = await ensureFor(db, "m1");
    assert.equal(first.metadata.name, journalName("db", "m1"));
    assert.equal(first.metadata.name, "db-m1");
    assert.equal(second.metadata.uid, first.metadata.uid);
    assert.equal(second.metadata.resourceVersion, first.metadata.resourceVersion);
    assert.equal(second.status?.phase, "Pending");
    assert.deepEqual(second.spec, { statefulSet: "db", migrationId: "m1", targetZones: ["cn-shanghai-g", "cn-shanghai-m"], target: "cn-shanghai-g,cn-shanghai-m", request: REQUEST });
  });

  it("gives the journal no owner, so deleting the StatefulSet keeps it, and labels it with the StatefulSet's name and uid", async () => {
    const stored = await journal.read(NAMESPACE, "db-m1");
    assert.equal(stored?.metadata.ownerReferences, undefined);
    assert.deepEqual(stored?.metadata.labels, { "zoneferry.io/statefulset": "db", "zoneferry.io/migration-id": "m1", "zoneferry.io/statefulset-uid": db.metadata!.uid! });
    assert.equal(journaledStatefulSetUid(stored), db.metadata?.uid);
  });

  it("reads nothing for a journal that does not exist", async () => {
    assert.equal(await journal.read(NAMESPACE, "db-absent"), undefined);
  });

  it("merges a spec update and refuses to change the migration id", async () => {
    const plan = { ordinals: [{ ordinal: 0, zone: "cn-shanghai-g", volumes: [{ claim: "data-db-0", fromZone: "cn-shanghai-b", toZone: "cn-shanghai-g", move: true }] }] };
    const updated = await journal.updateSpec(NAMESPACE, "db-m1", { plan, originalReplicas: 2 });
    assert.deepEqual(updated.spec.plan, plan);
    assert.equal(updated.spec.originalReplicas, 2);
    assert.equal(updated.spec.migrationId, "m1");
    await assert.rejects(journal.updateSpec(NAMESPACE, "db-m1", { migrationId: "other" }), (error: { code?: number; body?: string }) => {
      assert.equal(error.code, 422);
      assert.match(String(error.body), /migrationId is immutable/);
      return true;
    });
  });

  it("refuses a spec.target other than targetZones joined: the TARGET column is no second truth", async () => {
    await assert.rejects(journal.updateSpec(NAMESPACE, "db-m1", { target: "cn-shanghai-g" }), (error: { code?: number; body?: string }) => {
      assert.equal(error.code, 422);
      assert.match(String(error.body), /target is targetZones joined with commas/);
      return true;
    });
  });

  it("keeps every one of eight racing status updates: a conflict re-reads and re-applies, no update is lost", async () => {
    await ensureFor(db, "race");
    const racer = new MigrationJournal(kubeconfig, { seal: TEST_SEAL, conflictAttempts: 20 });
    let mutations = 0;
    const claims = Array.from({ length: 8 }, (_, index) => `data-db-${index}`);
    await Promise.all(claims.map((claim) => racer.updateStatus(NAMESPACE, "db-race", (status) => {
      mutations++;
      const volume: VolumeProgress = { claim, snapshot: `s-${claim}`, state: "snapshotted" };
      status.volumes = [...(status.volumes ?? []), volume];
      status.step = "snapshot";
    })));
    const stored = await journal.read(NAMESPACE, "db-race");
    assert.deepEqual(stored?.status?.volumes?.map((volume) => volume.claim).sort(), claims);
    assert.equal(stored.status.phase, "Pending");
    assert.ok(mutations > claims.length, `expected conflicts to be retried, saw ${mutations} mutations for ${claims.length} writers`);
  });

  it("writes nothing when a status mutation changes nothing", async () => {
    const before = await journal.read(NAMESPACE, "db-m1");
    const after = await journal.updateStatus(NAMESPACE, "db-m1", (status) => {
      status.phase = "Pending";
    });
    assert.equal(after.metadata.resourceVersion, before?.metadata.resourceVersion);
  });

  it("stores standard conditions, moving lastTransitionTime only when the status flips", async () => {
    await ensureFor(db, "cond");
    const write = (conditionStatus: "True" | "False", at: string) =>
      journal.updateStatus(NAMESPACE, "db-cond", (status) => {
        setCondition(status, { type: "Snapshotted", status: conditionStatus, reason: "SnapshotsAvailable", message: `at ${at}` }, new Date(at));
      });
    await write("False", "2030-01-01T00:00:00Z");
    const same = await write("False", "2030-01-01T00:05:00Z");
    assert.deepEqual(same.status?.conditions, [{ type: "Snapshotted", status: "False", reason: "SnapshotsAvailable", message: "at 2030-01-01T00:05:00Z", lastTransitionTime: "2030-01-01T00:00:00Z" }]);
    const flipped = await write("True", "2030-01-01T00:09:00Z");
    assert.equal(flipped.status?.conditions?.[0]?.lastTransitionTime, "2030-01-01T00:09:00Z");
  });

  it("shows STATEFULSET, TARGET, PHASE, STEP and AGE in kubectl get zonemigrations", async () => {
    await journal.updateStatus(NAMESPACE, "db-m1", (status) => {
      status.phase = "Running";
      status.step = "snapshot";
      status.startedAt = new Date().toISOString();
    });
    const { stdout } = await run(join(plane.binDir, "kubectl"), ["--kubeconfig", plane.kubeconfig, "get", "zm", "-n", NAMESPACE, "db-m1"]);
    const [header, row] = stdout.trim().split("\n").map((line) => line.trim().split(/\s{2,}/));
    assert.deepEqual(header, ["NAME", "STATEFULSET", "TARGET", "PHASE", "STEP", "AGE"]);
    assert.deepEqual(row?.slice(0, 5), ["db-m1", "db", "cn-shanghai-g,cn-shanghai-m", "Running", "snapshot"]);
    assert.match(row[5] ?? "", /^\d+s$/);
  });

  it("writes the status annotations, and an identical second write leaves the resourceVersion alone", async () => {
    const apps = kubeconfig.makeApiClient(AppsV1Api);
    const changed = await writeStatefulSetStatus(kubeconfig, NAMESPACE, "db", { status: "Running", step: "snapshot", message: "snapshotting 2 disks\n(of 2)" });
    assert.equal(changed, true);
    const first = await apps.readNamespacedStatefulSet({ namespace: NAMESPACE, name: "db" });
    assert.equal(first.metadata?.annotations?.[OWNED_ANNOTATIONS.status], "Running");
    assert.equal(first.metadata.annotations[OWNED_ANNOTATIONS.step], "snapshot");
    assert.equal(first.metadata.annotations[OWNED_ANNOTATIONS.message], "snapshotting 2 disks (of 2)");
    assert.equal(first.metadata.managedFields?.some((entry) => entry.manager === "zoneferry-runner"), true);

    assert.equal(await writeStatefulSetStatus(kubeconfig, NAMESPACE, "db", { status: "Running", step: "snapshot", message: "snapshotting 2 disks (of 2)" }), false);
    const second = await apps.readNamespacedStatefulSet({ namespace: NAMESPACE, name: "db" });
    assert.equal(second.metadata?.resourceVersion, first.metadata.resourceVersion);

    await writeStatefulSetStatus(kubeconfig, NAMESPACE, "db", { status: "Succeeded", message: null });
    const third = await apps.readNamespacedStatefulSet({ namespace: NAMESPACE, name: "db" });
    assert.equal(third.metadata?.annotations?.[OWNED_ANNOTATIONS.status], "Succeeded");
    assert.equal(third.metadata.annotations[OWNED_ANNOTATIONS.step], "snapshot");
    assert.equal(third.metadata.annotations[OWNED_ANNOTATIONS.message], undefined);
  });

  it("records a ZoneferryStep Event on the StatefulSet, and counts a repeat on the same Event", async () => {
    const step = { reason: "ZoneferryStep", message: "migration m1: snapshot started", type: "Normal" } as const;
    const first = await recordEvent(kubeconfig, db, step);
    const again = await recordEvent(kubeconfig, db, step);
    await recordEvent(kubeconfig, db, { reason: "ZoneferryFailed", message: "migration m1: ready timeout", type: "Warning" });
    assert.equal(again.metadata.name, first.metadata.name);
    assert.equal(again.count, 2);

    const events = await kubeconfig.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: NAMESPACE, fieldSelector: `involvedObject.uid=${db.metadata!.uid!}` });
    const byReason = new Map(events.items.map((event) => [event.reason, event]));
    assert.equal(events.items.length, 2);
    const recorded = byReason.get("ZoneferryStep");
    assert.equal(recorded?.message, "migration m1: snapshot started");
    assert.equal(recorded.type, "Normal");
    assert.equal(recorded.count, 2);
    assert.equal(recorded.involvedObject.kind, "StatefulSet");
    assert.equal(recorded.involvedObject.name, "db");
    assert.equal(recorded.reportingComponent, "zoneferry-runner");
    assert.equal(byReason.get("ZoneferryFailed")?.type, "Warning");
  });

  it("lists only the journals whose phase is not terminal, in every namespace", async () => {
    await ensureNamespace(kubeconfig, "other");
    await seed(kubeconfig, { statefulSets: [{ ...statefulSet({ name: "cache" }), metadata: { name: "cache", namespace: "other" } }] });
    const cache = await kubeconfig.makeApiClient(AppsV1Api).readNamespacedStatefulSet({ namespace: "other", name: "cache" });
    const phases = { running: "Running", rolling: "RollingBack", done: "Succeeded", failed: "Failed", stuck: "RollbackFailed" } as const;
    for (const [id, phase] of Object.entries(phases)) {
      await ensureFor(db, `p-${id}`);
      await journal.updateStatus(NAMESPACE, `db-p-${id}`, (status) => {
        status.phase = phase;
      });
    }
    await ensureFor(cache, "elsewhere", "other");

    const active = await journal.listActive();
    const names = active.map((item) => `${item.metadata.namespace!}/${item.metadata.name!}`).sort();
    assert.deepEqual(names, ["other/cache-elsewhere", "shop/db-cond", "shop/db-m1", "shop/db-p-rolling", "shop/db-p-running", "shop/db-race"]);
    // The webhook's partial type reads the same objects.
    const asCore: ZoneMigration[] = active;
    assert.equal(activeZoneMigration(asCore, "cache")?.metadata?.name, "cache-elsewhere");
  });

  it("within one run of a step, reads the journal once and starts each status write from the last answer; a stale one costs a retry, not a write", async () => {
    /** Counts the API server's GETs of one journal. */
    class Counting extends KubeConfig {
      gets = 0;
      override async applySecurityAuthentication(context: Parameters<KubeConfig["applySecurityAuthentication"]>[0]): Promise<void> {
        if (context.getHttpMethod() === "GET" && context.getUrl().includes("/zonemigrations/db-memo")) this.gets++;
        await super.applySecurityAuthentication(context);
      }
    }
    const counting = new Counting();
    counting.loadFromString(kubeconfig.exportConfig());
    const once = memoized(new MigrationJournal(counting, { seal: TEST_SEAL }));
    await ensureFor(db, "memo");
    await withinStep({ step: "protect", phase: "forward", part: "work" }, async () => {
      await once.read(NAMESPACE, "db-memo");
      await once.read(NAMESPACE, "db-memo");
      await once.updateStatus(NAMESPACE, "db-memo", (status) => { status.message = "one"; });
      await once.updateStatus(NAMESPACE, "db-memo", (status) => { status.message = "two"; });
      assert.equal((await once.read(NAMESPACE, "db-memo"))?.status?.message, "two");
    });
    assert.equal(counting.gets, 1, "one read for two reads and two writes");
    await withinStep({ step: "protect", phase: "forward", part: "work" }, async () => {
      await once.read(NAMESPACE, "db-memo");
      // Another writer after this run's read: the remembered resourceVersion is stale.
      await journal.updateStatus(NAMESPACE, "db-memo", (status) => { status.step = "elsewhere"; });
      await once.updateStatus(NAMESPACE, "db-memo", (status) => { status.message = "three"; });
    });
    assert.equal(counting.gets, 3, "a new run reads afresh; the conflict read again");
    const final = await journal.read(NAMESPACE, "db-memo");
    assert.deepEqual([final?.status?.message, final?.status?.step], ["three", "elsewhere"], "this write landed, and the other writer's change is kept");
  });
});
