/**
 * Take down one replica (strategy Rolling), so its disks can be copied: the hold is asked for
 * first (its StatefulSet makes the pod again at once, and the API server gates it: runner/pod-hold.ts),
 * and confirmed with a dry-run replica; then, once every other replica is Ready, the pod is evicted
 * through the Eviction API, which honours PodDisruptionBudgets. The step is done when the pod made
 * again is held, unscheduled, and the replica's source disks are detached.
 *
 * Bounded: the other replicas to be Ready, a budget to allow the eviction, the pod to go and come
 * back held each wait at most ready-timeout; the disks to detach, RUNNER_CLOUD_WAIT_TIMEOUT.
 *
 * Undo: the hold is let go and the pod schedules on whatever its claims are bound to (by then its
 * own disks again: the rebind's undo runs first), and the undo waits, bounded, until it is Ready.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { formatDuration } from "../../../core/duration.ts";
import { movingVolumes, readJournal, readStatefulSet, type MigrationContext } from "../../context.ts";
import { evictPod } from "../../eviction.ts";
import { PermanentMigrationError } from "../../faults.ts";
import type { ZoneMigrationResource } from "../../journal/types.ts";
import { HOLD_GATE, confirmHold, holdPod, isHeld, releasePod } from "../../pod-hold.ts";
import { isReady } from "../../pod-health.ts";
import { podsOf } from "../../replicas.ts";
import { done, waitAndRecheck, type Step, type StepOutcome } from "../../saga/step.ts";
import { clusterWaitMs, waitWithin } from "../../waits.ts";
import { nowIso, readPod, recordReplica, replicaOf, replicaPod } from "./replica-progress.ts";

/** Pods go and come back in seconds: look often. */
const POLL_MS = 500;

/** The other replicas not Ready now, by pod name (missing ones too): none may be down with this one. */
async function othersNotReady(context: MigrationContext, journal: ZoneMigrationResource, ordinal: number): Promise<string[]> {
  const sts = await readStatefulSet(context);
  const pods = new Map((await podsOf(context, sts)).map((pod) => [pod.metadata?.name ?? "", pod]));
  const ordinals = (journal.spec.plan?.ordinals ?? []).map((planned) => planned.ordinal).filter((other) => other !== ordinal);
  return ordinals.map((other) => replicaPod(context, other)).filter((name) => {
    const pod = pods.get(name);
    return pod === undefined || pod.metadata?.deletionTimestamp !== undefined || !isReady(pod);
  });
}

/** The replica is down: its pod held; now its source disks must be detached before a snapshot. */
async function sourcesDetached(context: MigrationContext, journal: ZoneMigrationResource): Promise<StepOutcome> {
  const ordinal = context.replica!.ordinal;
  if (replicaOf(journal, ordinal)?.phase !== "Down") await recordReplica(context, journal, { phase: "Down", ...(replicaOf(journal, ordinal)?.downAt === undefined ? { downAt: nowIso(context) } : {}) });
  const disks = await context.cloud.describeDisks((await movingVolumes(context)).map((volume) => volume.sourceDisk!));
  const attached = disks.filter((disk) => disk.status !== "Available");
  if (attached.length === 0) return done;
  const held = attached.map((disk) => `${disk.diskId} (${disk.status}${disk.instanceId === undefined ? "" : ` on ${disk.instanceId}`})`).join(", ");
  return waitWithin(context, { type: "SourcesDetaching", limitMs: context.settings.cloudWaitTimeoutMs, awaited: `source disk(s) ${held} to detach`, overdue: `source disk(s) ${held} still not detached`, pollMs: POLL_MS });
}

/** The pod is on its way down (Terminating), or came back without the hold (a fault); undefined otherwise. */
async function going(context: MigrationContext, journal: ZoneMigrationResource, pod: V1Pod | undefined): Promise<StepOutcome | undefined> {
  const name = replicaPod(context, context.replica!.ordinal);
  const evicted = replicaOf(journal, context.replica!.ordinal)?.evictedPod;
  if (pod !== undefined && evicted !== undefined && pod.metadata?.uid !== evicted) {
    const where = pod.spec?.nodeName === undefined ? "unscheduled" : `scheduled on node ${pod.spec.nodeName}`;
    throw new PermanentMigrationError(`pod ${name} was made again without zoneferry's scheduling gate ${HOLD_GATE} (${where}): the replica-hold policy did not act (strategy Rolling needs the chart's MutatingAdmissionPolicy <release>-zoneferry-replica-hold, Kubernetes 1.36 or later); nothing was moved, the replica runs on its own disks`);
  }
  if (pod?.metadata?.deletionTimestamp === undefined) return undefined;
  const finalizers = (pod.metadata.finalizers ?? []).join(", ") || "none";
  return waitWithin(context, { type: "ReplicaStopping", limitMs: clusterWaitMs(journal), awaited: `pod ${name} to stop`, overdue: `pod ${name} still Terminating (finalizers: ${finalizers})`, pollMs: POLL_MS });
}

/** Not taken down yet (or the eviction did not land): hold, confirm the hold, evict once the others are Ready. */
async function evict(context: MigrationContext, journal: ZoneMigrationResource, pod: V1Pod | undefined): Promise<StepOutcome> {
  const ordinal = context.replica!.ordinal;
  const name = replicaPod(context, ordinal);
  const limitMs = clusterWaitMs(journal);
  // At most one replica down at a time.
  const others = await othersNotReady(context, journal, ordinal);
  if (others.length > 0) {
    return waitWithin(context, {
      type: "ReplicasAvailable",
      limitMs,
      awaited: `replica(s) ${others.join(", ")} to be Ready before ${name} is taken down`,
      overdue: `replica(s) ${others.join(", ")} still not Ready after ready-timeout (${formatDuration(limitMs)}); ${name} was not taken down (at most one replica is down at a time)`,
      pollMs: journal.spec.request?.checkIntervalMs ?? 60_000,
    });
  }
  await holdPod(context, name);
  await confirmHold(context);
  if (pod === undefined) {
    return waitWithin(context, { type: "ReplicaRecreating", limitMs, awaited: `pod ${name} to be made again, held`, overdue: `pod ${name} not made again by its StatefulSet`, pollMs: POLL_MS });
  }
  const uid = pod.metadata?.uid ?? "";
  // The uid first: whatever stands in the name later is told apart from the pod evicted.
  if (replicaOf(journal, ordinal)?.evictedPod !== uid) await recordReplica(context, journal, { phase: "TakingDown", evictedPod: uid });
  const outcome = await evictPod(context, name, { uid });
  if (outcome !== "evicted") {
    return waitWithin(context, {
      type: "EvictionAllowed",
      limitMs,
      awaited: `PodDisruptionBudget ${outcome.blockedBy} to allow evicting ${name} (${outcome.message})`,
      overdue: `PodDisruptionBudget ${outcome.blockedBy} still refuses to evict ${name} after ready-timeout (${formatDuration(limitMs)}): ${outcome.message}`,
      pollMs: 1_000,
    });
  }
  await recordReplica(context, await readJournal(context), { downAt: nowIso(context) });
  return waitAndRecheck(POLL_MS, `waiting for pod ${name} to stop and be made again, held`);
}

export const takeDown: Step<MigrationContext> = {
  name: "take-down",
  // It fails for good with the pod evicted and held (a budget never allowing, disks never
  // detaching): its undo must let the replica come back then too.
  compensateOnFailure: true,
  async run(context): Promise<StepOutcome> {
    const name = replicaPod(context, context.replica!.ordinal);
    const journal = await readJournal(context);
    const pod = await readPod(context, name);
    // Gated, unscheduled: the pod its StatefulSet made again after the eviction (or after it went on its own).
    if (pod !== undefined && isHeld(pod) && pod.spec?.nodeName === undefined) return sourcesDetached(context, journal);
    return (await going(context, journal, pod)) ?? evict(context, journal, pod);
  },
  async compensate(context): Promise<StepOutcome> {
    const ordinal = context.replica!.ordinal;
    const name = replicaPod(context, ordinal);
    await releasePod(context, name);
    const journal = await readJournal(context);
    const progress = replicaOf(journal, ordinal);
    const pod = await readPod(context, name);
    if (pod !== undefined && isReady(pod) && pod.metadata?.deletionTimestamp === undefined) {
      if (progress !== undefined && progress.phase !== "Restored") await recordReplica(context, journal, { phase: "Restored", upAt: nowIso(context) });
      if (progress?.downAt !== undefined) context.onReplicaBack?.(ordinal, context.now() - Date.parse(progress.downAt));
      return done;
    }
    const state = pod === undefined ? "not made again yet" : pod.metadata?.deletionTimestamp !== undefined ? "Terminating" : "not Ready";
    return waitWithin(context, { type: "ReplicaReturning", limitMs: clusterWaitMs(journal), awaited: `pod ${name} to be Ready on its own disks (${state})`, overdue: `pod ${name} still ${state} on its own disks`, pollMs: 1_000 });
  },
};
