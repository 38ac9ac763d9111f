/**
 * Restore replicas: once every new disk is Available (they are made while the rebind runs), scale
 * back to the original count, then check every `check-interval` that all
 * replicas are Ready and each pod runs in the zone the plan gave its ordinal, for at most
 * `ready-timeout`; past it the migration rolls back. With a `health-duration`, the replicas as
 * they were when all became Ready are journaled, and checked again once it has passed: still
 * there (same pods), still Ready, no container restarts added. Rollback, after its success or its
 * own failure, scales to zero again, so the old PVCs can be restored.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { formatDuration } from "../../core/duration.ts";
import { ZONE_KEY } from "../../core/disk-volumes.ts";
import { journalNameOf, readJournal, recordVolumes, type MigrationContext } from "../context.ts";
import { PermanentMigrationError } from "../faults.ts";
import type { ZoneMigrationResource } from "../journal/types.ts";
import { claimsOf, hasRun, healthOf, healthProblems, isReady } from "../pod-health.ts";
import { podsOf, scaleTo } from "../replicas.ts";
import { done, waitAndRecheck, type Step, type StepOutcome } from "../saga/step.ts";
import { beginWait, waitStartedAt, waitWithin } from "../waits.ts";
import { describePods } from "./03-scale-to-zero.ts";
import { awaitNewDisks } from "../new-disks.ts";

const RESTORING = "ReplicasRestoring";
const HEALTH = "HealthChecking";

/** Pods not yet Ready in the zone the plan gave their ordinal, described for the message. */
async function misplacedPods(context: MigrationContext, pods: readonly V1Pod[], planned: ReadonlyMap<string, string>): Promise<string[]> {
  const misplaced: string[] = [];
  // One listing, not a read per pod: 64 replicas are checked several times a second at first.
  const zones = pods.some((pod) => pod.spec?.nodeName !== undefined)
    ? new Map((await context.core.listNode()).items.map((node) => [node.metadata?.name, node.metadata?.labels?.[ZONE_KEY]]))
    : new Map<string | undefined, string | undefined>();
  for (const pod of pods) {
    const name = pod.metadata?.name ?? "?";
    const want = planned.get(name);
    const zone = pod.spec?.nodeName === undefined ? undefined : zones.get(pod.spec.nodeName);
    if (!isReady(pod)) misplaced.push(`${name} (not Ready)`);
    else if (want !== undefined && zone !== want) misplaced.push(`${name} (in ${zone ?? "no zone"}, planned ${want})`);
  }
  return misplaced;
}

/** The second check: journal the replicas once, then compare after health-duration. */
async function secondCheck(context: MigrationContext, pods: readonly V1Pod[], durationMs: number): Promise<StepOutcome> {
  let journal = await beginWait(context, HEALTH, `checking again after health-duration (${formatDuration(durationMs)})`);
  if (journal.status?.healthBaseline === undefined) {
    journal = await context.journal.updateStatus(context.job.namespace, journalNameOf(context), (status) => {
      status.healthBaseline ??= pods.map(healthOf);
    });
  }
  const left = waitStartedAt(context, journal, HEALTH) + durationMs - context.now();
  if (left > 0) return waitAndRecheck(left, `checking the replicas' health again in ${formatDuration(Math.ceil(left / 1000) * 1000)}`);
  const problems = healthProblems(journal.status?.healthBaseline ?? [], pods);
  if (problems.length > 0) throw new PermanentMigrationError(`replicas not healthy after health-duration (${formatDuration(durationMs)}): ${problems.join(", ")}`);
  return done;
}

/**
 * Journals, for each moved claim a pod has run on, when that was first seen: from then on its new
 * disk may hold writes its source lacks, and no rollback deletes it (runner/new-disks.ts).
 */
async function recordServed(context: MigrationContext, journal: ZoneMigrationResource, pods: readonly V1Pod[]): Promise<void> {
  const used = new Set(pods.filter(hasRun).flatMap(claimsOf));
  const now = new Date(context.now()).toISOString();
  const changes = new Map((journal.status?.volumes ?? []).filter((volume) => volume.servedAt === undefined && used.has(volume.claim)).map((volume) => [volume.claim, { servedAt: now }]));
  await recordVolumes(context, changes);
}

/** Whether this step already scaled up (the disks were Available then; a pod may hold one now). */
async function scaledUpBefore(context: MigrationContext): Promise<boolean> {
  return (await readJournal(context)).status?.conditions?.some((condition) => condition.type === RESTORING) === true;
}

function readyTimeout(journal: ZoneMigrationResource): number {
  return journal.spec.request?.readyTimeoutMs ?? 900_000;
}

export const restoreReplicas: Step<MigrationContext> = {
  name: "restore-replicas",
  // It fails (ready-timeout, the second check) with the replicas scaled up on the new PVCs: they
  // must go before the rebind is undone, so its compensation runs after a failure too.
  compensateOnFailure: true,
  async run(context): Promise<StepOutcome> {
    if (!(await scaledUpBefore(context))) {
      const disks = await awaitNewDisks(context);
      if (disks.kind !== "done") return disks;
    }
    const journal = await beginWait(context, RESTORING, "waiting for replicas to be Ready in their planned zones");
    await scaleTo(context, journal.spec.originalReplicas ?? 1);
    return replicasSettled(context, journal, RESTORING);
  },
  async compensate(context): Promise<StepOutcome> {
    // What ran on the new disks is journaled before the pods go: the last chance to see it.
    await recordServed(context, await readJournal(context), await podsOf(context));
    await scaleTo(context, 0);
    const pods = await podsOf(context);
    if (pods.length === 0) return done;
    const held = describePods(pods);
    return waitWithin(context, { type: "PodsStoppingForRollback", limitMs: readyTimeout(await readJournal(context)), awaited: `pod(s) ${held} to go`, overdue: `pod(s) ${held} still there; the rebind is not undone while they hold the new PVCs`, pollMs: 1_000 });
  },
};

/**
 * Whether every replica is Ready in the zone the plan gave its ordinal, and stays healthy for
 * health-duration: checked every check-interval, for at most ready-timeout from the start of the
 * wait `condition` (begun by the caller); past it, a permanent fault.
 */
export async function replicasSettled(context: MigrationContext, journal: ZoneMigrationResource, condition: string): Promise<StepOutcome> {
  const replicas = journal.spec.originalReplicas ?? 1;
  const planned = new Map((journal.spec.plan?.ordinals ?? []).map((ordinal) => [`${context.job.statefulSet}-${ordinal.ordinal}`, ordinal.zone]));
  const pods = await podsOf(context);
  await recordServed(context, journal, pods);
  const misplaced = await misplacedPods(context, pods, planned);
  const healthMs = journal.spec.request?.healthDurationMs ?? 0;
  if (pods.length === replicas && misplaced.length === 0) return healthMs > 0 ? secondCheck(context, pods, healthMs) : done;
  // Once all were Ready, the second check decides; a replica lost meanwhile fails it.
  if (journal.status?.healthBaseline !== undefined) return secondCheck(context, pods, healthMs);
  const pending = misplaced.length > 0 ? misplaced.join(", ") : `${replicas - pods.length} pod(s) not created`;
  const timeout = readyTimeout(journal);
  if (context.now() - waitStartedAt(context, journal, condition) > timeout) {
    throw new PermanentMigrationError(`replicas not Ready in their planned zones within ready-timeout (${formatDuration(timeout)}): ${pending}`);
  }
  return waitAndRecheck(journal.spec.request?.checkIntervalMs ?? 60_000, `waiting for ${pending}`);
}
