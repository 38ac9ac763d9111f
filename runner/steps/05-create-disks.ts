/**
 * One new disk per volume in its planned zone, from its snapshot, with the source's category,
 * performance level and size, a deterministic ClientToken and the migration's tags; wait until
 * each is Available. Rollback deletes them.
 */
import { NotFoundCloudError } from "../../core/cloud-errors.ts";
import { clientToken, cloudTags, movingVolumes, readJournal, recordVolume, type MigrationContext } from "../context.ts";
import { PermanentMigrationError, faultKind } from "../faults.ts";
import { done, waitAndRecheck, type Step, type StepOutcome } from "../saga/step.ts";

const POLL_MS = 1_000;

/** Deletes the new disks recorded in the journal; waits while one is still attached. */
async function deleteNewDisks(context: MigrationContext): Promise<StepOutcome> {
  for (const volume of await movingVolumes(context)) {
    if (volume.newDisk === undefined) continue;
    const [disk] = await context.cloud.describeDisks([volume.newDisk]);
    if (disk === undefined) continue;
    if (disk.status === "In_use") return waitAndRecheck(POLL_MS, `waiting for new disk ${disk.diskId} to detach`);
    try {
      await context.cloud.deleteDisk(volume.newDisk);
    } catch (error) {
      if (!(error instanceof NotFoundCloudError)) throw error;
    }
  }
  return done;
}

export const createDisks: Step<MigrationContext> = {
  name: "create-disks",
  async run(context): Promise<StepOutcome> {
    try {
      return await createAndAwait(context);
    } catch (error) {
      // Disks are made in parallel: when one fails for good, the others made meanwhile would leak,
      // since a failed step registers no compensation. Clean them up, then fail.
      if (faultKind(error) === "permanent") await deleteNewDisks(context);
      throw error;
    }
  },
  compensate: deleteNewDisks,
};

/** Creates the missing disks (adopting any found by tag) and answers whether all are Available. */
async function createAndAwait(context: MigrationContext): Promise<StepOutcome> {
  const journal = await readJournal(context);
  const volumes = journal.status?.volumes ?? [];
  const sources = new Map((await context.cloud.describeDisks(volumes.map((volume) => volume.sourceDisk!))).map((disk) => [disk.diskId, disk]));
  await Promise.all(volumes.filter((volume) => volume.newDisk === undefined).map(async (volume) => {
    const source = sources.get(volume.sourceDisk!);
    if (source === undefined) throw new PermanentMigrationError(`source disk ${volume.sourceDisk ?? "?"} of PVC ${volume.claim} is gone`);
    const tags = cloudTags(context, journal, volume.claim);
    const [found] = await context.cloud.findDisksByTags(tags);
    const diskId = found?.diskId ?? await context.cloud.createDisk({
      zoneId: volume.zone!,
      category: source.category,
      sizeGiB: source.sizeGiB,
      snapshotId: volume.snapshot!,
      name: `zoneferry-${volume.claim}`,
      tags,
      clientToken: clientToken(context, journal, "disk", volume.claim),
      ...(source.performanceLevel === undefined ? {} : { performanceLevel: source.performanceLevel }),
    });
    await recordVolume(context, volume.claim, { newDisk: diskId, state: "disk-created" });
  }));
  const ids = (await movingVolumes(context)).map((volume) => volume.newDisk!);
  const available = (await context.cloud.describeDisks(ids)).filter((disk) => disk.status === "Available" || disk.status === "In_use");
  return available.length === ids.length ? done : waitAndRecheck(POLL_MS, `waiting for ${ids.length - available.length} new disk(s) to be Available`);
}

