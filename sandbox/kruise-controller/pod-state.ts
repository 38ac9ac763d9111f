/** What the ordering rules ask of a pod, read from its status as the kubelet (here kwok) writes it. */
import type { V1Pod } from "@kubernetes/client-node";
import { isReady } from "../../runner/pod-health.ts";
import { REVISION_LABEL } from "./revisions.ts";

export { isReady };

/** Being deleted: gone soon, and nothing may replace it before it is. */
export function isTerminating(pod: V1Pod): boolean {
  return pod.metadata?.deletionTimestamp !== undefined;
}

/** Failed or Succeeded: its containers will not run again, so kruise deletes and re-creates it. */
export function hasFinished(pod: V1Pod): boolean {
  return pod.status?.phase === "Failed" || pod.status?.phase === "Succeeded";
}

/** Running, Ready and not going away: what OrderedReady waits for before the next step. */
export function isHealthy(pod: V1Pod): boolean {
  return pod.status?.phase === "Running" && isReady(pod) && !isTerminating(pod);
}

export function revisionOf(pod: V1Pod): string | undefined {
  return pod.metadata?.labels?.[REVISION_LABEL];
}
