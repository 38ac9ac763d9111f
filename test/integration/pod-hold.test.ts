/**
 * The two Kubernetes primitives strategy Rolling stands on, on a real cluster (kube-apiserver,
 * controller manager, scheduler, kwok nodes) with the chart's admission objects registered as the
 * sandbox registers them: the replica hold (the chart's MutatingAdmissionPolicy gates a pod at
 * CREATE when the runner asked for it, runner/pod-hold.ts) and the eviction that honours
 * PodDisruptionBudgets (runner/eviction.ts).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, PolicyV1Api, setHeaderOptions, type V1Pod, type V1StatefulSet } from "@kubernetes/client-node";
import { pino } from "pino";
import type { DiskCloud } from "../../core/disk-cloud.ts";
import { migrationContext, type MigrationContext } from "../../runner/context.ts";
import { evictPod } from "../../runner/eviction.ts";
import { MigrationJournal } from "../../runner/journal/journal.ts";
import { HELD_PODS_CONFIGMAP, holdPod, isHeld, releasePod } from "../../runner/pod-hold.ts";
import { isReady } from "../../runner/pod-health.ts";
import { startCluster, type Cluster } from "../../sandbox/cluster.ts";
import { controlPlaneBinaries } from "../../sandbox/control-plane.ts";
import { waitFor } from "../../sandbox/processes.ts";
import { registerWebhookConfigurations } from "../../sandbox/webhook-registration.ts";
import { makeCerts } from "../support/certs.ts";
import { TEST_SEAL } from "../support/journal-seal.ts";

const RUNNER = "zoneferry-runner";
const NAMESPACE = "rolling";
/** A namespace with no zoneferry-held-pods ConfigMap. */
const ELSEWHERE = "elsewhere";
const MIGRATION_ID = "0123456789ab";
const GATE = "zoneferry.io/rebind";

function statefulSet(name: string, replicas: number): V1StatefulSet {
  return {
    metadata: { name, namespace: NAMESPACE, annotations: { "zoneferry.io/migration-id": MIGRATION_ID, "zoneferry.io/strategy": "Rolling" } },
    spec: {
      replicas,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "main", image: "registry.k8s.io/pause:3.10" }] } },
    },
  };
}

describe("holding a replica with a scheduling gate and evicting through the budget", () => {
  let cluster: Cluster;
  let core: CoreV1Api;
  const contexts = new Map<string, MigrationContext>();
  const runnerOf = (name: string): MigrationContext => contexts.get(name)!;

  const podOf = (name: string, namespace = NAMESPACE): Promise<V1Pod | undefined> =>
    core.readNamespacedPod({ namespace, name }).catch((error: unknown) => {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    });
  const uidOf = async (name: string): Promise<string> => (await podOf(name))!.metadata!.uid!;
  /** The pod of that name the StatefulSet made after `uid` went. */
  const replaced = async (name: string, uid: string): Promise<V1Pod> => {
    let pod: V1Pod | undefined;
    await waitFor(async () => {
      pod = await podOf(name);
      return pod?.metadata?.uid !== undefined && pod.metadata.uid !== uid && pod.metadata.deletionTimestamp === undefined;
    }, 30_000, () => `${name} was not made again`);
    return pod!;
  };
  const untilReady = (name: string): Promise<void> =>
    waitFor(async () => {
      const pod = await podOf(name);
      return pod !== undefined && pod.metadata?.deletionTimestamp === undefined && isReady(pod);
    }, 30_000, () => `${name} not Ready`);
  /** A replica as the StatefulSet controller would make it, admitted (dry run) but not stored. */
  const dryRunReplica = async (name: string, owner: { name: string; uid: string } | undefined, namespace = NAMESPACE, gates: string[] = []): Promise<V1Pod> =>
    core.createNamespacedPod({
      namespace,
      dryRun: "All",
      body: {
        metadata: { name, namespace, ...(owner === undefined ? {} : { ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", ...owner, controller: true }] }) },
        spec: { containers: [{ name: "main", image: "registry.k8s.io/pause:3.10" }], ...(gates.length === 0 ? {} : { schedulingGates: gates.map((gate) => ({ name: gate })) }) },
      },
    });
  const gatesOf = (pod: V1Pod | undefined): string[] => (pod?.spec?.schedulingGates ?? []).map((gate) => gate.name);

  before(async () => {
    cluster = await startCluster(controlPlaneBinaries(process.env), { zones: ["cn-shanghai-b"], nodesPerZone: 2 });
    const admin = cluster.kubeconfig;
    core = admin.makeApiClient(CoreV1Api);
    for (const namespace of [NAMESPACE, ELSEWHERE]) await core.createNamespace({ body: { metadata: { name: namespace } } });
    // Before the webhooks are registered: nothing answers at their URL, and a StatefulSet with
    // zoneferry.io/ annotations written by anyone but the runner would be sent there.
    const apps = admin.makeApiClient(AppsV1Api);
    for (const sts of [statefulSet("db", 3), statefulSet("web", 3)]) await apps.createNamespacedStatefulSet({ namespace: NAMESPACE, body: sts });
    await admin.makeApiClient(PolicyV1Api).createNamespacedPodDisruptionBudget({
      namespace: NAMESPACE,
      body: { metadata: { name: "web-budget" }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: "web" } } } },
    });
    await registerWebhookConfigurations(admin, { url: "https://127.0.0.1:9", caPem: readFileSync(makeCerts().caFile, "utf8"), runnerIdentity: RUNNER });
    const runner = new KubeConfig();
    runner.loadFromFile(cluster.plane.kubeconfigFor(RUNNER, ["system:masters"]));
    for (const name of ["db", "web"]) {
      const job = { migrationId: MIGRATION_ID, namespace: NAMESPACE, statefulSet: name, targetZones: ["cn-shanghai-g"], retry: "", requestedBy: "pod-hold-test" };
      contexts.set(name, migrationContext({ job, kubeconfig: runner, cloud: {} as DiskCloud, journal: new MigrationJournal(runner, { seal: TEST_SEAL }), logger: pino({ level: "silent" }) }));
      for (let ordinal = 0; ordinal < 3; ordinal++) await untilReady(`${name}-${ordinal}`);
    }
  });

  after(async () => { await cluster.stop(); });

  it("gates the replica it was asked to hold when the StatefulSet makes it again after an eviction: unscheduled, while the others run", async () => {
    await holdPod(runnerOf("db"), "db-2");
    const before = await uidOf("db-2");
    assert.equal(await evictPod(runnerOf("db"), "db-2", { uid: before }), "evicted");
    const again = await replaced("db-2", before);
    assert.deepEqual(gatesOf(again), [GATE]);
    assert.equal(isHeld(again), true);
    // What `kubectl get pod` shows, for as long as the hold stays: SchedulingGated, on no node.
    // kwok deletes an evicted pod by name with no uid precondition (a kubelet gives one), so a late
    // delete of its may take the held pod too; the StatefulSet makes it again, and it is held again.
    const deadline = Date.now() + 3_000;
    while (Date.now() < deadline) {
      const held = await podOf("db-2");
      if (held !== undefined && held.metadata?.deletionTimestamp === undefined) {
        assert.deepEqual(gatesOf(held), [GATE]);
        assert.equal(held.spec?.nodeName, undefined);
        assert.equal(held.status?.conditions?.find((condition) => condition.type === "PodScheduled")?.reason, "SchedulingGated");
      }
      await sleep(250);
    }
    for (const other of ["db-0", "db-1"]) {
      const pod = await podOf(other);
      assert.ok(pod?.spec?.nodeName !== undefined && isReady(pod), `${other} runs`);
    }
  });

  it("never gates a pod nobody asked for: another replica made again, a pod of another owner under a held name, a namespace without the ConfigMap", async () => {
    const before = await uidOf("db-1");
    assert.equal(await evictPod(runnerOf("db"), "db-1", { uid: before }), "evicted");
    const again = await replaced("db-1", before);
    assert.deepEqual(gatesOf(again), []);
    await untilReady("db-1");

    await holdPod(runnerOf("db"), "db-3");
    const db = { name: "db", uid: (await cluster.kubeconfig.makeApiClient(AppsV1Api).readNamespacedStatefulSet({ namespace: NAMESPACE, name: "db" })).metadata!.uid! };
    const web = { name: "web", uid: (await cluster.kubeconfig.makeApiClient(AppsV1Api).readNamespacedStatefulSet({ namespace: NAMESPACE, name: "web" })).metadata!.uid! };
    assert.deepEqual(gatesOf(await dryRunReplica("db-3", db)), [GATE], "the replica asked for is gated");
    assert.deepEqual(gatesOf(await dryRunReplica("db-3", undefined)), [], "a bare pod of the held name is not");
    assert.deepEqual(gatesOf(await dryRunReplica("db-3", web)), [], "nor one another StatefulSet controls");
    assert.deepEqual(gatesOf(await dryRunReplica("db-3", db, ELSEWHERE)), [], "nor one in a namespace that asked for nothing");
    await releasePod(runnerOf("db"), "db-3");
    assert.deepEqual(gatesOf(await dryRunReplica("db-3", db)), [], "nor the replica once released");
  });

  it("leaves a replica that already carries the gate as it is: one gate, the others kept", async () => {
    await holdPod(runnerOf("db"), "db-4");
    const db = { name: "db", uid: (await cluster.kubeconfig.makeApiClient(AppsV1Api).readNamespacedStatefulSet({ namespace: NAMESPACE, name: "db" })).metadata!.uid! };
    assert.deepEqual(gatesOf(await dryRunReplica("db-4", db, NAMESPACE, [GATE])), [GATE]);
    assert.deepEqual(gatesOf(await dryRunReplica("db-4", db, NAMESPACE, ["example.com/other"])).sort(), ["example.com/other", GATE].sort());
    await releasePod(runnerOf("db"), "db-4");
  });

  it("lets the held replica schedule and become Ready once released, asks for nothing more, and a later update of it is not gated", async () => {
    const held = await podOf("db-2");
    assert.equal(held !== undefined && isHeld(held), true);
    await releasePod(runnerOf("db"), "db-2");
    await untilReady("db-2");
    const released = await podOf("db-2");
    assert.equal(released?.metadata?.uid, held?.metadata?.uid, "the same pod, not a new one");
    assert.ok(released?.spec?.nodeName !== undefined);
    assert.deepEqual(gatesOf(released), []);
    // Nothing asked for any more: the ConfigMap is gone.
    await assert.rejects(core.readNamespacedConfigMap({ namespace: NAMESPACE, name: HELD_PODS_CONFIGMAP }), (error: { code?: number }) => error.code === 404);
    const labelled = await core.patchNamespacedPod(
      { namespace: NAMESPACE, name: "db-2", body: { metadata: { labels: { touched: "yes" } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    assert.deepEqual(gatesOf(labelled), []);
    // Released again (a re-run after a crash): nothing left to do, the pod is untouched.
    await releasePod(runnerOf("db"), "db-2");
    assert.equal((await podOf("db-2"))?.metadata?.resourceVersion, labelled.metadata?.resourceVersion);
  });

  it("answers an eviction the budget forbids as blocked, naming the budget, while a held replica is down, and evicts once it is back", async (t) => {
    const policy = cluster.kubeconfig.makeApiClient(PolicyV1Api);
    // Up to the disruption controller's DeletionTimeout (2 min): a pod it saw evicted is not counted
    // healthy until it sees that pod deleted, and the pod made again has the same name.
    const allows = async (count: number) => {
      const since = Date.now();
      await waitFor(
        async () => (await policy.readNamespacedPodDisruptionBudget({ namespace: NAMESPACE, name: "web-budget" })).status?.disruptionsAllowed === count,
        150_000,
        () => `web-budget never allowed ${count} disruption(s)`,
      );
      t.diagnostic(`web-budget allowed ${count} after ${Date.now() - since} ms`);
    };
    await allows(1);
    await holdPod(runnerOf("web"), "web-2");
    const held = await uidOf("web-2");
    assert.equal(await evictPod(runnerOf("web"), "web-2", { uid: held }), "evicted");
    assert.equal(isHeld(await replaced("web-2", held)), true);
    await allows(0);

    const serving = await uidOf("web-1");
    const blocked = await evictPod(runnerOf("web"), "web-1", { uid: serving });
    assert.notEqual(blocked, "evicted");
    assert.equal(typeof blocked === "object" && blocked.blockedBy, "web-budget");
    assert.match(typeof blocked === "object" ? blocked.message : "", /The disruption budget web-budget needs 2 healthy pods and has 2 currently/);
    const still = await podOf("web-1");
    assert.ok(still?.metadata?.uid === serving && still.metadata.deletionTimestamp === undefined && isReady(still), "web-1 still serves");

    await releasePod(runnerOf("web"), "web-2");
    await untilReady("web-2");
    await allows(1);
    assert.equal(await evictPod(runnerOf("web"), "web-1", { uid: serving }), "evicted");
    assert.deepEqual(gatesOf(await replaced("web-1", serving)), []);
    await untilReady("web-1");
  });

  it("answers evicted for a pod already gone, and never takes down a pod of the name whose uid is not the one asked", async () => {
    assert.equal(await evictPod(runnerOf("db"), "db-9"), "evicted");
    const before = await uidOf("db-0");
    assert.equal(await evictPod(runnerOf("db"), "db-0", { uid: "00000000-0000-0000-0000-000000000000" }), "evicted");
    const untouched = await podOf("db-0");
    assert.equal(untouched?.metadata?.uid, before);
    assert.equal(untouched.metadata.deletionTimestamp, undefined, "a pod of another uid is not taken down");
  });
});
