/** Merge patches the runner writes, as zoneferry's runner identity (exempt from the migration guard). */
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { MigrationContext } from "./context.ts";

const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export async function patchStatefulSet(context: MigrationContext, body: object): Promise<void> {
  await context.apps.patchNamespacedStatefulSet({ namespace: context.job.namespace, name: context.job.statefulSet, body }, MERGE);
}

export async function patchPersistentVolume(context: MigrationContext, name: string, body: object): Promise<void> {
  await context.core.patchPersistentVolume({ name, body }, MERGE);
}

/** True when the API answered 404 Not Found. */
export function isNotFound(error: unknown): boolean {
  return (error as { code?: number }).code === 404;
}

export async function orUndefined<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
