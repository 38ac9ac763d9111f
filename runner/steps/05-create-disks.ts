/**
 * One new disk per volume in its planned zone, from its snapshot, with the source's category,
 * performance level and size, its encryption and KMS key, provisioned IOPS and bursting,
 * multi-attach and resource group, and its own tags with the migration's on top
 * (core/carried-attributes.ts), under a deterministic ClientToken. The wait until
 * each is Available (at most RUNNER_CLOUD_WAIT_TIMEOUT) is `awaitNewDisks` (runner/new-disks.ts), which restore-replicas
 * runs before it scales up: the rebind needs only the disks' ids, so the PVCs are rebound while
 * ECS still makes the disks (binding 64 PVCs takes the controllers about as long as ECS takes to
 * make a disk, and all of it is the application's downtime). Rollback deletes those that hold only
 * copies, also after the step itself failed: disks are made in parallel, and one failing leaves the
 * others made.
 */
import { MAX_DISK_TAGS, carriedAttributes, newDiskTags } from "../../core/carried-attributes.ts";
import { claimOfTags, clientToken, cloudTags, inScope, makeAll, readJournal, runTags, type MigrationContext } from "../context.ts";
import { PermanentMigrationError } from "../faults.ts";
import { deleteNewDisks } from "../new-disks.ts";
import { done, type Step, type StepOutcome } from "../saga/step.ts";
import { ProvenanceError, snapshotMismatch } from "../provenance.ts";

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

/** Creates the missing disks, adopting any a crashed run made (found by tag, one listing for all). */
async function createMissing(context: MigrationContext): Promise<void> {
  const journal = await readJournal(context);
  const missing = inScope(context, journal.status?.volumes ?? []).filter((volume) => volume.newDisk === undefined);
  if (missing.length === 0) return;
  // A disk is made only from this run's snapshot of the claim's source disk (runner/provenance.ts).
  const snapshots = await context.cloud.describeSnapshots(missing.map((volume) => volume.snapshot!));
  for (const volume of missing) {
    const made = snapshots.find((found) => found.snapshotId === volume.snapshot);
    const mismatch = made === undefined ? undefined : snapshotMismatch(context, journal, made, volume);
    if (mismatch !== undefined) throw new ProvenanceError(mismatch);
  }
  const sources = new Map((await context.cloud.describeDisks(missing.map((volume) => volume.sourceDisk!))).map((disk) => [disk.diskId, disk]));
  const adopted = new Map((await context.cloud.findDisksByTags(runTags(context, journal))).map((disk) => [claimOfTags(context, disk.tags), disk.diskId]));
  await makeAll(context, missing, async (volume) => {
    const source = sources.get(volume.sourceDisk!);
    if (source === undefined) throw new PermanentMigrationError(`source disk ${volume.sourceDisk ?? "?"} of PVC ${volume.claim} is gone`);
    const tags = newDiskTags(source.tags, cloudTags(context, journal, volume.claim));
    // Admission and precheck deny this; the source's tags may have grown since.
    if (Object.keys(tags).length > MAX_DISK_TAGS) {
      throw new PermanentMigrationError(`source disk ${source.diskId} of PVC ${volume.claim} has too many tags for its new disk to take them and zoneferry's (${Object.keys(tags).length} > ${MAX_DISK_TAGS}); remove some from the disk and retry`);
    }
    const diskId = adopted.get(volume.claim) ?? await context.cloud.createDisk({
      zoneId: volume.zone!,
      category: source.category,
      sizeGiB: source.sizeGiB,
      snapshotId: volume.snapshot!,
      name: `zoneferry-${volume.claim}`,
      tags,
      clientToken: clientToken(context, journal, "disk", volume.claim),
      attributes: carriedAttributes(source),
      ...(source.performanceLevel === undefined ? {} : { performanceLevel: source.performanceLevel }),
    });
    return { newDisk: diskId, state: "disk-created" };
  });
}
