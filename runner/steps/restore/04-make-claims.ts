/**
 * Make every missing claim from its shared snapshot (runner/restored-claims.ts) and wait until each
 * VolumeSnapshot is ready to use, within the cloud wait bound: only then can the driver make a
 * disk from it when a pod needs the claim. Undone (after a failure too: it makes claims in
 * parallel) by deleting what this restore made; no pod has used any of it, since the replicas are
 * held at 0 until the next step, and the snapshots stay.
 */
import { movingVolumes, readStatefulSet, recordVolumes, type MigrationContext } from "../../context.ts";
import { mapLimit } from "../../parallel.ts";
import { readVolumeSnapshot, removeRestoredClaim, ensureRestoredClaim, volumeSnapshotName } from "../../restored-claims.ts";
import { done, type Step, type StepOutcome } from "../../saga/step.ts";
import { waitWithin } from "../../waits.ts";

const PARALLEL = 8;

export const makeClaims: Step<MigrationContext> = {
  name: "make-claims",
  compensateOnFailure: true,
  async run(context): Promise<StepOutcome> {
    const sts = await readStatefulSet(context);
    const volumes = await movingVolumes(context);
    // Every claim's making is settled before a failure is thrown: a rollback that began while one
    // was still being made would miss what it made next.
    const pending = volumes.filter((volume) => volume.state !== "claim-made");
    const failures = await mapLimit(pending, PARALLEL, (volume) => ensureRestoredClaim(context, sts, volume).then(() => undefined, (error: unknown) => (error instanceof Error ? error : new Error(String(error)))));
    await recordVolumes(context, new Map(pending.filter((_, index) => failures[index] === undefined).map((volume) => [volume.claim, { state: "claim-made" as const }])));
    const failed = failures.find((failure) => failure !== undefined);
    if (failed !== undefined) throw failed;
    const snapshots = await mapLimit(volumes, PARALLEL, async (volume) => ({ volume, found: await readVolumeSnapshot(context, volumeSnapshotName(volume, context.job.migrationId)) }));
    const unready = snapshots.filter(({ found }) => found?.status?.readyToUse !== true);
    if (unready.length === 0) return done;
    const held = unready.map(({ volume, found }) => `${volumeSnapshotName(volume, context.job.migrationId)}${found?.status?.error?.message === undefined ? "" : ` (${found.status.error.message})`}`).join(", ");
    return waitWithin(context, { type: "VolumeSnapshotsBinding", limitMs: context.settings.cloudWaitTimeoutMs, awaited: `VolumeSnapshot(s) ${held} to be ready to use`, overdue: `VolumeSnapshot(s) ${held} never ready to use (is the CSI snapshotter running, with the snapshot CRDs?)`, pollMs: 1_000 });
  },
  async compensate(context): Promise<StepOutcome> {
    // Deleted, then looked at again until gone: the rollback ends with none of them left.
    const left = (await mapLimit(await movingVolumes(context), PARALLEL, (volume) => removeRestoredClaim(context, volume))).flat();
    if (left.length === 0) return done;
    return waitWithin(context, { type: "RestoredClaimsGoing", limitMs: context.settings.cloudWaitTimeoutMs, awaited: `${left.join(", ")} to go`, overdue: `${left.join(", ")} still there`, pollMs: 1_000 });
  },
};
