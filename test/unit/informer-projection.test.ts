import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type {
  V1LabelSelector,
  V1Node,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1PodDisruptionBudget,
  V1PodSpec,
  V1StatefulSet,
  V1StorageClass,
} from "@kubernetes/client-node";
import { pino } from "pino";
import { SnapshotClusterView, type ClusterObjects } from "../../core/cluster-view.ts";
import { failSafe } from "../../core/kube/resilient-informer.ts";
import { provenCategory, resolveClaims, volumeZone } from "../../core/disk-volumes.ts";
import { requestMigrationId } from "../../core/migration-id.ts";
import { zoneCapacity } from "../../core/node-fit.ts";
import { KRUISE } from "../../core/workload/kinds.ts";
import type { ZoneMigration } from "../../core/zone-migration.ts";
import type { AdmissionRequest } from "../../webhook/admission/review.ts";
import { mutate } from "../../webhook/handlers/mutate.ts";
import type { AdmissionHandler } from "../../webhook/handlers/types.ts";
import { validate } from "../../webhook/handlers/validate.ts";
import {
  projectClaim,
  projectDisruptionBudget,
  projectNode,
  projectStatefulSet,
  projectStorageClass,
  projectVolume,
  projectZoneMigration,
} from "../../webhook/informer-projection.ts";
import { ARGO, RUNNER, scaleRequest, stsRequest, update } from "../support/admission.ts";
import { cloudAnswering, type CloudAnswers } from "../support/cloud-answers.ts";
import { NAMESPACE, advancedStatefulSet, clusterWithDisks, diskClaim, essdStorageClass, nasClaim, node, pendingClaim, statefulSet } from "../support/cluster-fixtures.ts";

const B = "cn-shanghai-b";
const G = "cn-shanghai-g";
const M = "cn-shanghai-m";
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
const DISK_ZONE = "topology.diskplugin.csi.alibabacloud.com/zone";

/** What the API server adds to every object it serves, none of which a check reads. */
function bookkeeping<T extends { metadata?: V1StatefulSet["metadata"] }>(object: T): T {
  const metadata = object.metadata ?? {};
  return {
    ...object,
    metadata: {
      ...metadata,
      uid: metadata.uid ?? `uid-${metadata.name ?? ""}`,
      resourceVersion: "48213",
      creationTimestamp: new Date("2026-11-01T00:00:00Z"),
      labels: { ...metadata.labels, "app.kubernetes.io/managed-by": "Helm" },
      annotations: { ...metadata.annotations, [LAST_APPLIED]: JSON.stringify(object), "meta.helm.sh/release-name": "shop" },
      finalizers: ["kubernetes.io/pvc-protection"],
      managedFields: [{ manager: "kube-controller-manager", operation: "Update", apiVersion: "v1", time: new Date("2026-11-01T00:00:00Z"), fieldsType: "FieldsV1", fieldsV1: { "f:metadata": { "f:labels": {} } } }],
    },
  };
}

/** A Node as the kubelet reports it: the other conditions first, its images, addresses and capacity. */
function servedNode(served: V1Node): V1Node {
  const conditions = served.status?.conditions ?? [];
  return bookkeeping({
    ...served,
    spec: { ...served.spec, podCIDR: "172.20.0.0/26", providerID: "cn-shanghai.i-uf6000000000000001" },
    status: {
      ...served.status,
      conditions: [{ type: "MemoryPressure", status: "False", reason: "KubeletHasSufficientMemory" }, { type: "DiskPressure", status: "False" }, ...conditions.map((condition) => ({ ...condition, reason: "KubeletReady", message: "kubelet is posting ready status" }))],
      addresses: [{ type: "InternalIP", address: "10.0.0.1" }],
      capacity: { cpu: "8", memory: "32Gi" },
      images: [{ names: ["registry.example.com/app@sha256:0123"], sizeBytes: 2_000_000 }],
      nodeInfo: { architecture: "amd64", bootID: "b", containerRuntimeVersion: "containerd://1.6", kernelVersion: "5.10", kubeProxyVersion: "v1.36", kubeletVersion: "v1.36", machineID: "m", operatingSystem: "linux", osImage: "Alibaba Cloud Linux", systemUUID: "s" },
    },
  });
}

/** A PV as ACK's disk CSI driver and the PV controller leave it. */
function servedVolume(served: V1PersistentVolume): V1PersistentVolume {
  const spec = served.spec ?? {};
  const csi = spec.csi === undefined ? {} : { csi: { ...spec.csi, fsType: "ext4", volumeAttributes: { ...spec.csi.volumeAttributes, "csi.storage.k8s.io/pvc/name": "x", "storage.kubernetes.io/csiProvisionerIdentity": "diskplugin" } } };
  return bookkeeping({
    ...served,
    metadata: { ...served.metadata, labels: { ...served.metadata?.labels, "team.example.com/cost-center": "42" } },
    spec: { ...spec, ...csi, mountOptions: ["noatime"], volumeMode: "Filesystem" },
    status: { phase: "Bound", lastPhaseTransitionTime: new Date("2026-11-01T00:00:00Z") },
  });
}

function servedClaim(served: V1PersistentVolumeClaim): V1PersistentVolumeClaim {
  return bookkeeping({
    ...served,
    metadata: { ...served.metadata, annotations: { "pv.kubernetes.io/bind-completed": "yes", "volume.kubernetes.io/selected-node": "node-1" } },
    spec: { ...served.spec, volumeMode: "Filesystem" },
    status: { ...served.status, accessModes: ["ReadWriteOnce"], capacity: { storage: "20Gi" } },
  });
}

type Each<T> = (object: T) => T;

/** Each kind of `objects` through its function; kinds absent stay absent. */
function mapped(objects: ClusterObjects, each: {
  readonly statefulSet: Each<V1StatefulSet>;
  readonly node: Each<V1Node>;
  readonly volume: Each<V1PersistentVolume>;
  readonly claim: Each<V1PersistentVolumeClaim>;
  readonly storageClass: Each<V1StorageClass>;
  readonly zoneMigration: Each<ZoneMigration>;
  readonly disruptionBudget: Each<V1PodDisruptionBudget>;
}): ClusterObjects {
  const map = <T,>(items: readonly T[] | undefined, through: Each<T>): T[] | undefined => items?.map((item) => through(item));
  const kinds: { readonly [K in keyof ClusterObjects]: ClusterObjects[K] | undefined } = {
    statefulSets: map(objects.statefulSets, each.statefulSet),
    advancedStatefulSets: map(objects.advancedStatefulSets, each.statefulSet),
    nodes: map(objects.nodes, each.node),
    persistentVolumes: map(objects.persistentVolumes, each.volume),
    persistentVolumeClaims: map(objects.persistentVolumeClaims, each.claim),
    storageClasses: map(objects.storageClasses, each.storageClass),
    zoneMigrations: map(objects.zoneMigrations, each.zoneMigration),
    disruptionBudgets: map(objects.disruptionBudgets as V1PodDisruptionBudget[] | undefined, each.disruptionBudget),
  };
  return { ...objects, ...Object.fromEntries(Object.entries(kinds).filter(([, items]) => items !== undefined)) };
}

/** Every object of `objects` as the API server would serve it: the view's input, whole. */
function served(objects: ClusterObjects): ClusterObjects {
  return mapped(objects, { statefulSet: bookkeeping, node: servedNode, volume: servedVolume, claim: servedClaim, storageClass: bookkeeping, zoneMigration: bookkeeping, disruptionBudget: bookkeeping });
}

/** What the webhook's informers keep of the same objects. */
function stripped(objects: ClusterObjects): ClusterObjects {
  return mapped(objects, {
    statefulSet: projectStatefulSet,
    node: projectNode,
    volume: projectVolume,
    claim: projectClaim,
    storageClass: projectStorageClass,
    zoneMigration: projectZoneMigration,
    disruptionBudget: projectDisruptionBudget,
  });
}

describe("what the webhook's informers keep of each object", () => {
  it("keeps of a Node its name, every label, the cordon, the taints and the Ready condition's status, and nothing else", () => {
    const whole = servedNode(node("n1", G, { unschedulable: true, taint: "dedicated" }));
    whole.spec!.taints![0]!.timeAdded = new Date("2026-11-01T00:00:00Z");
    assert.deepEqual(projectNode({ apiVersion: "v1", kind: "Node", ...whole }), {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "n1", resourceVersion: "48213", labels: { ...whole.metadata!.labels } },
      spec: { unschedulable: true, taints: [{ key: "dedicated", value: "true", effect: "NoSchedule" }] },
      status: { conditions: [{ type: "Ready", status: "True" }] },
    });
  });

  it("keeps of a Node without a Ready condition an empty list of conditions, which is as not Ready", () => {
    const whole: V1Node = { metadata: { name: "n1" }, status: { conditions: [{ type: "DiskPressure", status: "False" }] } };
    assert.deepEqual(projectNode(whole), { metadata: { name: "n1" }, status: { conditions: [] } });
  });

  it("keeps of a PVC its phase and the PV it is bound to", () => {
    const [claim] = diskClaim("data-db-0", M, "d-1");
    assert.deepEqual(projectClaim(servedClaim(claim)), {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data-db-0", namespace: NAMESPACE, resourceVersion: "48213" },
      spec: { volumeName: "d-1" },
      status: { phase: "Bound" },
    });
  });

  it("keeps of a disk PV its driver, disk id, category attribute, node affinity and the zone and category labels", () => {
    const [, pv] = diskClaim("data-db-0", M, "d-1");
    pv.metadata!.labels = { ...pv.metadata!.labels, "topology.kubernetes.io/zone": M, "failure-domain.beta.kubernetes.io/zone": M, [DISK_ZONE]: M };
    assert.deepEqual(projectVolume(servedVolume(pv)), {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: {
        name: "d-1",
        resourceVersion: "48213",
        labels: { "topology.kubernetes.io/zone": M, [DISK_ZONE]: M, "failure-domain.beta.kubernetes.io/zone": M, "csi.alibabacloud.com/disktype": "cloud_essd.PL1" },
      },
      spec: {
        csi: { driver: "diskplugin.csi.alibabacloud.com", volumeHandle: "d-1", volumeAttributes: { type: "cloud_essd" } },
        nodeAffinity: pv.spec!.nodeAffinity,
      },
    });
  });

  it("keeps of a PV of no CSI driver the field that names its source, first, however the spec's keys are ordered", () => {
    // Watched, a PV's keys come in the API server's order (capacity, the source, accessModes, ...);
    // listed, in client-node's (accessModes first): the message names what the whole object would.
    const watched: V1PersistentVolume = { metadata: { name: "local-1" }, spec: { capacity: { storage: "1Gi" }, hostPath: { path: "/data" }, accessModes: ["ReadWriteOnce"], claimRef: { name: "c" } } };
    const listed: V1PersistentVolume = { metadata: { name: "local-1" }, spec: { accessModes: ["ReadWriteOnce"], capacity: { storage: "1Gi" }, claimRef: { name: "c" }, hostPath: { path: "/data" } } };
    assert.deepEqual(projectVolume(watched).spec, { hostPath: { path: "/data" } });
    assert.deepEqual(projectVolume(listed).spec, { accessModes: ["ReadWriteOnce"] });
  });

  it("keeps of a StatefulSet of either kind its identity, uid and zoneferry annotations, and neither spec nor status", () => {
    const whole = bookkeeping(statefulSet({ annotations: { "zoneferry.io/status": "Running", "zoneferry.io/migration-id": "0123456789ab", "team.example.com/owner": "shop" } }));
    const expected = { kind: "StatefulSet", metadata: { name: "db", namespace: NAMESPACE, resourceVersion: "48213", uid: "uid-db", annotations: { "zoneferry.io/migration-id": "0123456789ab", "zoneferry.io/status": "Running" } } };
    assert.deepEqual(projectStatefulSet(whole), { apiVersion: "apps/v1", ...expected });
    assert.deepEqual(projectStatefulSet(bookkeeping(advancedStatefulSet({ annotations: whole.metadata!.annotations! }))), { apiVersion: KRUISE.apiVersion, ...expected });
  });

  it("keeps of a ZoneMigration which StatefulSet and request it journals, its phase and its step", () => {
    const journal: ZoneMigration = {
      apiVersion: "zoneferry.io/v1alpha1",
      kind: "ZoneMigration",
      metadata: { name: "db-0123456789ab", namespace: NAMESPACE, resourceVersion: "7", labels: { "zoneferry.io/statefulset": "db" } },
      spec: { statefulSet: "db", migrationId: "0123456789ab", targetZones: [G], workloadApiVersion: "apps/v1" },
      status: { phase: "Running", step: "snapshot", message: "2 of 4 snapshots ready" },
    };
    assert.deepEqual(projectZoneMigration(journal), {
      apiVersion: "zoneferry.io/v1alpha1",
      kind: "ZoneMigration",
      metadata: { name: "db-0123456789ab", namespace: NAMESPACE, resourceVersion: "7" },
      spec: { statefulSet: "db", migrationId: "0123456789ab" },
      status: { phase: "Running", step: "snapshot" },
    });
  });

  it("keeps of a PodDisruptionBudget which pods it selects", () => {
    const budget: V1PodDisruptionBudget = {
      metadata: { name: "db", namespace: NAMESPACE, resourceVersion: "9" },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: "db" } } },
      status: { currentHealthy: 2, desiredHealthy: 1, disruptionsAllowed: 1, expectedPods: 2 },
    };
    assert.deepEqual(projectDisruptionBudget(budget), { metadata: { name: "db", namespace: NAMESPACE, resourceVersion: "9" }, spec: { selector: { matchLabels: { app: "db" } } } });
  });

  it("keeps a StorageClass whole but for its managedFields and kubectl's last-applied annotation", () => {
    const whole = bookkeeping(essdStorageClass());
    const expected = structuredClone(whole);
    delete expected.metadata!.managedFields;
    expected.metadata!.annotations = Object.fromEntries(Object.entries(whole.metadata!.annotations!).filter(([key]) => key !== LAST_APPLIED));
    assert.deepEqual(projectStorageClass(whole), expected);
  });

  it("leaves a field the object lacks absent, and answers for an object with nothing but a name", () => {
    const bare = { metadata: { name: "x" } };
    for (const project of [projectNode, projectClaim, projectVolume, projectStatefulSet, projectZoneMigration, projectDisruptionBudget, projectStorageClass] as ((object: object) => object)[]) {
      assert.deepEqual(project(bare), bare);
    }
    assert.deepEqual(projectVolume({ metadata: { name: "x" }, spec: {} }), { metadata: { name: "x" }, spec: {} });
  });
});

describe("an object the projection cannot reduce", () => {
  it("is kept whole, and the failure logged once, never thrown into the watch", () => {
    const logged: unknown[] = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => { logged.push(JSON.parse(line)); } });
    const reduce = failSafe(projectNode, "nodes", logger);
    // A null the projection does not expect: the API server never sends one, but a watch event must not be dropped.
    const odd = { metadata: { name: "n1", resourceVersion: "5" }, spec: { taints: [null] } } as unknown as V1Node;
    assert.equal(reduce(odd), odd);
    assert.equal(reduce(odd), odd);
    assert.deepEqual(reduce({ metadata: { name: "n2", resourceVersion: "6" } }), { metadata: { name: "n2", resourceVersion: "6" } });
    assert.equal(logged.length, 1);
    assert.match(JSON.stringify(logged[0]), /keeping it whole/);
  });
});

interface Scenario {
  readonly when: string;
  readonly request: AdmissionRequest;
  readonly objects: ClusterObjects;
  readonly cloud?: CloudAnswers;
}

/** A StatefulSet running in `zones` (one per ordinal), and the UPDATE that asks to move it to `target`. */
function move(zones: string[], target: string, annotations: Record<string, string> = {}) {
  const old = statefulSet({ replicas: zones.length });
  const request = update(old, (next) => { next.metadata!.annotations = { ...next.metadata!.annotations, "zoneferry.io/target-zones": target, ...annotations }; });
  return { old, request, cluster: clusterWithDisks(old, zones) };
}

function dryRun(scenario: ReturnType<typeof move>): ReturnType<typeof move> {
  return { ...scenario, request: { ...scenario.request, dryRun: true } };
}

function withPod(scenario: ReturnType<typeof move>, pod: V1PodSpec): ReturnType<typeof move> {
  scenario.request.object!.spec!["template"] = { metadata: { labels: { app: "db" } }, spec: pod };
  return scenario;
}

const budget = (selector: V1LabelSelector | undefined): V1PodDisruptionBudget => ({
  metadata: { name: "db", namespace: NAMESPACE },
  spec: { maxUnavailable: 1, ...(selector === undefined ? {} : { selector }) },
  status: { currentHealthy: 2, desiredHealthy: 1, disruptionsAllowed: 1, expectedPods: 2 },
});

const held = (status: string): V1StatefulSet =>
  statefulSet({ replicas: 0, annotations: { "zoneferry.io/target-zones": G, "zoneferry.io/migration-id": "0123456789ab", "zoneferry.io/status": status, "zoneferry.io/step": "snapshot" } });

function scenarios(): Scenario[] {
  const list: Scenario[] = [];
  const add = (when: string, { request, cluster }: { request: AdmissionRequest; cluster: ClusterObjects }, cloud?: CloudAnswers): void => {
    list.push({ when, request, objects: cluster, ...(cloud === undefined ? {} : { cloud }) });
  };
  add("a move of ESSD disks is admitted and queued", move([M, M], G));
  add("a dry run is told the plan", dryRun(move([M, B], `${B},${G}`)));
  add("the target zone's nodes are not Ready, cordoned or tainted", (() => {
    const scenario = move([M, M], G);
    return { ...scenario, cluster: { ...scenario.cluster, nodes: [node("g1", G, { ready: false }), node("g2", G, { unschedulable: true }), node("g3", G, { taint: "dedicated" }), node("m1", M)] } };
  })());
  add("the target zone has no node at all", move([M, M], "cn-shanghai-x"));
  add("the pod template's nodeSelector excludes the target zone's nodes", withPod(move([M, M], G), { nodeSelector: { pool: "db" }, containers: [] }));
  add("the pod template's node affinity selects the target zone's nodes by hostname", withPod(move([M, M], G), {
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [`node-${G}-0`] }] }] } } },
    containers: [],
  }));
  add("the pod template tolerates the zone's taint", (() => {
    const scenario = withPod(move([M, M], G), { tolerations: [{ key: "dedicated", operator: "Equal", value: "true", effect: "NoSchedule" }], containers: [] });
    return { ...scenario, cluster: { ...scenario.cluster, nodes: [node("g1", G, { taint: "dedicated" })] } };
  })());
  add("the pod template tolerates another value of the zone's taint", (() => {
    const scenario = withPod(move([M, M], G), { tolerations: [{ key: "dedicated", operator: "Equal", value: "false" }], containers: [] });
    return { ...scenario, cluster: { ...scenario.cluster, nodes: [node("g1", G, { taint: "dedicated" })] } };
  })());
  add("the disks are not of the ESSD family", (() => {
    const scenario = move([M, M], G);
    return { ...scenario, cluster: clusterWithDisks(scenario.old, [M, M], { category: "cloud_ssd" }) };
  })());
  add("the category is on the PV's disktype label only", (() => {
    const scenario = move([M, M], G);
    for (const pv of scenario.cluster.persistentVolumes) pv.spec!.csi!.volumeAttributes = {};
    return scenario;
  })(), { disks: { "d-data-db-0": { zoneId: M, category: "cloud_ssd" }, "d-data-db-1": { zoneId: M, category: "cloud_ssd" } } });
  add("the PV does not tell the category, and ECS does", (() => {
    const scenario = move([M], G);
    return { ...scenario, cluster: clusterWithDisks(scenario.old, [M], { categoryOnPv: false }) };
  })(), { disks: { "d-data-db-0": { zoneId: M, category: "cloud_efficiency" } } });
  add("the PV carries a topology-alltype category list", (() => {
    const scenario = move([M], G);
    return { ...scenario, cluster: clusterWithDisks(scenario.old, [M], { categoryOnPv: false, typeAttribute: "cloud_essd,cloud_ssd" }) };
  })(), { disks: { "d-data-db-0": { zoneId: M, category: "cloud_essd" } } });
  add("the PV tells its zone by the legacy label only", (() => {
    const scenario = move([M, M], G);
    for (const pv of scenario.cluster.persistentVolumes) {
      delete pv.spec!.nodeAffinity;
      pv.metadata!.labels = { ...pv.metadata!.labels, "failure-domain.beta.kubernetes.io/zone": B };
    }
    return scenario;
  })());
  add("neither the PV nor ECS tells a disk's zone (a dry run, told the plan)", dryRun((() => {
    const scenario = move([M], G);
    delete scenario.cluster.persistentVolumes[0]!.spec!.nodeAffinity;
    return scenario;
  })()));
  add("a disk is regional ESSD", (() => {
    const scenario = move([M], G);
    return { ...scenario, cluster: clusterWithDisks(scenario.old, [M], { category: "cloud_regional_disk_auto" }) };
  })());
  add("a claim is Pending, one is missing and one is bound to a missing PV", (() => {
    const scenario = move([M, M, M, M], G);
    const [first, , , fourth] = scenario.cluster.persistentVolumeClaims;
    const claims = [first!, pendingClaim("data-db-1"), fourth!];
    return { ...scenario, cluster: { ...scenario.cluster, persistentVolumeClaims: claims, persistentVolumes: scenario.cluster.persistentVolumes.filter((pv) => pv.metadata!.name !== "d-data-db-3") } };
  })());
  add("a volume is NAS and one is a hostPath, listed or watched", (() => {
    const scenario = move([M, M, M], G);
    const [nas, nasPv] = nasClaim("data-db-1");
    const local: V1PersistentVolume = { metadata: { name: "local-2" }, spec: { capacity: { storage: "1Gi" }, hostPath: { path: "/data" }, accessModes: ["ReadWriteOnce"], claimRef: { name: "data-db-2" } } };
    const claims = scenario.cluster.persistentVolumeClaims.map((claim) => (claim.metadata!.name === "data-db-1" ? nas : claim.metadata!.name === "data-db-2" ? { ...claim, spec: { ...claim.spec, volumeName: "local-2" } } : claim));
    return { ...scenario, cluster: { ...scenario.cluster, persistentVolumeClaims: claims, persistentVolumes: [...scenario.cluster.persistentVolumes, nasPv, local] } };
  })());
  add("a hostPath PV was listed (client-node orders its keys)", (() => {
    const scenario = move([M], G);
    const local: V1PersistentVolume = { metadata: { name: "local-0" }, spec: { accessModes: ["ReadWriteOnce"], capacity: { storage: "1Gi" }, claimRef: { name: "data-db-0" }, hostPath: { path: "/data" } } };
    const claims = scenario.cluster.persistentVolumeClaims.map((claim) => ({ ...claim, spec: { ...claim.spec, volumeName: "local-0" } }));
    return { ...scenario, cluster: { ...scenario.cluster, persistentVolumeClaims: claims, persistentVolumes: [local] } };
  })());
  add("whenScaled is Delete", (() => {
    const old = statefulSet({ replicas: 2, whenScaled: "Delete" });
    return { request: update(old, (next) => { next.metadata!.annotations!["zoneferry.io/target-zones"] = G; }), cluster: clusterWithDisks(old, [M, M]) };
  })());
  add("a scale reaches a StatefulSet a migration holds, by the view's annotations", { request: scaleRequest(NAMESPACE, "db", 0, 3), cluster: { statefulSets: [held("Running")] } });
  add("a scale reaches a StatefulSet whose migration has ended", { request: scaleRequest(NAMESPACE, "db", 0, 3), cluster: { statefulSets: [held("Succeeded")] } });
  add("the runner scales a held StatefulSet", { request: scaleRequest(NAMESPACE, "db", 2, 0, RUNNER), cluster: { statefulSets: [held("Running")] } });
  add("a write reaches a StatefulSet a ZoneMigration journal holds", (() => {
    const old = statefulSet({ annotations: { "zoneferry.io/target-zones": G } });
    const journal: ZoneMigration = { metadata: { name: "db-abcdefabcdef", namespace: NAMESPACE }, spec: { statefulSet: "db", migrationId: "abcdefabcdef" }, status: { phase: "Running", step: "create-disks", message: "creating" } };
    const request = update(old, (next) => { next.metadata!.annotations!["zoneferry.io/target-zones"] = B; next.spec!.replicas = 5; }, { user: ARGO });
    return { request, cluster: { ...clusterWithDisks(old, [M, M]), zoneMigrations: [journal] } };
  })());
  add("the request already ran (its journal ended)", (() => {
    const scenario = move([M, M], G);
    const id = requestMigrationId(NAMESPACE, "db", { targetZones: [G], retry: "" });
    const journal: ZoneMigration = { metadata: { name: `db-${id}`, namespace: NAMESPACE }, spec: { statefulSet: "db", migrationId: id, targetZones: [G] }, status: { phase: "RollbackFailed" } };
    return { ...scenario, cluster: { ...scenario.cluster, zoneMigrations: [journal] } };
  })());
  add("the view holds the StatefulSet under another uid", (() => {
    const scenario = move([M, M], G);
    return { ...scenario, cluster: { ...scenario.cluster, statefulSets: [{ ...scenario.old, metadata: { ...scenario.old.metadata, uid: "uid-of-another" } }] } };
  })());
  add("an Advanced StatefulSet of the same name exists", (() => {
    const scenario = move([M, M], G);
    return { ...scenario, cluster: { ...scenario.cluster, advancedStatefulSets: [advancedStatefulSet()] } };
  })());
  add("an Advanced StatefulSet is moved while an apps/v1 one of its name exists", (() => {
    const old = advancedStatefulSet({ replicas: 2, spec: { reserveOrdinals: [1] } });
    const request = update(old, (next) => { next.metadata!.annotations!["zoneferry.io/target-zones"] = G; }, { workload: KRUISE });
    return { request, cluster: { ...clusterWithDisks(old, [M, M]), statefulSets: [statefulSet()] } };
  })());
  for (const [why, budgets] of [
    ["a budget selects the replicas by label", [budget({ matchLabels: { app: "db" } })]],
    ["a budget selects the replicas by expression", [budget({ matchExpressions: [{ key: "app", operator: "In", values: ["db"] }] })]],
    ["no budget selects the replicas", [budget({ matchLabels: { app: "web" } }), budget(undefined)]],
  ] as const) {
    const scenario = move([M, M], G, { "zoneferry.io/strategy": "Rolling" });
    add(`a Rolling move is asked and ${why}`, { request: scenario.request, cluster: { ...scenario.cluster, disruptionBudgets: [...budgets] } });
  }
  add("a StatefulSet is created with target zones", { request: stsRequest(statefulSet({ annotations: { "zoneferry.io/target-zones": G } })), cluster: { nodes: [node("n1", G)] } });
  return list;
}

/** The handler's answer and the cloud calls it made, on a view of `objects`. */
async function answer(handler: AdmissionHandler, scenario: Scenario, objects: ClusterObjects): Promise<unknown> {
  const cloud = cloudAnswering(scenario.cloud);
  const decision = await handler(structuredClone(scenario.request), { view: new SnapshotClusterView(objects), cloud, runnerIdentity: RUNNER });
  return { decision, calls: cloud.calls };
}

describe("admission on the objects the informers keep answers as on whole ones", () => {
  for (const scenario of scenarios()) {
    it(`answers alike, validating and mutating, when ${scenario.when}`, async () => {
      const whole = served(structuredClone(scenario.objects));
      const kept = stripped(structuredClone(whole));
      for (const handler of [validate, mutate]) {
        assert.deepEqual(await answer(handler, scenario, kept), await answer(handler, scenario, whole));
      }
    });
  }

  it("has scenarios that reach each check: allowed, denied on the cluster, guarded, and warned", async () => {
    const verdicts = await Promise.all(scenarios().map(async (scenario) => (await validate(scenario.request, { view: new SnapshotClusterView(served(scenario.objects)), cloud: cloudAnswering(scenario.cloud), runnerIdentity: RUNNER })).verdict));
    const messages = verdicts.map((verdict) => [verdict.status?.message ?? "", ...(verdict.warnings ?? [])].join(" "));
    for (const expected of [/cordoned/, /excluded by the pod's nodeSelector/, /cloud_ssd disk/, /cloud_efficiency/, /regional ESSD/, /is Pending, not Bound/, /does not exist/, /nasplugin/, /\(hostPath\)/, /\(accessModes\)/, /held by zoneferry migration 0123456789ab/, /held by zoneferry migration abcdefabcdef/, /already ran/, /has not seen this StatefulSet/, /of the same name exists/, /no PodDisruptionBudget selects/, /whenScaled is Delete/, /unknown-zone/]) {
      assert.ok(messages.some((message) => expected.test(message)), `no scenario is answered ${String(expected)}`);
    }
    assert.ok(verdicts.some((verdict) => verdict.allowed) && verdicts.some((verdict) => !verdict.allowed), "some scenarios are admitted, some denied");
  });
});

const label = fc.constantFrom("topology.kubernetes.io/zone", DISK_ZONE, "failure-domain.beta.kubernetes.io/zone", "csi.alibabacloud.com/disktype", "pool", "kubernetes.io/hostname", "team");
const value = fc.constantFrom(B, G, M, "db", "cloud_essd.PL1", "cloud_ssd", "cloud_essd,cloud_ssd", "");
const labels = fc.dictionary(label, value, { maxKeys: 5 });
const requirement = fc.record({ key: label, operator: fc.constantFrom("In", "NotIn", "Exists", "DoesNotExist", "Gt"), values: fc.array(value, { maxLength: 2 }) }, { requiredKeys: ["key", "operator"] });

const arbitraryNode: fc.Arbitrary<V1Node> = fc.record({
  metadata: fc.record({ name: fc.constantFrom("n1", "n2"), labels }, { requiredKeys: ["name"] }),
  spec: fc.record({
    unschedulable: fc.boolean(),
    taints: fc.array(fc.record({ key: fc.constantFrom("dedicated", "gpu"), value: fc.constantFrom("true", "false"), effect: fc.constantFrom("NoSchedule", "NoExecute", "PreferNoSchedule"), timeAdded: fc.constant(new Date(0)) }, { requiredKeys: ["key", "effect"] }), { maxLength: 2 }),
    podCIDR: fc.constant("172.20.0.0/26"),
  }, { requiredKeys: [] }),
  status: fc.record({
    conditions: fc.array(fc.record({ type: fc.constantFrom("Ready", "DiskPressure"), status: fc.constantFrom("True", "False", "Unknown"), reason: fc.constant("Kubelet") }), { maxLength: 3 }),
    images: fc.constant([{ names: ["image"], sizeBytes: 1 }]),
  }, { requiredKeys: [] }),
}, { requiredKeys: ["metadata"] });

const arbitraryPod: fc.Arbitrary<V1PodSpec> = fc.record({
  containers: fc.constant([]),
  nodeSelector: fc.dictionary(label, value, { maxKeys: 1 }),
  tolerations: fc.array(fc.record({ key: fc.constantFrom("dedicated", "gpu", ""), operator: fc.constantFrom("Exists", "Equal"), value: fc.constantFrom("true", "false"), effect: fc.constantFrom("NoSchedule", "NoExecute", "") }, { requiredKeys: [] }), { maxLength: 2 }),
  affinity: fc.record({ nodeAffinity: fc.record({ requiredDuringSchedulingIgnoredDuringExecution: fc.record({ nodeSelectorTerms: fc.array(fc.record({ matchExpressions: fc.array(requirement, { maxLength: 2 }) }), { maxLength: 2 }) }) }) }),
}, { requiredKeys: ["containers"] });

const arbitraryVolume: fc.Arbitrary<V1PersistentVolume> = fc.record({
  metadata: fc.record({ name: fc.constant("d-1"), labels, annotations: fc.constant({ [LAST_APPLIED]: "{}" }) }, { requiredKeys: ["name"] }),
  spec: fc.record({
    capacity: fc.constant({ storage: "20Gi" }),
    csi: fc.record({
      driver: fc.constantFrom("diskplugin.csi.alibabacloud.com", "nasplugin.csi.alibabacloud.com"),
      volumeHandle: fc.constantFrom("d-1", "d-2"),
      fsType: fc.constant("ext4"),
      volumeAttributes: fc.dictionary(fc.constantFrom("type", "performanceLevel", "csi.storage.k8s.io/pvc/name"), value, { maxKeys: 3 }),
    }, { requiredKeys: ["driver", "volumeHandle"] }),
    hostPath: fc.constant({ path: "/data" }),
    accessModes: fc.constant(["ReadWriteOnce"]),
    claimRef: fc.constant({ name: "data-db-0", namespace: NAMESPACE }),
    nodeAffinity: fc.record({ required: fc.record({ nodeSelectorTerms: fc.array(fc.record({ matchExpressions: fc.array(requirement, { maxLength: 2 }) }), { maxLength: 2 }) }) }),
  }, { requiredKeys: [] }),
}, { requiredKeys: ["metadata"] });

describe("the checks read the same of arbitrary objects, kept or whole", () => {
  it("finds the same zone capacity on kept nodes as on whole ones, for any pod", () => {
    fc.assert(fc.property(fc.array(arbitraryNode, { maxLength: 4 }), arbitraryPod, fc.constantFrom(B, G, M), (nodes, pod, zone) => {
      assert.deepEqual(zoneCapacity(zone, nodes.map(projectNode), pod), zoneCapacity(zone, nodes, pod));
    }), { numRuns: 500 });
  });

  it("reads the same zone, category and claim state of a kept PV as of a whole one", () => {
    fc.assert(fc.property(arbitraryVolume, fc.constantFrom("Bound", "Pending"), (pv, phase) => {
      const kept = projectVolume(pv);
      assert.equal(volumeZone(kept), volumeZone(pv));
      assert.equal(provenCategory(kept), provenCategory(pv));
      const claim: V1PersistentVolumeClaim = { metadata: { name: "data-db-0", namespace: NAMESPACE, labels: { app: "db" } }, spec: { volumeName: "d-1", accessModes: ["ReadWriteOnce"] }, status: { phase, capacity: { storage: "20Gi" } } };
      const sts = statefulSet({ replicas: 1 });
      const view = (objects: ClusterObjects) => new SnapshotClusterView(objects);
      assert.deepEqual(resolveClaims(sts, view({ persistentVolumes: [kept], persistentVolumeClaims: [projectClaim(claim)] })), resolveClaims(sts, view({ persistentVolumes: [pv], persistentVolumeClaims: [claim] })));
    }), { numRuns: 500 });
  });
});
