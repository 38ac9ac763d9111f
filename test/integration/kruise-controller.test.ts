/**
 * The sandbox's stand-in for OpenKruise's Advanced StatefulSet controller on a real cluster
 * (etcd, kube-apiserver, controller manager with the garbage collector, scheduler, kwok nodes that
 * make pods Running and Ready): one rule of kruise per test. Claims bind to a pool of static PVs.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import {
  AdmissionregistrationV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type V1PersistentVolumeClaim,
  type V1Pod,
} from "@kubernetes/client-node";
import { pino } from "pino";
import { startCluster, type Cluster } from "../../sandbox/cluster.ts";
import { controlPlaneBinaries } from "../../sandbox/control-plane.ts";
import { installAdvancedStatefulSetCrd, startKruiseController, type KruiseController } from "../../sandbox/kruise-controller/index.ts";
import { waitFor } from "../../sandbox/processes.ts";
import { advancedSet, firstEvent, recordPodEvents, staticVolumePool, type SetOptions } from "../support/kruise-sets.ts";

const NAMESPACE = "kruise";
const WAIT_MS = 30_000;
const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
/** client-node's models are class instances; deepStrictEqual compares prototypes too. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null));
const RESOURCE = { group: "apps.kruise.io", version: "v1beta1", plural: "statefulsets", namespace: NAMESPACE } as const;

interface SetStatus {
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  currentReplicas?: number;
  updatedReplicas?: number;
  updatedReadyReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  observedGeneration?: number;
  labelSelector?: string;
}
interface StoredSet {
  metadata: { uid: string; generation: number };
  status?: SetStatus;
}

describe("the sandbox's stand-in for kruise's Advanced StatefulSet controller", () => {
  let cluster: Cluster | undefined;
  let controller: KruiseController | undefined;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => { logs.push(JSON.parse(line) as Record<string, unknown>); } });

  before(async () => {
    cluster = await startCluster(controlPlaneBinaries(process.env));
    core = cluster.kubeconfig.makeApiClient(CoreV1Api);
    custom = cluster.kubeconfig.makeApiClient(CustomObjectsApi);
    await installAdvancedStatefulSetCrd(cluster.kubeconfig);
    // Twice: an idempotent install.
    await installAdvancedStatefulSetCrd(cluster.kubeconfig);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    await staticVolumePool(cluster.kubeconfig, 40);
    controller = await startKruiseController(cluster.kubeconfig, { logger, resyncMs: 500 });
  });

  // Each stop runs even when one before it fails: no etcd, kube-* or kwok may outlive the file.
  after(async () => {
    try {
      await controller?.stop();
    } finally {
      await cluster?.stop();
    }
  });

  const create = async (name: string, options: SetOptions = {}): Promise<void> => {
    await custom.createNamespacedCustomObject({ ...RESOURCE, body: advancedSet(NAMESPACE, name, options) });
  };
  const patchSpec = async (name: string, spec: Record<string, unknown>): Promise<void> => {
    await custom.patchNamespacedCustomObject({ ...RESOURCE, name, body: { spec } }, MERGE);
  };
  const read = async (name: string): Promise<StoredSet> => (await custom.getNamespacedCustomObject({ ...RESOURCE, name })) as StoredSet;
  const pods = async (name: string): Promise<V1Pod[]> => (await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `app=${name}` })).items;
  const names = (items: readonly V1Pod[]): string[] => items.map((pod) => pod.metadata!.name!).sort();
  const ready = (pod: V1Pod): boolean => pod.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") === true;
  const claim = (name: string): Promise<V1PersistentVolumeClaim> => core.readNamespacedPersistentVolumeClaim({ name, namespace: NAMESPACE });
  const claimGone = async (name: string): Promise<boolean> => (await core.listNamespacedPersistentVolumeClaim({ namespace: NAMESPACE })).items.every((item) => item.metadata?.name !== name);
  /** Waits until the set's pods are exactly `expected`, all Ready and not terminating. */
  const waitForPods = async (name: string, expected: readonly string[]): Promise<V1Pod[]> => {
    let last: V1Pod[] = [];
    await waitFor(async () => {
      last = await pods(name);
      return JSON.stringify(names(last)) === JSON.stringify([...expected].sort()) && last.every((pod) => ready(pod) && pod.metadata?.deletionTimestamp === undefined);
    }, WAIT_MS, () => `pods of ${name}: wanted ${expected.join(", ")} Ready, have ${last.map((pod) => `${pod.metadata?.name}(${pod.status?.phase}, ready=${ready(pod)})`).join(", ")}`);
    return last;
  };
  const waitForStatus = async (name: string, check: (status: SetStatus) => boolean): Promise<SetStatus> => {
    let last: SetStatus = {};
    await waitFor(async () => {
      last = (await read(name)).status ?? {};
      return check(last);
    }, WAIT_MS, () => `status of ${name}: ${JSON.stringify(last)}`);
    return last;
  };
  const revisionOf = (pod: V1Pod): string => pod.metadata?.labels?.["controller-revision-hash"] ?? "";
  const ungate = (pod: string): Promise<unknown> => core.patchNamespacedPod({ name: pod, namespace: NAMESPACE, body: { spec: { schedulingGates: [] } } }, MERGE);

  it("names pods <set>-<ordinal> and claims <template>-<set>-<ordinal>, with kruise's labels, hostname, subdomain and owner", async () => {
    await create("web", { replicas: 2, claims: true });
    const [web0, web1] = await waitForPods("web", ["web-0", "web-1"]);
    const set = await read("web");
    for (const [ordinal, pod] of [web0!, web1!].entries()) {
      const name = `web-${ordinal}`;
      assert.equal(pod.metadata?.name, name);
      assert.equal(pod.metadata.labels?.["statefulset.kubernetes.io/pod-name"], name);
      assert.equal(pod.metadata.labels["apps.kubernetes.io/pod-index"], String(ordinal));
      assert.equal(pod.metadata.labels["tier"], "test");
      assert.match(revisionOf(pod), /^web-[0-9a-f]{10}$/);
      assert.equal(pod.spec?.hostname, name);
      assert.equal(pod.spec.subdomain, "web");
      assert.deepEqual(plain(pod.metadata.ownerReferences), [{ apiVersion: "apps.kruise.io/v1beta1", kind: "StatefulSet", name: "web", uid: set.metadata.uid, controller: true, blockOwnerDeletion: true }]);
      assert.deepEqual(plain(pod.spec.volumes?.find((volume) => volume.name === "data")?.persistentVolumeClaim), { claimName: `data-web-${ordinal}` });
      const pvc = await claim(`data-web-${ordinal}`);
      assert.deepEqual(pvc.metadata?.labels, { app: "web" });
      // Retain/Retain by default: the set does not own its claims.
      assert.equal(pvc.metadata.ownerReferences, undefined);
    }
  });

  it("runs pods 0, 2 and 3 for 3 replicas with reserveOrdinals [1]", async () => {
    await create("reserve", { replicas: 3, spec: { reserveOrdinals: [1] } });
    await waitForPods("reserve", ["reserve-0", "reserve-2", "reserve-3"]);
  });

  it("numbers pods from ordinals.start", async () => {
    await create("start", { replicas: 2, spec: { ordinals: { start: 5 }, podManagementPolicy: "Parallel" } });
    await waitForPods("start", ["start-5", "start-6"]);
  });

  it("OrderedReady creates pod k+1 only once pod k is Running and Ready; Parallel creates all at once", async () => {
    await create("ordered", { replicas: 3, gated: true });
    await create("parallel", { replicas: 3, gated: true, spec: { podManagementPolicy: "Parallel" } });
    await waitFor(async () => (await pods("parallel")).length === 3, WAIT_MS, () => "Parallel did not create its 3 gated pods");
    // Pod 0 cannot schedule (a scheduling gate), so it never turns Ready and pod 1 must not appear.
    await sleep(1_500);
    assert.deepEqual(names(await pods("ordered")), ["ordered-0"]);
    await ungate("ordered-0");
    await waitFor(async () => (await pods("ordered")).length === 2, WAIT_MS, () => "ordered-1 not created after ordered-0 turned Ready");
    await sleep(1_500);
    assert.deepEqual(names(await pods("ordered")), ["ordered-0", "ordered-1"]);
    await ungate("ordered-1");
    await waitFor(async () => (await pods("ordered")).length === 3, WAIT_MS, () => "ordered-2 not created after ordered-1 turned Ready");
    await ungate("ordered-2");
    await waitForPods("ordered", ["ordered-0", "ordered-1", "ordered-2"]);
  });

  it("scales down highest ordinal first, one pod at a time, each after the one above is gone", async () => {
    await create("down", { replicas: 3 });
    await waitForPods("down", ["down-0", "down-1", "down-2"]);
    const recorder = await recordPodEvents(cluster!.kubeconfig, NAMESPACE);
    try {
      await patchSpec("down", { replicas: 1 });
      await waitForPods("down", ["down-0"]);
    } finally {
      recorder.stop();
    }
    const events = recorder.events.filter((event) => event.name.startsWith("down-"));
    const gone2 = firstEvent(events, (event) => event.name === "down-2" && event.type === "DELETED");
    const going1 = firstEvent(events, (event) => event.name === "down-1" && (event.terminating || event.type === "DELETED"));
    assert.ok(gone2 >= 0 && going1 > gone2, `down-1 was deleted before down-2 was gone: ${JSON.stringify(events)}`);
    assert.equal(firstEvent(events, (event) => event.name === "down-0" && event.terminating), -1);
  });

  it("scales through the scale subresource: pods and status.replicas follow, the selector is reported", async () => {
    await create("scaled", { replicas: 1, spec: { podManagementPolicy: "Parallel" } });
    await waitForPods("scaled", ["scaled-0"]);
    await custom.patchNamespacedCustomObjectScale({ ...RESOURCE, name: "scaled", body: { spec: { replicas: 3 } } }, MERGE);
    await waitForPods("scaled", ["scaled-0", "scaled-1", "scaled-2"]);
    await waitForStatus("scaled", (status) => status.replicas === 3 && status.readyReplicas === 3);
    const scale = (await custom.getNamespacedCustomObjectScale({ ...RESOURCE, name: "scaled" })) as { spec?: { replicas?: number }; status?: { replicas?: number; selector?: string } };
    assert.deepEqual({ spec: scale.spec?.replicas, status: scale.status?.replicas, selector: scale.status?.selector }, { spec: 3, status: 3, selector: "app=scaled" });
  });

  it("re-creates a pod deleted by someone else under its name, with the same claim", async () => {
    await create("again", { replicas: 2, claims: true });
    const before = await waitForPods("again", ["again-0", "again-1"]);
    const claimUid = (await claim("data-again-0")).metadata?.uid;
    const oldUid = before.find((pod) => pod.metadata?.name === "again-0")!.metadata?.uid;
    await core.deleteNamespacedPod({ name: "again-0", namespace: NAMESPACE });
    await waitFor(async () => {
      const pod = (await pods("again")).find((item) => item.metadata?.name === "again-0");
      return pod !== undefined && pod.metadata?.uid !== oldUid && ready(pod);
    }, WAIT_MS, () => "again-0 was not re-created");
    const recreated = (await pods("again")).find((item) => item.metadata?.name === "again-0")!;
    assert.deepEqual(plain(recreated.spec?.volumes?.find((volume) => volume.name === "data")?.persistentVolumeClaim), { claimName: "data-again-0" });
    assert.equal((await claim("data-again-0")).metadata?.uid, claimUid);
  });

  it("rolls a template change from the highest ordinal down, one Ready pod at a time, and reports revisions in status", async () => {
    await create("roll", { replicas: 3 });
    await waitForPods("roll", ["roll-0", "roll-1", "roll-2"]);
    const first = await waitForStatus("roll", (status) => status.readyReplicas === 3);
    assert.equal(first.currentRevision, first.updateRevision);
    assert.deepEqual({ replicas: first.replicas, available: first.availableReplicas, updated: first.updatedReplicas, current: first.currentReplicas, selector: first.labelSelector }, { replicas: 3, available: 3, updated: 3, current: 3, selector: "app=roll" });
    const recorder = await recordPodEvents(cluster!.kubeconfig, NAMESPACE);
    let rolled: SetStatus;
    try {
      await patchSpec("roll", { template: { metadata: { labels: { app: "roll", tier: "test", version: "2" } } } });
      rolled = await waitForStatus("roll", (status) => status.updateRevision !== first.updateRevision && status.currentRevision === status.updateRevision && status.updatedReadyReplicas === 3);
    } finally {
      recorder.stop();
    }
    const stored = await read("roll");
    assert.equal(rolled.observedGeneration, stored.metadata.generation);
    for (const pod of await pods("roll")) assert.equal(revisionOf(pod), rolled.updateRevision);
    const events = recorder.events.filter((event) => event.name.startsWith("roll-"));
    const deleted = (name: string): number => firstEvent(events, (event) => event.name === name && (event.terminating || event.type === "DELETED"));
    const readyAgain = (name: string, after: number): number => events.findIndex((event, index) => index > after && event.name === name && event.type !== "DELETED" && event.ready && !event.terminating);
    assert.ok(deleted("roll-2") < deleted("roll-1") && deleted("roll-1") < deleted("roll-0"), `not highest first: ${JSON.stringify(events)}`);
    assert.ok(readyAgain("roll-2", deleted("roll-2")) < deleted("roll-1"), "roll-1 went before roll-2 was Ready again");
    const revisions = await cluster!.kubeconfig.makeApiClient(AppsV1Api).listNamespacedControllerRevision({ namespace: NAMESPACE });
    const ownNames = revisions.items.filter((item) => item.metadata?.ownerReferences?.[0]?.uid === stored.metadata.uid).map((item) => item.metadata?.name);
    assert.deepEqual(ownNames.sort(), [first.updateRevision, rolled.updateRevision].sort());
  });

  it("partition keeps lower ordinals on the old revision, even when re-created, and paused stops a rollout", async () => {
    await create("part", { replicas: 3, spec: { updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } } } });
    await waitForPods("part", ["part-0", "part-1", "part-2"]);
    const old = (await waitForStatus("part", (status) => status.readyReplicas === 3)).updateRevision!;
    await patchSpec("part", { template: { metadata: { labels: { app: "part", tier: "test", version: "2" } } } });
    const partial = await waitForStatus("part", (status) => status.updatedReadyReplicas === 2);
    assert.deepEqual({ current: partial.currentRevision, currentReplicas: partial.currentReplicas, updated: partial.updatedReplicas }, { current: old, currentReplicas: 1, updated: 2 });
    const byName = async (): Promise<Record<string, string>> => Object.fromEntries((await pods("part")).map((pod) => [pod.metadata!.name!, revisionOf(pod)]));
    assert.deepEqual(await byName(), { "part-0": old, "part-1": partial.updateRevision, "part-2": partial.updateRevision });
    // Re-created below the partition: from the current revision's ControllerRevision.
    await core.deleteNamespacedPod({ name: "part-0", namespace: NAMESPACE });
    await sleep(300);
    await waitForPods("part", ["part-0", "part-1", "part-2"]);
    assert.equal((await byName())["part-0"], old);
    // Paused: nothing rolls, though the partition now allows all.
    await patchSpec("part", { updateStrategy: { rollingUpdate: { partition: 0, paused: true } } });
    await sleep(2_000);
    assert.equal((await byName())["part-0"], old);
    await patchSpec("part", { updateStrategy: { rollingUpdate: { paused: false } } });
    const done = await waitForStatus("part", (status) => status.updatedReadyReplicas === 3 && status.currentRevision === status.updateRevision);
    assert.notEqual(done.currentRevision, old);
  });

  it("OnDelete never deletes a pod for an update; a pod deleted by hand comes back on the new revision", async () => {
    await create("ondelete", { replicas: 2, spec: { podManagementPolicy: "Parallel", updateStrategy: { type: "OnDelete" } } });
    await waitForPods("ondelete", ["ondelete-0", "ondelete-1"]);
    const old = (await waitForStatus("ondelete", (status) => status.readyReplicas === 2)).updateRevision;
    await patchSpec("ondelete", { template: { metadata: { labels: { app: "ondelete", tier: "test", version: "2" } } } });
    const next = await waitForStatus("ondelete", (status) => status.updateRevision !== old);
    await sleep(1_500);
    assert.deepEqual((await pods("ondelete")).map(revisionOf), [old, old]);
    await core.deleteNamespacedPod({ name: "ondelete-1", namespace: NAMESPACE });
    await waitFor(async () => (await pods("ondelete")).some((pod) => pod.metadata?.name === "ondelete-1" && revisionOf(pod) === next.updateRevision), WAIT_MS, () => "ondelete-1 not re-created on the new revision");
  });

  it("retention policy: whenDeleted Delete makes the set own its claims, Retain takes that off, whenScaled Delete collects a condemned pod's claims", async () => {
    await create("keep", { replicas: 2, claims: true, spec: { persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Retain" } } });
    await waitForPods("keep", ["keep-0", "keep-1"]);
    const { uid } = (await read("keep")).metadata;
    for (const name of ["data-keep-0", "data-keep-1"]) assert.deepEqual((await claim(name)).metadata?.ownerReferences?.map((ref) => ref.uid), [uid]);
    // Back to Retain (what zoneferry sets during a migration): the references are removed.
    await patchSpec("keep", { persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" } });
    await waitFor(async () => (await claim("data-keep-0")).metadata?.ownerReferences === undefined && (await claim("data-keep-1")).metadata?.ownerReferences === undefined, WAIT_MS, () => "owner references not removed");
    // whenScaled Delete: scaling down gives keep-1 its claim, and the garbage collector takes it with the pod.
    await patchSpec("keep", { persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Delete" } });
    await patchSpec("keep", { replicas: 1 });
    await waitForPods("keep", ["keep-0"]);
    await waitFor(() => claimGone("data-keep-1"), WAIT_MS, () => "data-keep-1 not collected after scale-down");
    assert.equal((await claim("data-keep-0")).metadata?.ownerReferences, undefined);
    // whenDeleted Delete again, then the set goes: pods and claims go by garbage collection.
    await patchSpec("keep", { persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Retain" } });
    await waitFor(async () => (await claim("data-keep-0")).metadata?.ownerReferences?.[0]?.uid === uid, WAIT_MS, () => "set's reference not added back");
    await custom.deleteNamespacedCustomObject({ ...RESOURCE, name: "keep" });
    await waitFor(async () => (await pods("keep")).length === 0 && (await claimGone("data-keep-0")), WAIT_MS, () => "pods and claims of a deleted set not collected");
  });

  it("survives a refused pod create without crashing or hot-looping, and the pod appears once the refusal is lifted", async () => {
    const admission = cluster!.kubeconfig.makeApiClient(AdmissionregistrationV1Api);
    await admission.createValidatingAdmissionPolicy({
      body: {
        metadata: { name: "refuse-held-0" },
        spec: {
          failurePolicy: "Fail",
          matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }] },
          validations: [{ expression: "object.metadata.name != 'held-0'", message: "held-0 is held down", reason: "Forbidden" }],
        },
      },
    });
    await admission.createValidatingAdmissionPolicyBinding({ body: { metadata: { name: "refuse-held-0" }, spec: { policyName: "refuse-held-0", validationActions: ["Deny"] } } });
    const probe = { metadata: { name: "held-0", namespace: NAMESPACE }, spec: { containers: [{ name: "app", image: "registry.example/app:1" }] } };
    await waitFor(async () => {
      try {
        await core.createNamespacedPod({ namespace: NAMESPACE, body: probe, dryRun: "All" });
        return false;
      } catch {
        return true;
      }
    }, WAIT_MS, () => "the admission policy never took effect");
    const refusals = (): Record<string, unknown>[] => logs.filter((line) => line["pod"] === "held-0" && line["msg"] === "pod create failed; retrying after a backoff");
    await create("held", { replicas: 1 });
    await waitFor(() => Promise.resolve(refusals().length >= 1), WAIT_MS, () => "no refusal logged");
    await sleep(3_000);
    assert.equal(refusals()[0]?.["status"], 403);
    // Backoff from 0.5 s, doubling: a handful of tries in ~3 s, not hundreds.
    assert.ok(refusals().length <= 6, `${refusals().length} creates in ~3 s`);
    assert.deepEqual(await pods("held"), []);
    await admission.deleteValidatingAdmissionPolicyBinding({ name: "refuse-held-0" });
    await waitForPods("held", ["held-0"]);
    // The controller kept serving others meanwhile.
    await patchSpec("reserve", { replicas: 2 });
    await waitForPods("reserve", ["reserve-0", "reserve-2"]);
  });
});
