/**
 * Snapshot every source disk, all at once, with a deterministic ClientToken and the run's tags (a
 * crash between create and journal finds the snapshot again by tag, with one listing for all);
 * wait until each is Available, for at most RUNNER_CLOUD_WAIT_TIMEOUT. Snapshots are kept on
 * rollback: they are the user's backup, with the retention asked.
 */
import { claimOfTags, clientToken, cloudTags, inScope, makeAll, movingVolumes, readJournal, runTags, type MigrationContext } from "../context.ts";
import { boundTogether, readClaim, readVolume } from "../bindings.ts";
import { PermanentMigrationError } from "../faults.ts";
import type { VolumeProgress } from "../journal/types.ts";
import { ProvenanceError, assertVolumeOf } from "../provenance.ts";
import { assertAppDown } from "../premises.ts";
import { done, waitAndRecheck, type Step, type StepOutcome } from "../saga/step.ts";
import { beginWait, failIfOverdue } from "../waits.ts";

const POLL_MS = 1_000;
const PENDING = "SnapshotsPending";

async function createMissing(context: MigrationContext): Promise<void> {
  const journal = await readJournal(context);
  const missing = inScope(context, journal.status?.volumes ?? []).filter((volume) => volume.snapshot === undefined);
  if (missing.length === 0) return;
  const days = journal.spec.request?.snapshotRetentionDays ?? 1;
  const adopted = new Map((await context.cloud.findSnapshotsByTags(runTags(context, journal))).map((found) => [claimOfTags(context, found.tags), found.snapshotId]));
  // A disk is copied only when it is the disk of the claim's own PV, which the claim is Bound to.
  await Promise.all(missing.filter((volume) => !adopted.has(volume.claim)).map((volume) => assertClaimsDisk(context, volume)));
  await makeAll(context, missing, async (volume) => ({
    state: "snapshotted",
    snapshot: adopted.get(volume.claim) ?? await context.cloud.createSnapshot({
      diskId: volume.sourceDisk!,
      // An export's snapshot is named for its claim: the receiving account finds it by that name.
      name: volume.snapshotName ?? `zoneferry-${context.job.migrationId}`,
      tags: cloudTags(context, journal, volume.claim),
      clientToken: clientToken(context, journal, "snap", volume.claim),
      ...(days === -1 ? {} : { retentionDays: days }),
    }),
  }));
}

async function assertClaimsDisk(context: MigrationContext, volume: VolumeProgress): Promise<void> {
  const [claim, pv] = await Promise.all([readClaim(context, volume.claim), readVolume(context, volume.sourcePersistentVolume ?? "")]);
  if (pv === undefined) throw new ProvenanceError(`source PV ${volume.sourcePersistentVolume ?? "?"} of PVC ${volume.claim} is gone`);
  assertVolumeOf(pv, volume.sourceDisk, context.job.namespace, volume.claim);
  if (!boundTogether(claim, pv)) throw new ProvenanceError(`PVC ${volume.claim} is not Bound to source PV ${volume.sourcePersistentVolume ?? "?"}`);
}

export const snapshot: Step<MigrationContext> = {
  name: "snapshot",
  async run(context): Promise<StepOutcome> {
    await assertAppDown(context, "the snapshot");
    await createMissing(context);
    const ids = (await movingVolumes(context)).map((volume) => volume.snapshot!);
    const found = await context.cloud.describeSnapshots(ids);
    const broken = found.filter((record) => record.status === "failed");
    if (broken.length > 0) throw new PermanentMigrationError(`ECS failed snapshot(s) ${broken.map((record) => `${record.snapshotId} of disk ${record.sourceDiskId}`).join(", ")}`);
    const pending = ids.filter((id) => found.find((record) => record.snapshotId === id)?.available !== true);
    if (pending.length === 0) return done;
    const waiting = await beginWait(context, PENDING, "waiting for snapshots to be Available");
    failIfOverdue(context, waiting, { type: PENDING, limitMs: context.settings.cloudWaitTimeoutMs, what: () => `snapshot(s) ${pending.join(", ")} not Available` });
    return waitAndRecheck(POLL_MS, `waiting for ${pending.length} snapshot(s) to be Available`);
  },
};
