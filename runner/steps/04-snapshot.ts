/**
 * Snapshot every source disk, all at once, with a deterministic ClientToken and the migration's
 * tags (a crash between create and journal finds the snapshot again by tag); wait until each is
 * Available. Snapshots are kept on rollback: they are the user's backup, with the retention asked.
 */
import { clientToken, cloudTags, movingVolumes, readJournal, recordVolume, type MigrationContext } from "../context.ts";
import { done, waitAndRecheck, type Step, type StepOutcome } from "../saga/step.ts";

const POLL_MS = 1_000;

export const snapshot: Step<MigrationContext> = {
  name: "snapshot",
  async run(context): Promise<StepOutcome> {
    const journal = await readJournal(context);
    const days = journal.spec.request?.snapshotRetentionDays ?? 1;
    const volumes = await movingVolumes(context);
    await Promise.all(volumes.filter((volume) => volume.snapshot === undefined).map(async (volume) => {
      const tags = cloudTags(context, journal, volume.claim);
      const [found] = await context.cloud.findSnapshotsByTags(tags);
      const snapshotId = found?.snapshotId ?? await context.cloud.createSnapshot({
        diskId: volume.sourceDisk!,
        name: `zoneferry-${context.job.migrationId}`,
        tags,
        clientToken: clientToken(context, journal, "snap", volume.claim),
        ...(days === -1 ? {} : { retentionDays: days }),
      });
      await recordVolume(context, volume.claim, { snapshot: snapshotId, state: "snapshotted" });
    }));
    const ids = (await movingVolumes(context)).map((volume) => volume.snapshot!);
    const ready = (await context.cloud.describeSnapshots(ids)).filter((found) => found.available);
    return ready.length === ids.length ? done : waitAndRecheck(POLL_MS, `waiting for ${ids.length - ready.length} snapshot(s) to be Available`);
  },
};
