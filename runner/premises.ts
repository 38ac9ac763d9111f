/**
 * What the steps between scale-to-zero and rebind rely on, checked again rather than trusted to
 * the guard: the app is down (replicas 0, no pod). An admin, a tool with the runner's rights, or a
 * cluster without our webhook can scale the StatefulSet up meanwhile; a snapshot taken then, or a
 * rebind onto a disk made from an earlier snapshot, would lose what the app wrote since. The
 * migration rolls back instead, onto the disks the app wrote to.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { readStatefulSet, type MigrationContext } from "./context.ts";
import { PermanentMigrationError } from "./faults.ts";
import { podsOf } from "./replicas.ts";

const named = (pods: readonly V1Pod[]): string => pods.map((pod) => pod.metadata?.name ?? "?").join(", ");

/** Throws a permanent fault naming what came back, unless replicas are 0 and no pod exists. */
export async function assertAppDown(context: MigrationContext, before: string): Promise<void> {
  const sts = await readStatefulSet(context);
  const replicas = sts.spec?.replicas ?? 1;
  const pods = await podsOf(context, sts);
  if (replicas === 0 && pods.length === 0) return;
  const what = [replicas === 0 ? undefined : `spec.replicas is ${replicas}`, pods.length === 0 ? undefined : `pod(s) ${named(pods)} exist`].filter((part) => part !== undefined).join(" and ");
  throw new PermanentMigrationError(`the StatefulSet came back up during the migration (${what}), past zoneferry's guard: the app may have written to its disks since they were stopped, so ${before} cannot go on`);
}
