/**
 * How large a StatefulSet zoneferry plans a move for. The checks of a request build something per
 * ordinal and per claim (the claims, the plan, the replicas not Ready); `replicas: 2147483647`
 * would make them build two billion of each and the process die out of heap, which, behind the
 * webhook's failurePolicy, blocks every write to annotated StatefulSets. So the size is checked
 * first, from the object alone, before anything per ordinal exists.
 */
import type { V1StatefulSet } from "@kubernetes/client-node";

/**
 * Default of MAX_REPLICAS. Generous: a move stops every replica at once, so a StatefulSet of a
 * thousand replicas is already far past what anyone moves in one downtime.
 */
export const DEFAULT_MAX_REPLICAS = 1000;

/**
 * Claim templates of one StatefulSet. ECS attaches at most 64 data disks to an instance, so a
 * replica with more claims than that could never have run; the bound keeps replicas × templates
 * (the claims looked up) within 64 × MAX_REPLICAS.
 */
export const MAX_CLAIM_TEMPLATES = 64;

/** Why `sts` is too large to plan for, from its spec alone; undefined when it is not. */
export function sizeDenial(sts: V1StatefulSet, maxReplicas: number): string | undefined {
  const replicas = sts.spec?.replicas ?? 1;
  if (replicas > maxReplicas) {
    return `spec.replicas is ${replicas}; zoneferry moves StatefulSets of at most ${maxReplicas} replicas (MAX_REPLICAS, set where zoneferry is installed), so scale it down first or ask for the limit to be raised`;
  }
  const templates = sts.spec?.volumeClaimTemplates?.length ?? 0;
  if (templates > MAX_CLAIM_TEMPLATES) {
    return `spec.volumeClaimTemplates has ${templates} claim templates; zoneferry moves StatefulSets of at most ${MAX_CLAIM_TEMPLATES} (the most data disks ECS attaches to one instance)`;
  }
  return undefined;
}
