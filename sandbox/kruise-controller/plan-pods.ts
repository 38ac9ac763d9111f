/**
 * The decision of one pass over one set, without I/O: which ordinals to create and which pods to
 * delete, in the order of upstream's updateStatefulSet (kruise's follows it):
 *   1. live ordinals, lowest first: re-create a finished pod, create a missing one; OrderedReady
 *      stops at the first pod it created, deleted, or that is not yet Running and Ready;
 *   2. condemned pods (ordinal not live: above the replicas, or reserved), highest first;
 *      OrderedReady deletes one and waits for it to be gone;
 *   3. the rolling update: the highest-ordinal pod at or above `partition` not on the update
 *      revision is deleted (re-created next pass at the new revision), one at a time, each only
 *      once every pod above it is healthy again (maxUnavailable is treated as 1).
 */
import type { V1Pod } from "@kubernetes/client-node";
import { hasFinished, isHealthy, isTerminating, revisionOf } from "./pod-state.ts";

export interface PlanInput {
  /** Ordered ascending (core/workload/ordinals.ts). */
  readonly live: readonly number[];
  /** The set's pods by ordinal, live and condemned. */
  readonly pods: ReadonlyMap<number, V1Pod>;
  readonly ordered: boolean;
  readonly updateRevision: string;
  /** Undefined when updates are off: strategy OnDelete, or rollingUpdate.paused. */
  readonly rollingFrom: number | undefined;
}

export type PodAction =
  | { readonly kind: "create"; readonly ordinal: number }
  | { readonly kind: "delete"; readonly ordinal: number; readonly pod: V1Pod; readonly reason: "finished" | "condemned" | "update" };

/** The actions of this pass, in the order they are to be taken. */
export function planPods(input: PlanInput): PodAction[] {
  const actions: PodAction[] = [];
  // Each step returns true when OrderedReady must wait for what it found or did.
  if (scaleLive(input, actions)) return actions;
  if (removeCondemned(input, actions)) return actions;
  rollUpdate(input, actions);
  return actions;
}

function scaleLive(input: PlanInput, actions: PodAction[]): boolean {
  for (const ordinal of input.live) {
    const pod = input.pods.get(ordinal);
    if (pod === undefined) {
      actions.push({ kind: "create", ordinal });
      if (input.ordered) return true;
    } else if (isTerminating(pod)) {
      if (input.ordered) return true;
    } else if (hasFinished(pod)) {
      actions.push({ kind: "delete", ordinal, pod, reason: "finished" });
      if (input.ordered) return true;
    } else if (input.ordered && !isHealthy(pod)) {
      return true;
    }
  }
  return false;
}

function removeCondemned(input: PlanInput, actions: PodAction[]): boolean {
  const live = new Set(input.live);
  const condemned = [...input.pods].filter(([ordinal]) => !live.has(ordinal)).sort(([a], [b]) => b - a);
  for (const [ordinal, pod] of condemned) {
    if (!isTerminating(pod)) actions.push({ kind: "delete", ordinal, pod, reason: "condemned" });
    if (input.ordered) return true;
  }
  return false;
}

function rollUpdate(input: PlanInput, actions: PodAction[]): void {
  if (input.rollingFrom === undefined) return;
  const from = input.rollingFrom;
  for (const ordinal of [...input.live].reverse().filter((candidate) => candidate >= from)) {
    const pod = input.pods.get(ordinal);
    // Missing, just created or deleted, or still starting: the one update in flight is not over yet.
    if (pod === undefined || actions.some((action) => action.ordinal === ordinal)) return;
    if (revisionOf(pod) !== input.updateRevision && !isTerminating(pod)) {
      actions.push({ kind: "delete", ordinal, pod, reason: "update" });
      return;
    }
    if (!isHealthy(pod)) return;
  }
}
