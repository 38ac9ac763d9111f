/**
 * Share the export's snapshots with its accounts through one Resource Sharing share, named for
 * the export (core/cross-account-request.ts exportShareName), so a run again finds it instead of
 * making a second, and the restore side finds it by name. Resource Sharing shares an ECS snapshot
 * only once it is complete (accomplished), so that is waited for first, within the cloud wait
 * bound. Undone by deleting the share: the snapshots stay, the user's backup.
 */
import { exportShareName } from "../../../core/cross-account-request.ts";
import { journalNameOf, movingVolumes, readJournal, type MigrationContext } from "../../context.ts";
import { exportOf, sharingOf } from "../../cross-account.ts";
import { PermanentMigrationError } from "../../faults.ts";
import { done, waitAndRecheck, type Step, type StepOutcome } from "../../saga/step.ts";
import { beginWait, failIfOverdue } from "../../waits.ts";

const UPLOADING = "SnapshotsUploading";

export const share: Step<MigrationContext> = {
  name: "share",
  async run(context): Promise<StepOutcome> {
    const { accounts } = exportOf(context);
    const sharing = sharingOf(context);
    const ids = (await movingVolumes(context)).map((volume) => volume.snapshot!);
    const snapshots = await context.cloud.describeSnapshots(ids);
    const failed = snapshots.filter((snapshot) => snapshot.status === "failed");
    if (failed.length > 0) throw new PermanentMigrationError(`ECS failed snapshot(s) ${failed.map((snapshot) => snapshot.snapshotId).join(", ")}`);
    const uploading = ids.filter((id) => snapshots.find((snapshot) => snapshot.snapshotId === id)?.status !== "accomplished");
    if (uploading.length > 0) {
      const waiting = await beginWait(context, UPLOADING, "waiting for the snapshots to finish uploading: only a complete snapshot can be shared");
      failIfOverdue(context, waiting, { type: UPLOADING, limitMs: context.settings.cloudWaitTimeoutMs, what: () => `snapshot(s) ${uploading.join(", ")} still uploading` });
      return waitAndRecheck(2_000, `waiting for ${uploading.length} snapshot(s) to finish uploading before they are shared`);
    }
    const made = await sharing.ensureShare({ name: exportShareName(context.job.migrationId), snapshotIds: ids, targetAccounts: accounts });
    await context.journal.updateStatus(context.job.namespace, journalNameOf(context), (status) => {
      status.share = { shareId: made.shareId, name: made.name, ownerAccountId: made.ownerAccountId };
    });
    return done;
  },
  async compensate(context): Promise<StepOutcome> {
    const made = (await readJournal(context)).status?.share;
    if (made !== undefined) await sharingOf(context).deleteShare(made.shareId);
    return done;
  },
};
