/**
 * Finish: the app runs healthy on its new disks, and this is the point of no return: whatever
 * fails here, the migration is not rolled back (the result says what is left to do by hand).
 * Reclaim and retention policies return to what they were (on the new PVs too); unless
 * retain-source is true, the source PVs and disks are deleted: the only irreversible step, and
 * the last. ECS refuses to delete a disk while a snapshot of it still uploads (instant access
 * makes a snapshot usable long before), so that is waited for first, within the cloud wait bound.
 */
import type { VolumeProgress } from "../journal/types.ts";
import { movingVolumes, readJournal, type MigrationContext } from "../context.ts";
import { PermanentMigrationError, faultKind } from "../faults.ts";
import { orUndefined } from "../kube-patch.ts";
import { mapLimit } from "../parallel.ts";
import { done, waitAndRecheck, type Step, type StepOutcome } from "../saga/step.ts";
import { beginWait, failIfOverdue } from "../waits.ts";
import { restorePolicies } from "./02-protect.ts";

const UPLOADING = "SnapshotsUploading";
const PARALLEL = 16;

/** Deletes one volume's source PV and disk; answers what to wait for, if anything. */
async function deleteSource(context: MigrationContext, volume: VolumeProgress): Promise<string | undefined> {
  const [disk] = await context.cloud.describeDisks([volume.sourceDisk!]);
  if (disk?.status === "In_use") return `source disk ${disk.diskId} to detach`;
  const pv = await orUndefined(context.core.readPersistentVolume({ name: volume.sourcePersistentVolume! }));
  if (pv !== undefined) await context.core.deletePersistentVolume({ name: volume.sourcePersistentVolume! });
  if (disk === undefined) return undefined;
  try {
    await context.cloud.deleteDisk(disk.diskId);
  } catch (error) {
    if (faultKind(error) !== "permanent") throw error;
    throw new PermanentMigrationError(`source disk ${disk.diskId} in ${disk.zoneId} kept, delete it by hand: ${(error as Error).message}`);
  }
  return undefined;
}

export const finish: Step<MigrationContext> = {
  name: "finish",
  pastPointOfNoReturn: true,
  async run(context): Promise<StepOutcome> {
    await restorePolicies(context, (volume) => volume.newPersistentVolume);
    if ((await readJournal(context)).spec.request?.retainSource === true) return done;
    const volumes = await movingVolumes(context);
    const uploading = (await context.cloud.describeSnapshots(volumes.map((volume) => volume.snapshot!))).filter((found) => found.status === "progressing");
    if (uploading.length > 0) {
      const waiting = await beginWait(context, UPLOADING, "waiting for snapshots to finish uploading before the source disks are deleted");
      const sources = uploading.map((found) => found.sourceDiskId).join(", ");
      failIfOverdue(context, waiting, { type: UPLOADING, limitMs: context.settings.cloudWaitTimeoutMs, what: () => `source disk(s) ${sources} and their PVs kept: their snapshots were still uploading; delete them by hand once ECS lets you` });
      return waitAndRecheck(5_000, `waiting for ${uploading.length} snapshot(s) to finish uploading before the source disks are deleted`);
    }
    const waits = (await mapLimit(volumes, PARALLEL, (volume) => deleteSource(context, volume))).filter((wait) => wait !== undefined);
    return waits.length === 0 ? done : waitAndRecheck(1_000, `waiting for ${waits.join(", ")}`);
  },
};
