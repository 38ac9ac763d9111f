/**
 * What the webhook's informers keep of each object: the fields some check reads, and the identity
 * the cache files it by. Everything else (managedFields, kubectl's last-applied annotation, node
 * images and addresses, pod templates, status nobody reads) is dropped as the object arrives, so a
 * cluster of thousands of nodes and tens of thousands of volumes fits the webhook's memory
 * (docs/benchmarks.md, "The webhook's memory at cluster scale").
 *
 * Exact by construction: every check answers the same on a projection as on the whole object
 * (test/unit/informer-projection.test.ts runs the handlers on both). A check that starts reading
 * another field of the view's objects adds it here, or it reads undefined. What many objects
 * carry alike is held once (webhook/shared-values.ts): the view's objects are only ever read.
 */
import type {
  V1Node,
  V1ObjectMeta,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1PersistentVolumeSpec,
  V1PodDisruptionBudget,
  V1StorageClass,
} from "@kubernetes/client-node";
import { zoneferryAnnotations } from "../core/annotations.ts";
import { VOLUME_LABELS, sourceField } from "../core/disk-volumes.ts";
import type { Workload } from "../core/workload/kinds.ts";
import type { ZoneMigration } from "../core/zone-migration.ts";
import { sharedString, sharedSubtree } from "./shared-values.ts";

/** kubectl apply's copy of the whole manifest: the largest annotation most objects carry. */
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/** `fields` without the undefined ones: a field the object lacks stays absent, as the checks expect. */
function defined<T extends object>(fields: { readonly [K in keyof T]?: T[K] | undefined }): T {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) kept[key] = value;
  return kept as T;
}

/**
 * What the cache itself needs: client-node's ListWatch files an object by namespace and name and
 * resumes its watch from the resourceVersion of the last event.
 */
function identity(metadata: V1ObjectMeta | undefined): V1ObjectMeta {
  return defined<V1ObjectMeta>({ name: metadata?.name, namespace: sharedString(metadata?.namespace), resourceVersion: metadata?.resourceVersion });
}

function picked(values: Readonly<Record<string, string>> | undefined, keys: readonly string[]): Record<string, string> | undefined {
  if (values === undefined) return undefined;
  const kept: Record<string, string> = {};
  for (const key of keys) if (values[key] !== undefined) kept[key] = values[key];
  return kept;
}

/**
 * A Node, for node-fit.ts: every label (a pod's nodeSelector and node affinity may name any), the
 * cordon, the taints (key, value, effect) and the Ready condition's status.
 */
export function projectNode(node: V1Node): V1Node {
  const { spec, status } = node;
  const ready = status?.conditions?.find((condition) => condition.type === "Ready");
  return defined<V1Node>({
    apiVersion: sharedString(node.apiVersion),
    kind: sharedString(node.kind),
    metadata: defined<V1ObjectMeta>({ ...identity(node.metadata), labels: node.metadata?.labels }),
    spec: spec === undefined ? undefined : defined({
      unschedulable: spec.unschedulable,
      taints: spec.taints?.map((taint) => defined({ key: taint.key, value: taint.value, effect: taint.effect })),
    }),
    status: status === undefined ? undefined : defined({
      conditions: status.conditions === undefined ? undefined : sharedSubtree(ready === undefined ? [] : [{ type: ready.type, status: ready.status }]),
    }),
  });
}

/** A PVC, for disk-volumes.ts: its phase and the PV it is bound to. */
export function projectClaim(claim: V1PersistentVolumeClaim): V1PersistentVolumeClaim {
  return defined<V1PersistentVolumeClaim>({
    apiVersion: sharedString(claim.apiVersion),
    kind: sharedString(claim.kind),
    metadata: identity(claim.metadata),
    spec: claim.spec === undefined ? undefined : defined({ volumeName: claim.spec.volumeName }),
    status: claim.status === undefined ? undefined : sharedSubtree(defined({ phase: claim.status.phase })),
  });
}

/**
 * A PV, for disk-volumes.ts: the CSI driver, the disk id and the category attribute; the node
 * affinity and the labels that tell the zone and the category; and, for a PV of no CSI driver,
 * the field a message names as its source (`sourceField`, its in-tree source).
 */
export function projectVolume(volume: V1PersistentVolume): V1PersistentVolume {
  const { spec } = volume;
  return defined<V1PersistentVolume>({
    apiVersion: sharedString(volume.apiVersion),
    kind: sharedString(volume.kind),
    metadata: defined<V1ObjectMeta>({ ...identity(volume.metadata), labels: sharedSubtree(picked(volume.metadata?.labels, VOLUME_LABELS)) }),
    spec: spec === undefined ? undefined : projectVolumeSpec(spec),
  });
}

function projectVolumeSpec(spec: V1PersistentVolumeSpec): V1PersistentVolumeSpec {
  const { csi, nodeAffinity } = spec;
  // Only a PV of no CSI driver is named by its source field: kept whole (it is small) and first,
  // so it is still the first object-valued field.
  const source = csi?.driver === undefined ? sourceField(spec) : undefined;
  const named = source === undefined || source === "csi" ? {} : { [source]: (spec as Record<string, unknown>)[source] };
  return {
    ...named,
    ...defined<V1PersistentVolumeSpec>({
      csi: csi === undefined ? undefined : defined({
        driver: sharedString(csi.driver),
        volumeHandle: csi.volumeHandle,
        volumeAttributes: sharedSubtree(picked(csi.volumeAttributes, ["type"])),
      }),
      // The same for every disk of a zone: one copy per zone.
      nodeAffinity: nodeAffinity === undefined ? undefined : sharedSubtree(defined({ required: nodeAffinity.required })),
    }),
  };
}

/** A StorageClass: no check reads one yet, and a cluster has a handful; kept but for its bookkeeping. */
export function projectStorageClass(storageClass: V1StorageClass): V1StorageClass {
  const { metadata } = storageClass;
  if (metadata === undefined) return storageClass;
  const kept: V1ObjectMeta = { ...metadata };
  delete kept.managedFields;
  if (metadata.annotations !== undefined) kept.annotations = Object.fromEntries(Object.entries(metadata.annotations).filter(([key]) => key !== LAST_APPLIED));
  return { ...storageClass, metadata: kept };
}

/**
 * A StatefulSet of either kind, for the handlers: its uid (validate.ts: is the write's object the
 * one the view holds?) and its zoneferry annotations (guard.ts: does a migration hold it, on a
 * scale, which carries no annotations). The checks of a new request read the request's own
 * object, never the view's, and the guard compares the request's object with its oldObject: no
 * spec or status of the view's StatefulSets is read.
 */
export function projectStatefulSet(sts: Workload): Workload {
  const annotations = sts.metadata?.annotations;
  return defined<Workload>({
    apiVersion: sts.apiVersion,
    kind: sts.kind,
    metadata: defined<V1ObjectMeta>({
      ...identity(sts.metadata),
      uid: sts.metadata?.uid,
      annotations: annotations === undefined ? undefined : zoneferryAnnotations(annotations),
    }),
  });
}

/** A ZoneMigration, for zone-migration.ts: which StatefulSet and request, and where it is. */
export function projectZoneMigration(migration: ZoneMigration): ZoneMigration {
  const { spec, status } = migration;
  return defined<ZoneMigration>({
    apiVersion: migration.apiVersion,
    kind: migration.kind,
    metadata: identity(migration.metadata),
    spec: spec === undefined ? undefined : defined({ statefulSet: spec.statefulSet, migrationId: spec.migrationId }),
    status: status === undefined ? undefined : defined({ phase: status.phase, step: status.step }),
  });
}

/** A PodDisruptionBudget, for assess-migration.ts: which pods it selects (core/cluster-view.ts DisruptionBudget). */
export function projectDisruptionBudget(budget: V1PodDisruptionBudget): V1PodDisruptionBudget {
  return defined<V1PodDisruptionBudget>({
    apiVersion: budget.apiVersion,
    kind: budget.kind,
    metadata: identity(budget.metadata),
    spec: budget.spec === undefined ? undefined : defined({ selector: budget.spec.selector }),
  });
}
