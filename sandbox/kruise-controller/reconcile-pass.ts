/**
 * One pass over every Advanced StatefulSet the cache holds. A set whose pass failed (an API error)
 * waits out its backoff while the others go on; the loop wakes when the earliest retry is due.
 */
import { apiStatus } from "../../core/kube/api-status.ts";
import { liveOrdinals } from "../../core/workload/ordinals.ts";
import { messageOf } from "../disk-provisioner/provisioner-context.ts";
import { podName, setKey } from "./advanced-set.ts";
import type { ControllerContext } from "./controller-context.ts";
import { reconcileSet } from "./reconcile-set.ts";

export async function reconcileAll(context: ControllerContext, startedAt: number): Promise<number | undefined> {
  const sets = context.cache.sets();
  await Promise.all(sets.map(async (set) => {
    const key = `set/${setKey(set)}`;
    if (!context.backoff.isDue(key)) return;
    try {
      await reconcileSet(context, set);
      context.backoff.succeeded(key);
    } catch (error) {
      const delayMs = context.backoff.failed(key);
      context.logger.warn({ set: setKey(set), status: apiStatus(error), delayMs, reason: messageOf(error) }, "reconcile failed; retrying after a backoff");
    }
  }));
  // Forget the retry timing of sets and pods that no longer exist.
  context.backoff.retainOnly(new Set(sets.map((set) => `set/${setKey(set)}`)), "set/");
  context.backoff.retainOnly(new Set(sets.flatMap((set) => liveOrdinals(set.spec).map((ordinal) => `pod/${set.metadata.namespace}/${podName(set, ordinal)}`))), "pod/");
  return context.backoff.nextDueInMs(startedAt);
}
