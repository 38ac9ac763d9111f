/**
 * Precheck: the request is still the StatefulSet's (admission does not guarantee storage), all
 * replicas are Ready (waited for at most `ready-timeout`, then the migration fails naming the
 * replicas), every admission check passes again on the live cluster and ECS; then the plan is
 * computed and journaled. Nothing to move ends the migration Succeeded.
 *
 * The journal is made before anything waits: from the step's start the StatefulSet shows the
 * migration Running (the guard holds it), and the journal is how the reconciler finds the
 * migration again when the queue loses its job during the wait.
 */
import type { Workload } from "../../core/workload/kinds.ts";
import { migrationAssessor, specNotObserved, unreadyReplicas } from "../../core/assess-migration.ts";
import { sizeDenial } from "../../core/size-limits.ts";
import { listWithin } from "../../core/bounded-text.ts";
import { formatDuration } from "../../core/duration.ts";
import { unavailableStrategy, type MigrationRequest } from "../../core/migration-request.ts";
import { journalNameOf, type MigrationContext } from "../context.ts";
import { admittedRequest, isOutcome } from "./admitted-request.ts";
import { directDiskLookup } from "../direct-disk-lookup.ts";
import { PermanentMigrationError } from "../faults.ts";
import type { ZoneMigrationResource } from "../journal/types.ts";
import { liveClusterView } from "../live-view.ts";
import { complete, done, waitAndRecheck, type Step, type StepOutcome } from "../saga/step.ts";
import { beginWait, waitStartedAt } from "../waits.ts";

/** The journal condition whose transition time is when precheck began to wait for the replicas. */
const SETTLING = "ReplicasSettling";

export const precheck: Step<MigrationContext> = {
  name: "precheck",
  async run(context): Promise<StepOutcome> {
    const { job } = context;
    const admitted = await admittedRequest(context, "migrate");
    if (isOutcome(admitted)) return admitted;
    const { sts, current, journaled } = admitted;
    const { request } = current;
    await journalFor(context, sts, request, journaled);
    // Admission denies it; a job queued before (an older zoneferry, the reconciler) is refused here.
    const strategy = unavailableStrategy(request, sts.metadata?.annotations ?? {});
    if (strategy !== undefined) throw new PermanentMigrationError(strategy.message);
    // Too large to plan is known at once: no wait for replicas that would change nothing.
    const tooLarge = sizeDenial(sts, context.settings.maxReplicas);
    if (tooLarge !== undefined) throw new PermanentMigrationError(tooLarge);
    const unsettled = await unsettledReplicas(context, sts);
    if (unsettled !== undefined) return waitForReplicas(context, request, unsettled);
    const view = await liveClusterView(context.kubeconfig, job.namespace, context.settings.kruise);
    const assessment = await migrationAssessor({ maxReplicas: context.settings.maxReplicas })(sts, request, view, directDiskLookup(context.cloud));
    if (assessment.denials.length > 0) throw new PermanentMigrationError(listWithin(assessment.denials, undefined, "; "));
    if (assessment.plan.moves.length === 0) return complete(`nothing to migrate: all ${assessment.disks.length} disks already in target zones`);
    const plan = { ordinals: assessment.plan.ordinals.map((ordinal) => ({ ordinal: ordinal.ordinal, zone: ordinal.zone, volumes: ordinal.volumes.map((volume) => ({ ...volume })) })) };
    const diskOf = new Map(assessment.disks.map((disk) => [disk.claim, disk]));
    await context.journal.updateStatus(job.namespace, journalNameOf(context), (status) => {
      status.volumes = assessment.plan.moves.map((move) => ({
        claim: move.claim,
        sourceDisk: diskOf.get(move.claim)!.diskId,
        sourcePersistentVolume: diskOf.get(move.claim)!.persistentVolume,
        zone: move.toZone,
        state: "planned",
      }));
    });
    // The plan last: its presence tells a re-run that the precheck is complete.
    await context.journal.updateSpec(job.namespace, journalNameOf(context), { plan, originalReplicas: sts.spec?.replicas ?? 1 });
    return done;
  },
};


/**
 * The journal of this run, made (and sealed) now if absent. One that exists is this runner's own,
 * unfinished, journal of this StatefulSet: the job's gate (runner/job-gate.ts) ends a job whose
 * journal is finished or not sealed, and a finished journal is never replaced (a repeat needs a
 * new zoneferry.io/retry value).
 */
async function journalFor(context: MigrationContext, sts: Workload, request: MigrationRequest, journaled: ZoneMigrationResource | undefined): Promise<void> {
  const { job } = context;
  if (journaled === undefined) await context.journal.ensure({ namespace: job.namespace, statefulSet: sts, migrationId: job.migrationId, targetZones: job.targetZones, request });
}

/** What keeps the replicas from being settled (the controller behind the spec, replicas not Ready), or undefined. */
export async function unsettledReplicas(context: MigrationContext, sts: Workload): Promise<string | undefined> {
  const lagging = specNotObserved(sts);
  if (lagging !== undefined) return `the StatefulSet controller to act on generation ${sts.metadata?.generation ?? "?"} of the spec`;
  const selector = Object.entries(sts.spec?.selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`).join(",");
  const pods = await context.core.listNamespacedPod({ namespace: context.job.namespace, labelSelector: selector });
  const unready = unreadyReplicas(sts, pods.items);
  return unready.length === 0 ? undefined : `replica(s) ${unready.join(", ")} to be Ready`;
}

/**
 * Waits for the replicas, at most `ready-timeout` from the first look (journaled, so neither a
 * runner restart nor a lost job restarts the clock); then fails for good. Nothing has changed
 * yet, so the failure only releases the StatefulSet.
 */
export async function waitForReplicas(context: MigrationContext, request: MigrationRequest, awaited: string): Promise<StepOutcome> {
  const waiting = await beginWait(context, SETTLING, "waiting until every replica is Ready");
  const since = waitStartedAt(context, waiting, SETTLING);
  if (context.now() - since > request.readyTimeoutMs) {
    throw new PermanentMigrationError(
      `still waiting for ${awaited} after ready-timeout (${formatDuration(request.readyTimeoutMs)}); nothing was changed: every replica must be Ready before a move, so bring them up (or scale the StatefulSet to those that run) and apply the request again with a new zoneferry.io/retry value`,
    );
  }
  return waitAndRecheck(request.checkIntervalMs, `waiting for ${awaited}`);
}
