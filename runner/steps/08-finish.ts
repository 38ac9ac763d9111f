/**
 * Finish: the app runs healthy on its new disks, and this is the point of no return: whatever
 * fails here, the migration is not rolled back (the result says what is left to do by hand).
 * Reclaim and retention policies return to what they were (on the new PVs too); unless
 * retain-source is true, the source PVs and disks are deleted: the only irreversible step, and
 * the last, and only for a volume whose claim is Bound to its new PV and whose snapshot is
 * accomplished (a snapshot that failed after instant access is no copy). ECS refuses to delete a disk while a snapshot of it still uploads (instant access
 * makes a snapshot usable long before), so that is waited for first, within the cloud wait bound.
 */
import type { DiskRecord, SnapshotRecord } from "../../core/disk-cloud.ts";
import type { VolumeProgress, ZoneMigrationResource } from "../journal/types.ts";
import { movingVolumes, readJournal, type MigrationContext } from "../context.ts";
import { PermanentMigrationError, faultKind } from "../faults.ts";
import { orUndefined } from "../kube-patch.ts";
import { mapLimit } from "../parallel.ts";
import { done, waitAndRecheck, type Step, type StepOutcome } from "../saga/step.ts";
import { beginWait, failIfOverdue } from "../waits.ts";
import { claimBoundTo, readVolume } from "../bindings.ts";
import { snapshotMismatch, volumeMismatch } from "../provenance.ts";
import { restorePolicies } from "../reclaim-policies.ts";

const UPLOADING = "SnapshotsUploading";
const PARALLEL = 16;

/** Deletes one volume's source PV and disk; answers what to wait for, if anything. */
async function deleteSource(context: MigrationContext, volume: VolumeProgress): Promise<string | undefined> {
  const [disk] = await context.cloud.describeDisks([volume.sourceDisk!]);
  if (disk?.status === "In_use") return `source disk ${disk.diskId} to detach`;
  const pv = await orUndefined(context.core.readPersistentVolume({ name: volume.sourcePersistentVolume! }));
  // Deleted already (pv-protection or the provisioner's finalizer may hold it a moment): once is enough.
  if (pv !== undefined && pv.metadata?.deletionTimestamp === undefined) await context.core.deletePersistentVolume({ name: volume.sourcePersistentVolume! });
  if (disk === undefined) return undefined;
  try {
    await context.cloud.deleteDisk(disk.diskId);
  } catch (error) {
    if (faultKind(error) !== "permanent") throw error;
    throw new PermanentMigrationError(`source disk ${disk.diskId} in ${disk.zoneId} kept, delete it by hand: ${(error as Error).message}`);
  }
  return undefined;
}

/**
 * The volumes whose source may go: the claim is Bound to its new PV, the snapshot is complete
 * (accomplished), so two other copies hold the data, and the source was not attached again after
 * its snapshot was taken (ECS's attach time), so it holds nothing they lack. The others are named,
 * and their sources kept.
 */
async function verified(context: MigrationContext, journal: ZoneMigrationResource, volumes: readonly VolumeProgress[], snapshots: readonly SnapshotRecord[]): Promise<{ ready: VolumeProgress[]; kept: string[] }> {
  const ready: VolumeProgress[] = [];
  const kept: string[] = [];
  const sources = new Map((await context.cloud.describeDisks(volumes.map((volume) => volume.sourceDisk!))).map((disk) => [disk.diskId, disk]));
  for (const volume of volumes) {
    const snapshot = snapshots.find((found) => found.snapshotId === volume.snapshot);
    const why = (await foreignBecause(context, journal, volume, snapshot)) ?? (await keptBecause(context, volume, snapshot, sources.get(volume.sourceDisk ?? "")));
    if (why === undefined) ready.push(volume);
    else kept.push(`source disk ${volume.sourceDisk ?? "?"} of PVC ${volume.claim} kept: ${why}`);
  }
  return { ready, kept };
}

/**
 * Why the source disk and PV are not provably the claim's own (runner/provenance.ts): this run's
 * snapshot must be of that disk for that claim, and the PV, while it exists, must be the disk
 * CSI volume of that disk for that claim. Undefined when they are.
 */
async function foreignBecause(context: MigrationContext, journal: ZoneMigrationResource, volume: VolumeProgress, snapshot: SnapshotRecord | undefined): Promise<string | undefined> {
  const mismatch = snapshot === undefined ? undefined : snapshotMismatch(context, journal, snapshot, volume);
  if (mismatch !== undefined) return `${mismatch} (not touched: the journal does not chain back to the claim)`;
  const pv = await readVolume(context, volume.sourcePersistentVolume ?? "");
  const wrong = pv === undefined ? undefined : volumeMismatch(pv, volume.sourceDisk, context.job.namespace, volume.claim);
  return wrong === undefined ? undefined : `${wrong} (not touched: the journal does not chain back to the claim)`;
}

async function keptBecause(context: MigrationContext, volume: VolumeProgress, snapshot: SnapshotRecord | undefined, source: DiskRecord | undefined): Promise<string | undefined> {
  if (!(await claimBoundTo(context, volume.claim, volume.newPersistentVolume))) return `the PVC is not Bound to its new PV ${volume.newPersistentVolume ?? "?"}`;
  if (snapshot?.status !== "accomplished") return `its snapshot ${volume.snapshot ?? "?"} is ${snapshot?.status ?? "gone"}, not accomplished`;
  const attached = source?.attachedAt;
  if (attached !== undefined && snapshot.createdAt !== undefined && attached > snapshot.createdAt) {
    return `it was attached at ${new Date(attached).toISOString()}, after its snapshot ${snapshot.snapshotId} was taken (${new Date(snapshot.createdAt).toISOString()}): it may hold writes its new disk lacks`;
  }
  return undefined;
}

export const finish: Step<MigrationContext> = {
  name: "finish",
  pastPointOfNoReturn: true,
  async run(context): Promise<StepOutcome> {
    const onRetain = await restorePolicies(context, (volume) => volume.newPersistentVolume);
    if ((await readJournal(context)).spec.request?.retainSource === true) return leftOrDone(onRetain);
    const volumes = await movingVolumes(context);
    const snapshots = await context.cloud.describeSnapshots(volumes.map((volume) => volume.snapshot!));
    const uploading = snapshots.filter((found) => found.status === "progressing");
    if (uploading.length > 0) {
      const waiting = await beginWait(context, UPLOADING, "waiting for snapshots to finish uploading before the source disks are deleted");
      const sources = uploading.map((found) => found.sourceDiskId).join(", ");
      failIfOverdue(context, waiting, { type: UPLOADING, limitMs: context.settings.cloudWaitTimeoutMs, what: () => `source disk(s) ${sources} and their PVs kept: their snapshots were still uploading; delete them by hand once ECS lets you` });
      return waitAndRecheck(5_000, `waiting for ${uploading.length} snapshot(s) to finish uploading before the source disks are deleted`);
    }
    const { ready, kept } = await verified(context, await readJournal(context), volumes, snapshots);
    const waits = (await mapLimit(ready, PARALLEL, (volume) => deleteSource(context, volume))).filter((wait) => wait !== undefined);
    return waits.length === 0 ? leftOrDone([...onRetain, ...kept]) : waitAndRecheck(1_000, `waiting for ${waits.join(", ")}`);
  },
};

/** Finish never rolls back: what it left is its permanent fault, which ends Succeeded naming it. */
function leftOrDone(left: readonly string[]): StepOutcome {
  if (left.length > 0) throw new PermanentMigrationError(left.join("; "));
  return done;
}
