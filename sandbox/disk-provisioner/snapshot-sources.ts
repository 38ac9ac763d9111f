/**
 * Volume snapshots, the parts the disk CSI driver and its sidecars play (the snapshot-controller
 * itself, which binds VolumeSnapshots to VolumeSnapshotContents, is the real one):
 *   - as the csi-snapshotter sidecar, a pre-provisioned VolumeSnapshotContent of this driver
 *     (`source.snapshotHandle`, a static content as made to restore a shared snapshot) is checked
 *     against ECS and its status set: ready with the snapshot's size, or an error that says the
 *     snapshot is not there;
 *   - as the same sidecar, a content of this driver being deleted with deletionPolicy Retain has
 *     its bound-protection finalizer removed, the ECS snapshot left alone;
 *   - as external-provisioner with the driver, a claim whose `dataSource` names a VolumeSnapshot
 *     gets its disk made from that snapshot, once the snapshot is ready.
 * Without the snapshot CRDs (a sandbox started without them) both find nothing to do.
 */
import { PatchStrategy, setHeaderOptions, type V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { DISK_CSI_DRIVER } from "../../core/disk-volumes.ts";
import { apiStatus } from "../../core/kube/api-status.ts";
import type { ProvisionerContext } from "./provisioner-context.ts";

export const SNAPSHOT_GROUP = "snapshot.storage.k8s.io";
const VERSION = "v1";
const GIB = 1024 ** 3;
const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export interface VolumeSnapshotContent {
  readonly metadata?: { readonly name?: string; readonly resourceVersion?: string; readonly deletionTimestamp?: string; readonly finalizers?: readonly string[] };
  readonly spec?: {
    readonly driver?: string;
    readonly deletionPolicy?: string;
    readonly source?: { readonly snapshotHandle?: string; readonly volumeHandle?: string };
  };
  readonly status?: { readonly readyToUse?: boolean; readonly snapshotHandle?: string; readonly restoreSize?: number; readonly error?: { readonly message?: string } };
}

interface VolumeSnapshot {
  readonly status?: { readonly boundVolumeSnapshotContentName?: string; readonly readyToUse?: boolean };
}

/** The snapshot a claim asks to be made from, resolved to its ECS id and size. */
export interface SnapshotSource {
  readonly snapshotId: string;
  readonly sizeGiB: number;
}

/** A claim's snapshot is not ready yet (or not there): the claim waits, and its Event says why. */
export class SnapshotNotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** The VolumeSnapshot a claim names as its data source (dataSourceRef first, as the API server fills both). */
export function snapshotNameOf(claim: V1PersistentVolumeClaim): string | undefined {
  const source = claim.spec?.dataSourceRef ?? claim.spec?.dataSource;
  if (source?.kind !== "VolumeSnapshot" || source.apiGroup !== SNAPSHOT_GROUP) return undefined;
  return source.name;
}

/**
 * The ECS snapshot behind the claim's VolumeSnapshot; throws SnapshotNotReadyError until the
 * snapshot-controller has bound it to a ready content.
 */
export async function snapshotSource(context: ProvisionerContext, claim: V1PersistentVolumeClaim, name: string): Promise<SnapshotSource> {
  const { custom } = context;
  const namespace = claim.metadata?.namespace ?? "";
  const snapshot = await readOrUndefined<VolumeSnapshot>(() => custom.getNamespacedCustomObject({ group: SNAPSHOT_GROUP, version: VERSION, plural: "volumesnapshots", namespace, name }));
  if (snapshot === undefined) throw new SnapshotNotReadyError(`VolumeSnapshot ${namespace}/${name} does not exist`);
  const contentName = snapshot.status?.boundVolumeSnapshotContentName;
  if (contentName === undefined || snapshot.status?.readyToUse !== true) throw new SnapshotNotReadyError(`VolumeSnapshot ${namespace}/${name} is not ready to use yet`);
  const content = await readOrUndefined<VolumeSnapshotContent>(() => custom.getClusterCustomObject({ group: SNAPSHOT_GROUP, version: VERSION, plural: "volumesnapshotcontents", name: contentName }));
  const snapshotId = content?.status?.snapshotHandle ?? content?.spec?.source?.snapshotHandle;
  if (snapshotId === undefined) throw new SnapshotNotReadyError(`VolumeSnapshotContent ${contentName} names no snapshot`);
  return { snapshotId, sizeGiB: Math.ceil((content?.status?.restoreSize ?? 0) / GIB) };
}

/**
 * The sidecar's pass over pre-provisioned contents of this driver whose status is not set: ECS is
 * asked for the snapshot; found, the content is ready with its size; missing, the content carries
 * an error naming the id, and is looked at again on the next pass (a share may be accepted later).
 */
export async function syncSnapshotContents(context: ProvisionerContext): Promise<void> {
  const { custom } = context;
  const listed = await readOrUndefined<{ items?: VolumeSnapshotContent[] }>(() => custom.listClusterCustomObject({ group: SNAPSHOT_GROUP, version: VERSION, plural: "volumesnapshotcontents" }));
  await Promise.all((listed?.items ?? []).filter(retainedAndDeleted).map((content) => releaseContent(context, content)));
  const waiting = (listed?.items ?? []).filter((content) => content.spec?.driver === DISK_CSI_DRIVER && content.spec.source?.snapshotHandle !== undefined && content.status?.readyToUse !== true && content.metadata?.deletionTimestamp === undefined);
  await Promise.all(waiting.map(async (content) => {
    const name = content.metadata?.name ?? "";
    const handle = content.spec!.source!.snapshotHandle!;
    try {
      const [found] = await context.cloud.describeSnapshots([handle]);
      const problem = found === undefined ? `snapshot ${handle} does not exist in this account (not shared with it, or the share not accepted)` : found.available ? undefined : `snapshot ${handle} is not usable yet`;
      // The same error again is no news: the content is written only when what it says changes.
      if (problem !== undefined && content.status?.error?.message === problem) return;
      const status = found !== undefined && problem === undefined
        ? { readyToUse: true, snapshotHandle: handle, restoreSize: found.sourceDiskSizeGiB * GIB, creationTime: (found.createdAt ?? Date.now()) * 1_000_000 }
        : { readyToUse: false, error: { message: problem, time: new Date().toISOString() } };
      await custom.patchClusterCustomObjectStatus({ group: SNAPSHOT_GROUP, version: VERSION, plural: "volumesnapshotcontents", name, body: { status } }, MERGE);
      context.logger.info({ content: name, snapshot: handle, ready: status.readyToUse }, "pre-provisioned snapshot content checked");
    } catch (error) {
      context.logger.warn({ err: error, content: name }, "checking a snapshot content failed; retrying on the next pass");
    }
  }));
}

/** The finalizer the csi-snapshotter sidecar holds a bound content with until it has dealt with its snapshot. */
const BOUND_PROTECTION = "snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection";

function retainedAndDeleted(content: VolumeSnapshotContent): boolean {
  return content.spec?.driver === DISK_CSI_DRIVER && content.spec.deletionPolicy === "Retain" && content.metadata?.deletionTimestamp !== undefined && content.metadata.finalizers?.includes(BOUND_PROTECTION) === true;
}

/** Retain: the snapshot stays in ECS, and the content may go. */
async function releaseContent(context: ProvisionerContext, content: VolumeSnapshotContent): Promise<void> {
  const name = content.metadata?.name ?? "";
  try {
    const finalizers = (content.metadata?.finalizers ?? []).filter((finalizer) => finalizer !== BOUND_PROTECTION);
    await context.custom.patchClusterCustomObject({ group: SNAPSHOT_GROUP, version: VERSION, plural: "volumesnapshotcontents", name, body: { metadata: { finalizers, resourceVersion: content.metadata?.resourceVersion } } }, MERGE);
    context.logger.info({ content: name }, "retained snapshot content released; its snapshot stays");
  } catch (error) {
    context.logger.warn({ err: error, content: name }, "releasing a deleted snapshot content failed; retrying on the next pass");
  }
}

/** The object, or undefined when it (or its CRD) is not there. */
async function readOrUndefined<T>(read: () => Promise<unknown>): Promise<T | undefined> {
  try {
    return (await read()) as T;
  } catch (error) {
    if (apiStatus(error) === 404) return undefined;
    throw error;
  }
}
