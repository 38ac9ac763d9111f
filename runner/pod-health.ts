/**
 * What a replica looks like to the restore checks: Ready, in which zone, how often its containers
 * restarted. Pure comparisons, so the rules are tested without a cluster.
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { PodHealth } from "./journal/types.ts";

export function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") === true;
}

/**
 * Whether any of the pod's containers has run (running now, or terminated since): from then on
 * the pod may have written to its volumes.
 */
export function hasRun(pod: V1Pod): boolean {
  return (pod.status?.containerStatuses ?? []).some((container) =>
    container.state?.running !== undefined || container.state?.terminated !== undefined || container.lastState?.terminated !== undefined || container.restartCount > 0);
}

/** The PVCs a pod mounts. */
export function claimsOf(pod: V1Pod): string[] {
  return (pod.spec?.volumes ?? []).flatMap((volume) => (volume.persistentVolumeClaim === undefined ? [] : [volume.persistentVolumeClaim.claimName]));
}

export function healthOf(pod: V1Pod): PodHealth {
  const restarts = (pod.status?.containerStatuses ?? []).reduce((sum, container) => sum + container.restartCount, 0);
  return { pod: pod.metadata?.name ?? "?", ...(pod.metadata?.uid === undefined ? {} : { uid: pod.metadata.uid }), restarts };
}

/**
 * Why replicas are not as healthy as at the baseline: gone, replaced by a new pod, no longer Ready,
 * or with container restarts added. Empty when all is well.
 */
export function healthProblems(baseline: readonly PodHealth[], pods: readonly V1Pod[]): string[] {
  const byName = new Map(pods.map((pod) => [pod.metadata?.name ?? "?", pod]));
  const problems: string[] = [];
  for (const before of baseline) {
    const pod = byName.get(before.pod);
    if (pod === undefined) {
      problems.push(`${before.pod} is gone`);
      continue;
    }
    const now = healthOf(pod);
    const added = (now.restarts ?? 0) - (before.restarts ?? 0);
    if (before.uid !== undefined && now.uid !== before.uid) problems.push(`${before.pod} was replaced by a new pod`);
    else if (added > 0) problems.push(`${before.pod} restarted ${added} time(s)`);
    if (!isReady(pod)) problems.push(`${before.pod} is not Ready`);
  }
  return problems;
}
