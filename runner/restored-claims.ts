/**
 * The three objects that restore one claim from a snapshot the way ACK's CSI driver restores one
 * (what the seed did by hand): a static VolumeSnapshotContent naming the snapshot (deletionPolicy
 * Retain: deleting it never deletes the snapshot), a VolumeSnapshot bound to it, and the PVC with
 * the VolumeSnapshot as its dataSource, so the driver makes the disk in the zone the scheduler
 * picks for the pod. Each carries the restore's migration id: a compensation deletes only what
 * carries it, and never a PVC made by anyone else.
 */
import { CustomObjectsApi, type V1PersistentVolumeClaim, type V1StatefulSet } from "@kubernetes/client-node";
import { claimOfTemplate, DISK_CSI_DRIVER } from "../core/disk-volumes.ts";
import type { MigrationContext } from "./context.ts";
import { orUndefined } from "./kube-patch.ts";
import type { VolumeProgress } from "./journal/types.ts";

export const SNAPSHOT_GROUP = "snapshot.storage.k8s.io";
const SNAPSHOT_VERSION = "v1";
export const RESTORE_LABEL = "zoneferry.io/migration-id";

export interface SnapshotStatus {
  readonly readyToUse?: boolean;
  readonly error?: { readonly message?: string };
}

interface SnapshotObject {
  readonly metadata?: { readonly labels?: Record<string, string>; readonly deletionTimestamp?: string };
  readonly status?: SnapshotStatus;
}

/** The VolumeSnapshot of a claim's restore, in the StatefulSet's namespace. */
export function volumeSnapshotName(volume: Pick<VolumeProgress, "claim">, migrationId: string): string {
  return `zf-${volume.claim}-${migrationId}`;
}

/** Its content, cluster-scoped: named after the snapshot (which names the namespace) and unique per restore. */
export function contentName(namespace: string, volume: Pick<VolumeProgress, "claim">, migrationId: string): string {
  return `zf-${namespace}-${volume.claim}-${migrationId}`;
}

function custom(context: MigrationContext): CustomObjectsApi {
  return context.kubeconfig.makeApiClient(CustomObjectsApi);
}

export async function readVolumeSnapshot(context: MigrationContext, name: string): Promise<SnapshotObject | undefined> {
  return orUndefined(custom(context).getNamespacedCustomObject({ group: SNAPSHOT_GROUP, version: SNAPSHOT_VERSION, plural: "volumesnapshots", namespace: context.job.namespace, name }) as Promise<SnapshotObject>);
}

async function readContent(context: MigrationContext, name: string): Promise<SnapshotObject | undefined> {
  return orUndefined(custom(context).getClusterCustomObject({ group: SNAPSHOT_GROUP, version: SNAPSHOT_VERSION, plural: "volumesnapshotcontents", name }) as Promise<SnapshotObject>);
}

/** Makes what of the claim's three objects is missing (each read first); a PVC that exists is left as it is. */
export async function ensureRestoredClaim(context: MigrationContext, sts: V1StatefulSet, volume: VolumeProgress): Promise<void> {
  const { namespace, migrationId } = context.job;
  const labels = { [RESTORE_LABEL]: migrationId };
  const snapshotName = volumeSnapshotName(volume, migrationId);
  const content = contentName(namespace, volume, migrationId);
  const api = custom(context);
  if ((await readContent(context, content)) === undefined) {
    await context.beforeWrite("createVolumeSnapshotContent");
    await api.createClusterCustomObject({ group: SNAPSHOT_GROUP, version: SNAPSHOT_VERSION, plural: "volumesnapshotcontents", body: {
      apiVersion: `${SNAPSHOT_GROUP}/${SNAPSHOT_VERSION}`,
      kind: "VolumeSnapshotContent",
      metadata: { name: content, labels },
      spec: { deletionPolicy: "Retain", driver: DISK_CSI_DRIVER, source: { snapshotHandle: volume.snapshot! }, volumeSnapshotRef: { name: snapshotName, namespace } },
    } });
  }
  if ((await readVolumeSnapshot(context, snapshotName)) === undefined) {
    await context.beforeWrite("createVolumeSnapshot");
    await api.createNamespacedCustomObject({ group: SNAPSHOT_GROUP, version: SNAPSHOT_VERSION, plural: "volumesnapshots", namespace, body: {
      apiVersion: `${SNAPSHOT_GROUP}/${SNAPSHOT_VERSION}`,
      kind: "VolumeSnapshot",
      metadata: { name: snapshotName, namespace, labels },
      spec: { source: { volumeSnapshotContentName: content } },
    } });
  }
  if ((await orUndefined(context.core.readNamespacedPersistentVolumeClaim({ name: volume.claim, namespace }))) === undefined) {
    await context.core.createNamespacedPersistentVolumeClaim({ namespace, body: restoredClaim(sts, volume, snapshotName, labels) });
  }
}

/** The PVC as the StatefulSet controller would make it from its template, restored from `snapshotName`. */
function restoredClaim(sts: V1StatefulSet, volume: VolumeProgress, snapshotName: string, labels: Record<string, string>): V1PersistentVolumeClaim {
  const template = sts.spec?.volumeClaimTemplates?.find((candidate) => claimOfTemplate(candidate.metadata?.name ?? "", sts.metadata?.name ?? "", volume.claim));
  const spec = structuredClone(template?.spec ?? {});
  const asked = spec.resources?.requests?.["storage"];
  // A disk made from a snapshot is at least the snapshot's disk's size.
  const size = volume.sizeGiB !== undefined && !atLeast(asked, volume.sizeGiB) ? `${volume.sizeGiB}Gi` : asked;
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: volume.claim,
      namespace: sts.metadata?.namespace ?? "",
      labels: { ...template?.metadata?.labels, ...sts.spec?.selector.matchLabels, ...labels },
      ...(template?.metadata?.annotations === undefined ? {} : { annotations: { ...template.metadata.annotations } }),
    },
    spec: {
      ...spec,
      ...(size === undefined ? {} : { resources: { ...spec.resources, requests: { ...spec.resources?.requests, storage: size } } }),
      dataSource: { apiGroup: SNAPSHOT_GROUP, kind: "VolumeSnapshot", name: snapshotName },
    },
  };
}

/** Whether a quantity ("20Gi", "21474836480") is at least `gib` GiB; an unreadable one is not. */
function atLeast(quantity: string | undefined, gib: number): boolean {
  const match = /^(\d+)(Gi|Ti|Mi)?$/.exec(quantity ?? "");
  if (match === null) return false;
  const factor = match[2] === "Ti" ? 1024 : match[2] === "Mi" ? 1 / 1024 : match[2] === "Gi" ? 1 : 1 / 1024 ** 3;
  return Number(match[1]) * factor >= gib;
}

/**
 * Deletes what of the claim's three objects this restore made (its label); others, and the
 * snapshot, stay. Answers what of them is still there: the snapshot-controller lets a
 * VolumeSnapshot and its content go only once it has released its finalizers, a moment later.
 */
export async function removeRestoredClaim(context: MigrationContext, volume: VolumeProgress): Promise<string[]> {
  const { namespace, migrationId } = context.job;
  const api = custom(context);
  const ours = (object: SnapshotObject | V1PersistentVolumeClaim | undefined): boolean => object?.metadata?.labels?.[RESTORE_LABEL] === migrationId;
  const leftover: string[] = [];
  const claim = await orUndefined(context.core.readNamespacedPersistentVolumeClaim({ name: volume.claim, namespace }));
  if (ours(claim)) {
    if (claim?.metadata?.deletionTimestamp === undefined) await context.core.deleteNamespacedPersistentVolumeClaim({ name: volume.claim, namespace });
    leftover.push(`PVC ${volume.claim}`);
  }
  const snapshotName = volumeSnapshotName(volume, migrationId);
  const snapshot = await readVolumeSnapshot(context, snapshotName);
  if (ours(snapshot)) {
    if (snapshot?.metadata?.deletionTimestamp === undefined) {
      await context.beforeWrite("deleteVolumeSnapshot");
      await orUndefined(api.deleteNamespacedCustomObject({ group: SNAPSHOT_GROUP, version: SNAPSHOT_VERSION, plural: "volumesnapshots", namespace, name: snapshotName }));
    }
    leftover.push(`VolumeSnapshot ${snapshotName}`);
  }
  const content = contentName(namespace, volume, migrationId);
  const made = await readContent(context, content);
  if (ours(made)) {
    if (made?.metadata?.deletionTimestamp === undefined) {
      await context.beforeWrite("deleteVolumeSnapshotContent");
      await orUndefined(api.deleteClusterCustomObject({ group: SNAPSHOT_GROUP, version: SNAPSHOT_VERSION, plural: "volumesnapshotcontents", name: content }));
    }
    leftover.push(`VolumeSnapshotContent ${content}`);
  }
  return leftover;
}
