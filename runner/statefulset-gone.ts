/**
 * A StatefulSet deleted while its migration runs, or deleted and made again under its name (the
 * usual way to change an immutable field: `kubectl delete --cascade=orphan`, then apply): the
 * runner stops where it is. Nothing is undone, because undoing needs the StatefulSet the plan was
 * made for (its claim template, its replicas), and a StatefulSet made again may already run pods
 * on the claims. No disk is deleted, because with the pods gone nobody can tell whether a new disk
 * holds writes its source lacks. The run ends Failed, its message naming where each claim's data
 * is; the journal, which has no owner (runner/journal/journal.ts), keeps the record.
 */
import { journalNameOf, readStatefulSet, type MigrationContext } from "./context.ts";
import { journaledStatefulSetUid } from "./journal/journal.ts";
import type { VolumeProgress, ZoneMigrationResource } from "./journal/types.ts";
import { orUndefined } from "./kube-patch.ts";
import { halt, type Step, type StepOutcome } from "./saga/step.ts";

/** What every stopped run says it did, before it says where the data is. */
const STOPPED = "zoneferry stopped, undid nothing and deleted no disk";

/** Why the run must stop, or undefined while the StatefulSet it was planned for is there. */
export async function statefulSetGone(context: MigrationContext, step: string): Promise<string | undefined> {
  const journal = await context.journal.read(context.job.namespace, journalNameOf(context));
  // No plan yet (precheck reads the StatefulSet itself), or an earlier run's finished journal.
  if (journal?.spec.plan === undefined || journal.status?.finishedAt !== undefined) return undefined;
  const planned = journaledStatefulSetUid(journal);
  const sts = await orUndefined(readStatefulSet(context));
  if (sts !== undefined && (planned === undefined || sts.metadata?.uid === planned)) return undefined;
  const { namespace, statefulSet } = context.job;
  const what = sts === undefined ? "was deleted" : `was deleted and made again (uid ${sts.metadata?.uid ?? "?"}, the migration was planned for ${planned ?? "?"})`;
  const where = await whereabouts(context, journal);
  return `StatefulSet ${namespace}/${statefulSet} ${what} during step ${step}: ${STOPPED} (every PV the migration touched stays on reclaim policy Retain); ${where}`;
}

/** Where each claim's data is, from the journal and each claim's binding now. */
async function whereabouts(context: MigrationContext, journal: ZoneMigrationResource): Promise<string> {
  const volumes = journal.status?.volumes ?? [];
  if (volumes.length === 0) return "no volume was planned to move";
  const places = await Promise.all(volumes.map((volume) => placeOf(context, volume)));
  return `where the data is: ${places.join("; ")}`;
}

async function placeOf(context: MigrationContext, volume: VolumeProgress): Promise<string> {
  const claim = await orUndefined(context.core.readNamespacedPersistentVolumeClaim({ namespace: context.job.namespace, name: volume.claim }));
  const boundTo = claim?.status?.phase === "Bound" ? claim.spec?.volumeName : undefined;
  /** A disk and its PV, saying whether the PVC is Bound to that PV. */
  const disk = (id: string | undefined, pv: string | undefined): string => `disk ${id ?? "?"} (PV ${pv ?? "not made"}${pv !== undefined && pv === boundTo ? ", the PVC is Bound to it" : ""})`;
  const binding = claim === undefined ? "; the PVC is gone" : boundTo === undefined ? `; the PVC is ${claim.status?.phase ?? "not Bound"}` : "";
  const source = disk(volume.sourceDisk, volume.sourcePersistentVolume);
  const snapshot = volume.snapshot === undefined ? "no snapshot" : `snapshot ${volume.snapshot}`;
  if (volume.newDisk === undefined) return `PVC ${volume.claim}: on source ${source}${binding}; ${snapshot}`;
  const fresh = `new ${disk(volume.newDisk, volume.newPersistentVolume)} in ${volume.zone ?? "?"}`;
  // On the new PV, or run on since the move: the app may have written there since the snapshot.
  const onNew = volume.servedAt !== undefined || (boundTo !== undefined && boundTo === volume.newPersistentVolume);
  if (onNew) return `PVC ${volume.claim}: on ${fresh}${binding}; as of the snapshot also on source ${source} and ${snapshot}`;
  return `PVC ${volume.claim}: on source ${source}${binding}; copies: ${snapshot}, ${fresh}`;
}

/**
 * The step, stopping the run first if its StatefulSet is gone, forward or in a rollback: the saga
 * halts (runner/saga/step.ts), ending Failed with the message, running no compensation.
 */
export function stopWhenStatefulSetGone(step: Step<MigrationContext>): Step<MigrationContext> {
  const undo = step.compensate?.bind(step);
  return {
    ...step,
    async run(context): Promise<StepOutcome> {
      const gone = await statefulSetGone(context, step.name);
      return gone === undefined ? step.run(context) : halt(gone);
    },
    ...(undo === undefined ? {} : {
      async compensate(context: MigrationContext): Promise<StepOutcome> {
        const gone = await statefulSetGone(context, step.name);
        return gone === undefined ? undo(context) : halt(gone);
      },
    }),
  };
}
