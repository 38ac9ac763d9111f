/**
 * One level-triggered pass over one set: read its pods from the cache, bring its claims' owners in
 * line with the retention policy, take the planned pod actions and report the status. Running it
 * again with nothing changed does nothing.
 */
import { PatchStrategy, setHeaderOptions, type V1Pod } from "@kubernetes/client-node";
import { tolerating } from "../../core/kube/api-status.ts";
import { liveOrdinals } from "../../core/workload/ordinals.ts";
import { KRUISE } from "../../core/workload/kinds.ts";
import { isControlledBy, isOrdered, ordinalOf, setKey, type AdvancedSet, type AdvancedSetStatus } from "./advanced-set.ts";
import { syncClaimOwners } from "./claims.ts";
import type { ControllerContext } from "./controller-context.ts";
import { planPods } from "./plan-pods.ts";
import { carryOut, type Revisions } from "./pod-actions.ts";
import { updateRevisionOf } from "./revisions.ts";
import { statusOf, statusUnchanged } from "./set-status.ts";

const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** The set's pods by ordinal: those it controls whose name is `<set>-<ordinal>`. */
function podsOf(context: ControllerContext, set: AdvancedSet): Map<number, V1Pod> {
  const pods = new Map<number, V1Pod>();
  for (const pod of context.cache.pods(set.metadata.namespace)) {
    const ordinal = ordinalOf(set, pod);
    if (ordinal !== undefined && isControlledBy(set, pod)) pods.set(ordinal, pod);
  }
  return pods;
}

/**
 * The lowest ordinal a rollout may replace, or undefined when none may be: strategy OnDelete, or
 * paused. In-place update policies are carried out as ReCreate (README.md).
 */
function rollingFrom(set: AdvancedSet): number | undefined {
  const strategy = set.spec?.updateStrategy;
  if (strategy?.type === "OnDelete" || strategy?.rollingUpdate?.paused === true) return undefined;
  return Math.max(0, strategy?.rollingUpdate?.partition ?? 0);
}

export async function reconcileSet(context: ControllerContext, set: AdvancedSet): Promise<void> {
  // A set being deleted is the garbage collector's: its pods and claims go through owner references.
  if (set.metadata.deletionTimestamp !== undefined) return;
  const live = liveOrdinals(set.spec);
  const pods = podsOf(context, set);
  const update = updateRevisionOf(set);
  await context.revisions.ensure(set, update);
  await syncClaimOwners(context, set, live, pods);
  const from = rollingFrom(set);
  const revisions: Revisions = { update, current: set.status?.currentRevision, partition: from ?? 0 };
  for (const action of planPods({ live, pods, ordered: isOrdered(set), updateRevision: update, rollingFrom: from })) {
    await carryOut(context, set, action, revisions);
  }
  await writeStatus(context, set, statusOf({ set, live, pods, updateRevision: update }));
}

async function writeStatus(context: ControllerContext, set: AdvancedSet, status: AdvancedSetStatus): Promise<void> {
  if (statusUnchanged(set, status)) return;
  const { namespace, name } = set.metadata;
  const target = { group: KRUISE.group, version: KRUISE.version, plural: KRUISE.plural, namespace, name };
  // 404: the set was deleted since the cache listed it.
  await tolerating(404, () => context.custom.patchNamespacedCustomObjectStatus({ ...target, body: { status } }, MERGE));
  context.logger.debug({ set: setKey(set), status }, "status written");
}
