/** Merge patches the runner writes, as zoneferry's runner identity (exempt from the migration guard). */
import { PatchStrategy, setHeaderOptions, type V1StatefulSet } from "@kubernetes/client-node";
import { tolerating } from "../core/kube/api-status.ts";
import type { MigrationContext } from "./context.ts";
import { assertCarriesMigration } from "./ownership.ts";

const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
/** The manager of the fields the runner sets (replicas, retention): what GitOps tools are told to leave alone. */
export const FIELD_MANAGER = "zoneferry-runner";

/** `sts`: the StatefulSet as just read; the patch goes only to one that still carries this migration. */
export async function patchStatefulSet(context: MigrationContext, sts: V1StatefulSet, body: object): Promise<void> {
  assertCarriesMigration(sts, context.job);
  await context.workload.patch(context.job.namespace, context.job.statefulSet, body, FIELD_MANAGER);
}

export async function patchPersistentVolume(context: MigrationContext, name: string, body: object): Promise<void> {
  await context.core.patchPersistentVolume({ name, body, fieldManager: FIELD_MANAGER }, MERGE);
}

/** A read of what may be absent: undefined on 404. */
export function orUndefined<T>(read: Promise<T>): Promise<T | undefined> {
  return tolerating(404, () => read);
}
