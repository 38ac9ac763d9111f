/** Scaling the StatefulSet and observing its pods, shared by the scale-down and restore steps. */
import type { V1Pod, V1StatefulSet } from "@kubernetes/client-node";
import { readStatefulSet, type MigrationContext } from "./context.ts";
import { patchStatefulSet } from "./kube-patch.ts";

export async function scaleTo(context: MigrationContext, replicas: number): Promise<void> {
  const sts = await readStatefulSet(context);
  if (sts.spec?.replicas !== replicas) await patchStatefulSet(context, sts, { spec: { replicas } });
}

/** The StatefulSet's pods: those it owns (`sts`: the StatefulSet just read, if the caller has it). */
export async function podsOf(context: MigrationContext, read?: V1StatefulSet): Promise<V1Pod[]> {
  const sts = read ?? (await readStatefulSet(context));
  const selector = Object.entries(sts.spec?.selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`).join(",");
  const pods = await context.core.listNamespacedPod({ namespace: context.job.namespace, labelSelector: selector });
  return pods.items.filter((pod) => pod.metadata?.ownerReferences?.some((owner) => owner.uid === sts.metadata?.uid) === true);
}
