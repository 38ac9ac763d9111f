/**
 * One new disk per volume in its planned zone, from its snapshot, with the source's category,
 * performance level and size, a deterministic ClientToken and the migration's tags. The wait until
 * each is Available (at most RUNNER_CLOUD_WAIT_TIMEOUT) is `awaitNewDisks`, which restore-replicas
 * runs before it scales up: the rebind needs only the disks' ids, so the PVCs are rebound while
 * ECS still makes the disks (binding 64 PVCs takes the controllers about as long as ECS takes to
 * make a disk, and all of it is the application's downtime). Rollback deletes them, also after the
 * step itself failed: disks are made in parallel, and one failing leaves the others made.
 */
import { NotFoundCloudError } from "../../core/cloud-errors.ts";
import type { DiskRecord } from "../../core/disk-cloud.ts";
import { claimOfTags, clientToken, cloudTags, makeAll, movingVolumes, readJournal, runTags, type MigrationContext } from "../context.ts";
import { PermanentMigrationError } from "../faults.ts";
import { done, waitAndRecheck, type Step, type StepOutcome } from "../saga/step.ts";
import { beginWait, failIfOverdue } from "../waits.ts";

const POLL_MS = 1_000;
const CREATING = "NewDisksCreating";
const RELEASING = "NewDisksReleasing";

const where = (disk: DiskRecord): string => `${disk.diskId} (${disk.status} in ${disk.zoneId})`;

/**
 * Deletes the new disks recorded in the journal. It runs last in a rollback, after the app is back
 * on its original disks. A disk ECS cannot delete yet (still Creating, attached) is waited for,
 * within the cloud wait bound; past it the rollback ends RollbackFailed, naming the disk left.
 */
async function deleteNewDisks(context: MigrationContext): Promise<StepOutcome> {
  const journal = await readJournal(context);
  const ids = (journal.status?.volumes ?? []).flatMap((volume) => (volume.newDisk === undefined ? [] : [volume.newDisk]));
  // By tag too: a disk ECS made just before a crash may never have reached the journal.
  const tagged = await context.cloud.findDisksByTags(runTags(context, journal));
  const existing = [...tagged, ...(await context.cloud.describeDisks(ids.filter((id) => !tagged.some((disk) => disk.diskId === id))))];
  const busy = existing.filter((disk) => disk.status !== "Available");
  for (const disk of existing.filter((candidate) => candidate.status === "Available")) {
    try {
      await context.cloud.deleteDisk(disk.diskId);
    } catch (error) {
      if (!(error instanceof NotFoundCloudError)) throw error;
    }
  }
  if (busy.length === 0) return done;
  const waiting = await beginWait(context, RELEASING, "waiting for new disks to be deletable");
  failIfOverdue(context, waiting, { type: RELEASING, limitMs: context.settings.cloudWaitTimeoutMs, what: () => `new disk(s) ${busy.map(where).join(", ")} could not be deleted (they hold only copies of the snapshots; delete them once ECS lets you)` });
  return waitAndRecheck(POLL_MS, `waiting for new disk(s) ${busy.map(where).join(", ")} to be deletable`);
}

export const createDisks: Step<MigrationContext> = {
  name: "create-disks",
  compensateOnFailure: true,
  compensateLast: true,
  async run(context): Promise<StepOutcome> {
    await createMissing(context);
    return done;
  },
  compensate: deleteNewDisks,
};

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

/** Creates the missing disks, adopting any a crashed run made (found by tag, one listing for all). */
async function createMissing(context: MigrationContext): Promise<void> {
  const journal = await readJournal(context);
  const missing = (journal.status?.volumes ?? []).filter((volume) => volume.newDisk === undefined);
  if (missing.length === 0) return;
  const sources = new Map((await context.cloud.describeDisks(missing.map((volume) => volume.sourceDisk!))).map((disk) => [disk.diskId, disk]));
  const adopted = new Map((await context.cloud.findDisksByTags(runTags(context, journal))).map((disk) => [claimOfTags(context, disk.tags), disk.diskId]));
  await makeAll(context, missing, async (volume) => {
    const source = sources.get(volume.sourceDisk!);
    if (source === undefined) throw new PermanentMigrationError(`source disk ${volume.sourceDisk ?? "?"} of PVC ${volume.claim} is gone`);
    const diskId = adopted.get(volume.claim) ?? await context.cloud.createDisk({
      zoneId: volume.zone!,
      category: source.category,
      sizeGiB: source.sizeGiB,
      snapshotId: volume.snapshot!,
      name: `zoneferry-${volume.claim}`,
      tags: cloudTags(context, journal, volume.claim),
      clientToken: clientToken(context, journal, "disk", volume.claim),
      ...(source.performanceLevel === undefined ? {} : { performanceLevel: source.performanceLevel }),
    });
    return { newDisk: diskId, state: "disk-created" };
  });
}
