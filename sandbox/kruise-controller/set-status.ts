/**
 * The set's status as kruise reports it, from the pods of its live ordinals. availableReplicas
 * equals readyReplicas (minReadySeconds is not modelled). currentRevision moves to the update
 * revision once a rollout is complete: every live ordinal has a pod, on the update revision, Ready
 * (upstream's completeRollingUpdate).
 */
import type { V1Pod } from "@kubernetes/client-node";
import { selectorString, type AdvancedSet, type AdvancedSetStatus } from "./advanced-set.ts";
import { isReady, revisionOf } from "./pod-state.ts";

export interface StatusInput {
  readonly set: AdvancedSet;
  readonly live: readonly number[];
  readonly pods: ReadonlyMap<number, V1Pod>;
  readonly updateRevision: string;
}

export function statusOf({ set, live, pods, updateRevision }: StatusInput): AdvancedSetStatus {
  const existing = live.flatMap((ordinal) => { const pod = pods.get(ordinal); return pod === undefined ? [] : [pod]; });
  const ready = existing.filter(isReady);
  const updated = existing.filter((pod) => revisionOf(pod) === updateRevision);
  const updatedReady = updated.filter(isReady);
  const complete = existing.length === live.length && updatedReady.length === live.length;
  const currentRevision = set.status?.currentRevision === undefined || complete ? updateRevision : set.status.currentRevision;
  return {
    ...(set.metadata.generation === undefined ? {} : { observedGeneration: set.metadata.generation }),
    replicas: existing.length,
    readyReplicas: ready.length,
    availableReplicas: ready.length,
    currentReplicas: existing.filter((pod) => revisionOf(pod) === currentRevision).length,
    updatedReplicas: updated.length,
    updatedReadyReplicas: updatedReady.length,
    updatedAvailableReplicas: updatedReady.length,
    currentRevision,
    updateRevision,
    labelSelector: selectorString(set),
    collisionCount: 0,
  };
}

/** Whether the stored status already says all of `status` (other fields written by others are left alone). */
export function statusUnchanged(set: AdvancedSet, status: AdvancedSetStatus): boolean {
  const stored: Partial<Record<string, unknown>> = set.status ?? {};
  return Object.entries(status).every(([field, value]) => stored[field] === value);
}
