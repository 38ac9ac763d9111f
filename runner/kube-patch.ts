/** Merge patches the runner writes, as zoneferry's runner identity (exempt from the migration guard). */
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { tolerating } from "../core/kube/api-status.ts";
import type { MigrationContext } from "./context.ts";

const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
/** The manager of the fields the runner sets (replicas, retention): what GitOps tools are told to leave alone. */
export const FIELD_MANAGER = "zoneferry-runner";

export async function patchStatefulSet(context: MigrationContext, body: object): Promise<void> {
  await context.apps.patchNamespacedStatefulSet({ namespace: context.job.namespace, name: context.job.statefulSet, body, fieldManager: FIELD_MANAGER }, MERGE);
}

export async function patchPersistentVolume(context: MigrationContext, name: string, body: object): Promise<void> {
  await context.core.patchPersistentVolume({ name, body, fieldManager: FIELD_MANAGER }, MERGE);
}

/** A read of what may be absent: undefined on 404. */
export function orUndefined<T>(read: Promise<T>): Promise<T | undefined> {
  return tolerating(404, () => read);
}
