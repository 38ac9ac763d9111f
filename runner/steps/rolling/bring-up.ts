/**
 * Bring the replica up on its new disks (strategy Rolling): once they are Available, the hold is
 * let go and the pod schedules where its claims' new PVs allow, its planned zone; the step is done
 * when it is Ready there, checked every check-interval for at most ready-timeout. Its success
 * settles the replica: it stays moved whatever fails later (runner/saga/step.ts `settles`).
 *
 * Undo (also after its own failure): the replica is taken down again, held, so the rebind's undo
 * can put its claims back on their source disks. What the pod ran on is journaled first: such a
 * new disk is never deleted by the rollback.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { formatDuration } from "../../../core/duration.ts";
import { ZONE_KEY } from "../../../core/disk-volumes.ts";
import { movingVolumes, readJournal, recordVolumes, type MigrationContext } from "../../context.ts";
import { evictPod } from "../../eviction.ts";
import type { VolumeProgress } from "../../journal/types.ts";
import { awaitNewDisks } from "../../new-disks.ts";
import { hasRun, isReady } from "../../pod-health.ts";
import { holdPod, isHeld, releasePod } from "../../pod-hold.ts";
import { done, waitAndRecheck, type Step, type StepOutcome } from "../../saga/step.ts";
import { clusterWaitMs, waitWithin } from "../../waits.ts";
import { nowIso, plannedReplica, readPod, recordReplica, replicaOf, replicaPod } from "./replica-progress.ts";

const POLL_MS = 500;

/** The zone of the node the pod runs on, if it is scheduled. */
async function zoneOf(context: MigrationContext, pod: V1Pod): Promise<string | undefined> {
  const node = pod.spec?.nodeName;
  if (node === undefined) return undefined;
  return (await context.core.readNode({ name: node })).metadata?.labels?.[ZONE_KEY];
}

/** Journals, for each of the replica's claims, when a pod was first seen running on its new disk. */
async function recordServed(context: MigrationContext, pod: V1Pod | undefined): Promise<void> {
  if (pod === undefined || !hasRun(pod) || isHeld(pod)) return;
  const now = nowIso(context);
  const changes = new Map<string, Partial<VolumeProgress>>((await movingVolumes(context)).filter((volume) => volume.servedAt === undefined && volume.state === "rebound").map((volume) => [volume.claim, { servedAt: now }]));
  await recordVolumes(context, changes);
}

export const bringUp: Step<MigrationContext> = {
  name: "bring-up",
  compensateOnFailure: true,
  async run(context): Promise<StepOutcome> {
    const ordinal = context.replica!.ordinal;
    const name = replicaPod(context, ordinal);
    let pod = await readPod(context, name);
    if (pod === undefined || isHeld(pod)) {
      const disks = await awaitNewDisks(context);
      if (disks.kind !== "done") return disks;
      await releasePod(context, name);
      pod = await readPod(context, name);
    }
    await recordServed(context, pod);
    const journal = await readJournal(context);
    const { zone } = plannedReplica(context, journal);
    const where = pod === undefined ? undefined : await zoneOf(context, pod);
    if (pod !== undefined && isReady(pod) && where === zone) {
      const progress = replicaOf(journal, ordinal);
      await recordReplica(context, journal, { phase: "Moved", upAt: nowIso(context) });
      if (progress?.downAt !== undefined) context.onReplicaBack?.(ordinal, context.now() - Date.parse(progress.downAt));
      return done;
    }
    const state = pod === undefined ? "not made again yet" : !isReady(pod) ? "not Ready" : `in ${where ?? "no zone"}`;
    const timeout = clusterWaitMs(journal);
    return waitWithin(context, {
      type: "ReplicaReady",
      limitMs: timeout,
      awaited: `pod ${name} to be Ready in ${zone} (${state})`,
      overdue: `pod ${name} not Ready in its planned zone ${zone} within ready-timeout (${formatDuration(timeout)}): ${state}`,
      pollMs: journal.spec.request?.checkIntervalMs ?? 60_000,
    });
  },
  async compensate(context): Promise<StepOutcome> {
    const ordinal = context.replica!.ordinal;
    const name = replicaPod(context, ordinal);
    const pod = await readPod(context, name);
    // The last chance to see what ran on the new disks, before the pod goes.
    await recordServed(context, pod);
    await holdPod(context, name);
    if (pod !== undefined && isHeld(pod) && pod.spec?.nodeName === undefined) return done;
    const limitMs = clusterWaitMs(await readJournal(context));
    if (pod === undefined || pod.metadata?.deletionTimestamp !== undefined) {
      return waitWithin(context, { type: "ReplicaStoppingForRollback", limitMs, awaited: `pod ${name} to be made again, held`, overdue: `pod ${name} not back held; the rebind is not undone while it may use the new PVCs`, pollMs: POLL_MS });
    }
    const outcome = await evictPod(context, name, { uid: pod.metadata?.uid ?? "" });
    if (outcome !== "evicted") {
      return waitWithin(context, { type: "EvictionAllowedForRollback", limitMs, awaited: `PodDisruptionBudget ${outcome.blockedBy} to allow evicting ${name} (${outcome.message})`, overdue: `PodDisruptionBudget ${outcome.blockedBy} still refuses to evict ${name}: ${outcome.message}; the rebind is not undone while it runs on the new PVCs`, pollMs: 1_000 });
    }
    return waitAndRecheck(POLL_MS, `waiting for pod ${name} to stop and be made again, held`);
  },
};
