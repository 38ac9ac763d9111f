/**
 * The new disks, past their making: the wait until ECS has made them (restore-replicas runs it
 * before it scales up, so the PVCs are rebound while ECS works), and their removal in a rollback
 * (create-disks' undo, which runs last, after the app is back on its original disks).
 *
 * A rollback deletes a new disk only when its claim is Bound to its source PV and the source disk
 * still exists in ECS: another disk the claim reaches holds the data (invariant a). A new disk a
 * pod has run on is never deleted (invariant c): the app may have written to it after the move.
 * It is kept with a snapshot of it, and named in the result for a human to decide.
 */
import { NotFoundCloudError, TransientCloudError } from "../core/cloud-errors.ts";
import type { DiskRecord } from "../core/disk-cloud.ts";
import { claimBoundTo } from "./bindings.ts";
import { claimOfTags, clientToken, cloudTags, inScope, movingVolumes, readJournal, recordVolumes, runTags, type MigrationContext } from "./context.ts";
import { PermanentMigrationError } from "./faults.ts";
import type { VolumeProgress, ZoneMigrationResource } from "./journal/types.ts";
import { done, doneKeeping, waitAndRecheck, type StepOutcome } from "./saga/step.ts";
import { beginWait, failIfOverdue } from "./waits.ts";
import { madeByRunFor } from "./provenance.ts";

const POLL_MS = 1_000;
const CREATING = "NewDisksCreating";
const RELEASING = "NewDisksReleasing";

const where = (disk: DiskRecord): string => `${disk.diskId} (${disk.status} in ${disk.zoneId})`;

/**
 * ECS's answers to DeleteDisk on an Available disk that it cannot delete yet: still initializing
 * from its snapshot (which may last long after the disk is Available), or another operation on it.
 * The disk joins the bounded wait like one still Creating, rather than spending the rollback's retry
 * budget and leaving the other disks undeleted.
 */
const NOT_YET: ReadonlySet<string> = new Set(["IncorrectDiskStatus.Initializing", "Operation.Conflict", "DiskCreatingSnapshot"]);

/** Waits until every new disk is Available (or already attached), within the cloud wait bound. */
export async function awaitNewDisks(context: MigrationContext): Promise<StepOutcome> {
  const ids = (await movingVolumes(context)).map((volume) => volume.newDisk!);
  const found = await context.cloud.describeDisks(ids);
  const gone = ids.filter((id) => !found.some((disk) => disk.diskId === id));
  if (gone.length > 0) throw new PermanentMigrationError(`new disk(s) ${gone.join(", ")} disappeared from ECS while being made`);
  const pending = found.filter((disk) => disk.status !== "Available" && disk.status !== "In_use");
  if (pending.length === 0) return done;
  const journal = await beginWait(context, CREATING, "waiting for new disks to be Available");
  failIfOverdue(context, journal, { type: CREATING, limitMs: context.settings.cloudWaitTimeoutMs, what: () => `new disk(s) ${pending.map(where).join(", ")} not Available` });
  return waitAndRecheck(POLL_MS, `waiting for ${pending.length} new disk(s) to be Available`);
}

interface Verdict {
  readonly disk: DiskRecord;
  readonly volume: VolumeProgress | undefined;
  /** Why it must be kept; undefined when it holds only a copy and may go. */
  readonly keep: string | undefined;
}

/** Whether a new disk holds only a copy of what its claim's source disk holds. */
async function judge(context: MigrationContext, journal: ZoneMigrationResource, disk: DiskRecord, around: { readonly volume: VolumeProgress | undefined; readonly sources: ReadonlySet<string> }): Promise<Verdict> {
  const { volume, sources } = around;
  const named = `new disk ${disk.diskId} in ${disk.zoneId}`;
  if (volume === undefined) return { disk, volume, keep: `${named} (no claim of this migration names it)` };
  // Only a disk this run made for the claim (its tags) is this migration's to delete.
  if (!madeByRunFor(context, journal, disk.tags, volume.claim)) return { disk, volume, keep: `${named} (the journal names it for PVC ${volume.claim}, but it was not made by this migration: not touched)` };
  if (volume.servedAt !== undefined && volume.newDisk === disk.diskId) return { disk, volume, keep: `${named} of PVC ${volume.claim} (the app ran on it after the move; the PVC is back on ${volume.sourceDisk ?? "its source disk"})` };
  if (!sources.has(volume.sourceDisk ?? "")) return { disk, volume, keep: `${named} of PVC ${volume.claim} (its source disk ${volume.sourceDisk ?? "?"} is gone: it may hold the only copy)` };
  if (!(await claimBoundTo(context, volume.claim, volume.sourcePersistentVolume))) {
    return { disk, volume, keep: `${named} of PVC ${volume.claim} (the PVC is not Bound to its source PV ${volume.sourcePersistentVolume ?? "?"}: it may be the only disk the PVC reaches)` };
  }
  return { disk, volume, keep: undefined };
}

/** Snapshots each kept disk that a pod ran on (once: the snapshot is journaled), so its writes are safe whatever a human does next. */
async function snapshotServed(context: MigrationContext, journal: ZoneMigrationResource, kept: readonly Verdict[]): Promise<Map<string, string>> {
  const snapshots = new Map<string, string>();
  const changes = new Map<string, Partial<VolumeProgress>>();
  const days = journal.spec.request?.snapshotRetentionDays ?? 1;
  for (const { disk, volume } of kept) {
    if (volume?.servedAt === undefined || volume.newDisk !== disk.diskId || !madeByRunFor(context, journal, disk.tags, volume.claim)) continue;
    const id = volume.keptSnapshot ?? await context.cloud.createSnapshot({
      diskId: disk.diskId,
      name: `zoneferry-kept-${context.job.migrationId}`,
      tags: { ...cloudTags(context, journal, volume.claim), "zoneferry.io/kept": "true" },
      clientToken: clientToken(context, journal, "kept", volume.claim),
      ...(days === -1 ? {} : { retentionDays: days }),
    });
    snapshots.set(disk.diskId, id);
    if (volume.keptSnapshot === undefined) changes.set(volume.claim, { keptSnapshot: id });
  }
  await recordVolumes(context, changes);
  return snapshots;
}

/**
 * Deletes the new disks that hold only copies; keeps (and names) the others. A disk ECS cannot
 * delete yet (still Creating, attached) is waited for within the cloud wait bound; past it the
 * rollback ends RollbackFailed, naming the disk.
 */
export async function deleteNewDisks(context: MigrationContext): Promise<StepOutcome> {
  const journal = await readJournal(context);
  const volumes = inScope(context, journal.status?.volumes ?? []);
  const ids = volumes.flatMap((volume) => (volume.newDisk === undefined ? [] : [volume.newDisk]));
  // By tag too: a disk ECS made just before a crash may never have reached the journal. Under
  // strategy Rolling, only the disks of the replica rolled back: the others' serve their pods.
  const claims = new Set(volumes.map((volume) => volume.claim));
  const tagged = (await context.cloud.findDisksByTags(runTags(context, journal))).filter((disk) => context.replica === undefined || claims.has(claimOfTags(context, disk.tags) ?? ""));
  const existing = [...tagged, ...(await context.cloud.describeDisks(ids.filter((id) => !tagged.some((disk) => disk.diskId === id))))];
  const sources = new Set((await context.cloud.describeDisks(volumes.flatMap((volume) => (volume.sourceDisk === undefined ? [] : [volume.sourceDisk])))).map((disk) => disk.diskId));
  const verdicts = await Promise.all(existing.map((disk) => judge(context, journal, disk, { volume: volumes.find((volume) => volume.claim === claimOfTags(context, disk.tags) || volume.newDisk === disk.diskId), sources })));
  const kept = verdicts.filter((verdict) => verdict.keep !== undefined);
  const snapshots = await snapshotServed(context, journal, kept);
  const busy = verdicts.filter((verdict) => verdict.keep === undefined && verdict.disk.status !== "Available").map((verdict) => where(verdict.disk));
  for (const { disk } of verdicts.filter((verdict) => verdict.keep === undefined && verdict.disk.status === "Available")) {
    try {
      await context.cloud.deleteDisk(disk.diskId);
    } catch (error) {
      if (error instanceof TransientCloudError && NOT_YET.has(error.code)) busy.push(`${disk.diskId} (${error.code} in ${disk.zoneId})`);
      else if (!(error instanceof NotFoundCloudError)) throw error;
    }
  }
  if (busy.length > 0) {
    const waiting = await beginWait(context, RELEASING, "waiting for new disks to be deletable");
    failIfOverdue(context, waiting, { type: RELEASING, limitMs: context.settings.cloudWaitTimeoutMs, what: () => `new disk(s) ${busy.join(", ")} could not be deleted (each holds only a copy of its PVC's data, which is back on its source disk; delete them once ECS lets you)` });
    return waitAndRecheck(POLL_MS, `waiting for new disk(s) ${busy.join(", ")} to be deletable`);
  }
  return doneKeeping(kept.length === 0 ? undefined : kept.map(({ disk, keep }) => `${keep!}${snapshots.has(disk.diskId) ? `, snapshot ${snapshots.get(disk.diskId)!}` : ""}`).join("; "));
}
