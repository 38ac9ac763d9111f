/**
 * Restore replicas: scale back to the original count, then check every `check-interval` that all
 * replicas are Ready and each pod runs in the zone the plan gave its ordinal, for at most
 * `ready-timeout`; past it the migration rolls back. Rollback scales to zero again, so the old
 * PVCs can be restored.
 */
import { readJournal, type MigrationContext } from "../context.ts";
import { PermanentMigrationError } from "../faults.ts";
import { podsOf, scaleTo } from "../replicas.ts";
import { done, waitAndRecheck, type Step, type StepOutcome } from "../saga/step.ts";
import { setCondition } from "../journal/conditions.ts";
import { journalNameOf } from "../context.ts";
import { ZONE_KEY } from "../../core/disk-volumes.ts";
import type { ZoneMigrationResource } from "../journal/types.ts";

const RESTORING = "ReplicasRestoring";

/** Pods not yet Ready in the zone the plan gave their ordinal, described for the message. */
async function misplacedPods(context: MigrationContext, planned: ReadonlyMap<string, string>): Promise<{ pods: number; misplaced: string[] }> {
  const pods = await podsOf(context);
  const misplaced: string[] = [];
  for (const pod of pods) {
    const name = pod.metadata?.name ?? "?";
    const want = planned.get(name);
    const ready = pod.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") === true;
    const node = pod.spec?.nodeName === undefined ? undefined : await context.core.readNode({ name: pod.spec.nodeName });
    const zone = node?.metadata?.labels?.[ZONE_KEY];
    if (!ready) misplaced.push(`${name} (not Ready)`);
    else if (want !== undefined && zone !== want) misplaced.push(`${name} (in ${zone ?? "no zone"}, planned ${want})`);
  }
  return { pods: pods.length, misplaced };
}

/** When the pods were asked back: the condition's transition time, recorded once. */
async function restoringSince(context: MigrationContext): Promise<ZoneMigrationResource> {
  const journal = await readJournal(context);
  if (journal.status?.conditions?.some((condition) => condition.type === RESTORING) === true) return journal;
  return context.journal.updateStatus(context.job.namespace, journalNameOf(context), (status) => {
    setCondition(status, { type: RESTORING, status: "True", reason: "ScaledUp", message: "waiting for replicas to be Ready in their planned zones" });
  });
}

export const restoreReplicas: Step<MigrationContext> = {
  name: "restore-replicas",
  async run(context): Promise<StepOutcome> {
    const journal = await restoringSince(context);
    const replicas = journal.spec.originalReplicas ?? 1;
    await scaleTo(context, replicas);
    const planned = new Map((journal.spec.plan?.ordinals ?? []).map((ordinal) => [`${context.job.statefulSet}-${ordinal.ordinal}`, ordinal.zone]));
    const { pods, misplaced } = await misplacedPods(context, planned);
    if (pods === replicas && misplaced.length === 0) return done;
    const since = journal.status?.conditions?.find((condition) => condition.type === RESTORING)?.lastTransitionTime;
    const started = since === undefined ? context.now() : Date.parse(since);
    const timeout = journal.spec.request?.readyTimeoutMs ?? 900_000;
    const pending = misplaced.length > 0 ? misplaced.join(", ") : `${replicas - pods} pod(s) not created`;
    if (context.now() - started > timeout) throw new PermanentMigrationError(`replicas not Ready in their planned zones within ready-timeout (${Math.round(timeout / 1000)}s): ${pending}`);
    return waitAndRecheck(journal.spec.request?.checkIntervalMs ?? 60_000, `waiting for ${pending}`);
  },
  async compensate(context): Promise<StepOutcome> {
    await scaleTo(context, 0);
    const pods = await podsOf(context);
    return pods.length === 0 ? done : waitAndRecheck(1_000, `waiting for ${pods.length} pod(s) to go`);
  },
};
