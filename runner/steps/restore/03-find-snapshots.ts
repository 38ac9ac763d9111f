/**
 * Find each claim's snapshot by name in this account: ECS keeps a shared snapshot's name and gives
 * it an id of this account's. Exactly one per claim, or the restore fails naming the claims and
 * what to do; then wait until each is usable (Available), within the cloud wait bound.
 */
import { movingVolumes, recordVolumes, type MigrationContext } from "../../context.ts";
import { restoreOf } from "../../cross-account.ts";
import { PermanentMigrationError } from "../../faults.ts";
import type { VolumeProgress } from "../../journal/types.ts";
import { done, waitAndRecheck, type Step, type StepOutcome } from "../../saga/step.ts";
import { beginWait, failIfOverdue } from "../../waits.ts";

const PENDING = "SharedSnapshotsPending";

export const findSnapshots: Step<MigrationContext> = {
  name: "find-snapshots",
  async run(context): Promise<StepOutcome> {
    const { sourceAccount, exportId } = restoreOf(context);
    const volumes = await movingVolumes(context);
    const unfound = volumes.filter((volume) => volume.snapshot === undefined);
    const found = await Promise.all(unfound.map(async (volume) => ({ volume, snapshots: await context.cloud.findSnapshotsByName(volume.snapshotName!) })));
    const missing = found.filter(({ snapshots }) => snapshots.length === 0).map(({ volume }) => volume);
    const ambiguous = found.filter(({ snapshots }) => snapshots.length > 1).map(({ volume }) => volume);
    if (missing.length > 0 || ambiguous.length > 0) throw new PermanentMigrationError(problems(missing, ambiguous, sourceAccount, exportId));
    await recordVolumes(context, new Map(found.map(({ volume, snapshots }) => [volume.claim, { snapshot: snapshots[0]!.snapshotId, sizeGiB: snapshots[0]!.sourceDiskSizeGiB, state: "snapshotted" } satisfies Partial<VolumeProgress>])));
    const ids = (await movingVolumes(context)).map((volume) => volume.snapshot!);
    const records = await context.cloud.describeSnapshots(ids);
    const pending = ids.filter((id) => records.find((record) => record.snapshotId === id)?.available !== true);
    if (pending.length === 0) return done;
    const waiting = await beginWait(context, PENDING, "waiting for the shared snapshots to be usable");
    failIfOverdue(context, waiting, { type: PENDING, limitMs: context.settings.cloudWaitTimeoutMs, what: () => `shared snapshot(s) ${pending.join(", ")} not usable; nothing was made` });
    return waitAndRecheck(2_000, `waiting for ${pending.length} shared snapshot(s) to be usable`);
  },
};

function problems(missing: readonly VolumeProgress[], ambiguous: readonly VolumeProgress[], sourceAccount: string, exportId: string): string {
  const parts: string[] = [];
  if (missing.length > 0) {
    parts.push(`no snapshot named ${missing.map((volume) => `${volume.snapshotName ?? "?"} (PVC ${volume.claim})`).join(", ")} is in this account: export ${exportId} of account ${sourceAccount} holds none for ${missing.length === 1 ? "this claim" : "these claims"} (was it made from a StatefulSet of this name, in a namespace of this name, with at least as many replicas?); nothing was made`);
  }
  if (ambiguous.length > 0) {
    parts.push(`more than one snapshot is named ${ambiguous.map((volume) => volume.snapshotName ?? "?").join(", ")} in this account, so which to restore is not known; nothing was made: delete or rename the one that is not export ${exportId}'s`);
  }
  return parts.join("; ");
}
