/**
 * Cancel (docs/gitops.md): removing `zoneferry.io/target-zones` (an export's export-to-accounts, a
 * restore's restore-from) from a StatefulSet under migration,
 * by hand or by reverting the commit that added it, rolls the migration back at its next safe
 * point: before any forward step runs, or runs again after a wait. Once finish has begun the move
 * stands (the point of no return) and a cancel changes nothing.
 */
import { USER_ANNOTATIONS } from "../core/annotations.ts";
import { readStatefulSet, type MigrationContext } from "./context.ts";
import { orUndefined } from "./kube-patch.ts";

/** Why the user cancelled this migration, or undefined while its request stands. */
export async function cancelRequested(context: MigrationContext): Promise<string | undefined> {
  // A StatefulSet that is gone is no cancel: the steps meet its absence and say so.
  const sts = await orUndefined(readStatefulSet(context));
  if (sts === undefined) return undefined;
  const key = context.job.operation === undefined ? USER_ANNOTATIONS.targetZones : context.job.operation.kind === "export" ? USER_ANNOTATIONS.exportToAccounts : USER_ANNOTATIONS.restoreFrom;
  const value = sts.metadata?.annotations?.[key];
  return value === undefined || value.trim() === "" ? `${key} was removed, which cancels the ${context.job.operation?.kind ?? "migration"}` : undefined;
}
