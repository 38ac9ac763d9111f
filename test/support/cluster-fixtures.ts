/**
 * Builders of the Kubernetes objects admission reads, shaped as the API server and ACK's disk CSI
 * driver write them. Each call returns a fresh object, so tests may change what they get.
 */
import type {
  V1Node,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1StatefulSet,
  V1StorageClass,
} from "@kubernetes/client-node";
import { DISK_CSI_DRIVER, DISK_ZONE_KEY, ZONE_KEY, claimName, currentOrdinals } from "../../core/disk-volumes.ts";
import { KRUISE, type KruiseSpecFields, type Workload } from "../../core/workload/kinds.ts";
import type { ClusterObjects } from "../../core/cluster-view.ts";

export const NAMESPACE = "shop";
export const ZONES = ["cn-shanghai-b", "cn-shanghai-g", "cn-shanghai-m"] as const;

export interface StatefulSetOptions {
  name?: string;
  replicas?: number;
  templates?: string[];
  annotations?: Record<string, string>;
  whenScaled?: "Retain" | "Delete";
}

export function statefulSet(options: StatefulSetOptions = {}): V1StatefulSet {
  const name = options.name ?? "db";
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, namespace: NAMESPACE, uid: `uid-${name}`, generation: 1, annotations: { ...options.annotations } },
    spec: {
      replicas: options.replicas ?? 2,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "main", image: "nginx:1.27" }] },
      },
      volumeClaimTemplates: (options.templates ?? ["data"]).map((template) => ({
        metadata: { name: template },
        spec: { accessModes: ["ReadWriteOnce"], storageClassName: "alicloud-disk-essd", resources: { requests: { storage: "20Gi" } } },
      })),
      ...(options.whenScaled === undefined ? {} : { persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: options.whenScaled } }),
    },
    // As the StatefulSet controller leaves it once every replica is up on one revision.
    status: readyStatus(options.replicas ?? 2, `${name}-7d9f8b6c5`),
  };
}

/** An OpenKruise Advanced StatefulSet: apps/v1's fields, served by apps.kruise.io, with kruise's own `spec` fields. */
export function advancedStatefulSet(options: StatefulSetOptions & { spec?: KruiseSpecFields } = {}): Workload {
  const native = statefulSet(options);
  return { ...native, apiVersion: KRUISE.apiVersion, spec: { ...native.spec!, ...options.spec } };
}

/** The status of a StatefulSet whose `replicas` are all Ready on `revision`. */
export function readyStatus(replicas: number, revision: string): NonNullable<V1StatefulSet["status"]> {
  return { observedGeneration: 1, replicas, readyReplicas: replicas, availableReplicas: replicas, currentReplicas: replicas, updatedReplicas: replicas, currentRevision: revision, updateRevision: revision };
}

export function node(name: string, zone: string, options: { ready?: boolean; unschedulable?: boolean; taint?: string } = {}): V1Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { [ZONE_KEY]: zone, [DISK_ZONE_KEY]: zone, "kubernetes.io/hostname": name } },
    spec: {
      ...(options.unschedulable === true ? { unschedulable: true } : {}),
      ...(options.taint === undefined ? {} : { taints: [{ key: options.taint, value: "true", effect: "NoSchedule" }] }),
    },
    status: { conditions: [{ type: "Ready", status: options.ready === false ? "False" : "True" }] },
  };
}

/** Ready nodes, `perZone` in each zone. */
export function nodes(perZone = 1, zones: readonly string[] = ZONES): V1Node[] {
  return zones.flatMap((zone) => Array.from({ length: perZone }, (_, index) => node(`node-${zone}-${index}`, zone)));
}

export interface DiskOptions {
  category?: string;
  /** Write the category on the PV (label and volumeAttributes); false leaves the PV silent. */
  categoryOnPv?: boolean;
  /** The category list a topology-alltype StorageClass puts in volumeAttributes.type. */
  typeAttribute?: string;
}

/** A PVC bound to a disk PV in `zone`, as ACK's disk CSI driver writes them. */
export function diskClaim(claim: string, zone: string, diskId: string, options: DiskOptions = {}): [V1PersistentVolumeClaim, V1PersistentVolume] {
  const category = options.category ?? "cloud_essd";
  const onPv = options.categoryOnPv ?? true;
  const pv: V1PersistentVolume = {
    apiVersion: "v1",
    kind: "PersistentVolume",
    // As the CSI driver labels it: the category, with its performance level for the ESSD family.
    metadata: { name: diskId, labels: onPv ? { "csi.alibabacloud.com/disktype": category === "cloud_essd" ? "cloud_essd.PL1" : category } : {} },
    spec: {
      capacity: { storage: "20Gi" },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Delete",
      storageClassName: "alicloud-disk-essd",
      claimRef: { namespace: NAMESPACE, name: claim },
      csi: {
        driver: DISK_CSI_DRIVER,
        volumeHandle: diskId,
        volumeAttributes: onPv ? { type: options.typeAttribute ?? category, performanceLevel: "PL1" } : (options.typeAttribute === undefined ? {} : { type: options.typeAttribute }),
      },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: DISK_ZONE_KEY, operator: "In", values: [zone] }] }] } },
    },
    status: { phase: "Bound" },
  };
  return [boundClaim(claim, diskId), pv];
}

export function boundClaim(claim: string, volumeName: string): V1PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: claim, namespace: NAMESPACE },
    spec: { accessModes: ["ReadWriteOnce"], volumeName, storageClassName: "alicloud-disk-essd", resources: { requests: { storage: "20Gi" } } },
    status: { phase: "Bound" },
  };
}

export function pendingClaim(claim: string): V1PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: claim, namespace: NAMESPACE },
    spec: { accessModes: ["ReadWriteOnce"], storageClassName: "alicloud-disk-essd", resources: { requests: { storage: "20Gi" } } },
    status: { phase: "Pending" },
  };
}

/** A NAS volume: cross-zone already, never moved. */
export function nasClaim(claim: string): [V1PersistentVolumeClaim, V1PersistentVolume] {
  const pvName = `nas-${claim}`;
  return [
    boundClaim(claim, pvName),
    {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: pvName },
      spec: { capacity: { storage: "20Gi" }, csi: { driver: "nasplugin.csi.alibabacloud.com", volumeHandle: pvName }, claimRef: { namespace: NAMESPACE, name: claim } },
      status: { phase: "Bound" },
    },
  ];
}

export function essdStorageClass(): V1StorageClass {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "alicloud-disk-essd" },
    provisioner: DISK_CSI_DRIVER,
    parameters: { type: "cloud_essd", performanceLevel: "PL1" },
    volumeBindingMode: "WaitForFirstConsumer",
    reclaimPolicy: "Delete",
  };
}

/**
 * The cluster around a StatefulSet whose ordinals' disks sit in `zonesByOrdinal` (one zone per
 * live ordinal, in order: an Advanced StatefulSet's reserved ordinals are skipped; all of its
 * templates' disks there), with Ready nodes in every zone.
 */
export function clusterWithDisks(sts: Workload, zonesByOrdinal: readonly string[], disk: DiskOptions = {}): Required<Pick<ClusterObjects, "persistentVolumeClaims" | "persistentVolumes">> & ClusterObjects {
  const name = sts.metadata!.name!;
  const templates = sts.spec!.volumeClaimTemplates!.map((template) => template.metadata!.name!);
  const ordinals = currentOrdinals({ ...sts, spec: { ...sts.spec!, replicas: zonesByOrdinal.length } });
  const pairs = zonesByOrdinal.flatMap((zone, index) =>
    templates.map((template) => diskClaim(claimName(template, name, ordinals[index]!), zone, `d-${template}-${name}-${ordinals[index]!}`, disk)),
  );
  const kruise = sts.apiVersion === KRUISE.apiVersion;
  return {
    ...(kruise ? { advancedStatefulSets: [sts] } : { statefulSets: [sts] }),
    persistentVolumeClaims: pairs.map(([claim]) => claim),
    persistentVolumes: pairs.map(([, pv]) => pv),
    storageClasses: [essdStorageClass()],
    nodes: nodes(),
  };
}
