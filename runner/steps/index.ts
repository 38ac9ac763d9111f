/** The steps of a migration (contract §5 Recreate, §6 Rolling), in order. */
import type { MigrationContext } from "../context.ts";
import type { ZoneMigrationResource } from "../journal/types.ts";
import type { Step } from "../saga/step.ts";
import { stopWhenStatefulSetGone } from "../statefulset-gone.ts";
import { precheck } from "./01-precheck.ts";
import { protect } from "./02-protect.ts";
import { scaleToZero } from "./03-scale-to-zero.ts";
import { snapshot } from "./04-snapshot.ts";
import { createDisks } from "./05-create-disks.ts";
import { rebind } from "./06-rebind.ts";
import { restoreReplicas } from "./07-restore-replicas.ts";
import { finish } from "./08-finish.ts";
import { rollingSteps } from "./rolling/index.ts";
import { EXPORT_STEPS } from "./export/index.ts";
import { RESTORE_STEPS } from "./restore/index.ts";
import type { RequestOperation } from "../../core/cross-account-request.ts";

/** Each stops the run first if its StatefulSet was deleted meanwhile (runner/statefulset-gone.ts). */
export const RECREATE_STEPS: readonly Step<MigrationContext>[] = [precheck, protect, scaleToZero, snapshot, createDisks, rebind, restoreReplicas, finish].map(stopWhenStatefulSetGone);

export const EXPORT_RUN: readonly Step<MigrationContext>[] = EXPORT_STEPS.map(stopWhenStatefulSetGone);
export const RESTORE_RUN: readonly Step<MigrationContext>[] = RESTORE_STEPS.map(stopWhenStatefulSetGone);

/**
 * The steps of the journal's migration: an export's or a restore's (known from the job before the
 * journal exists: the gate holds job and journal to agree), Rolling's, per replica of its plan, or
 * Recreate's. Before precheck has made the journal the strategy is unknown; precheck comes first
 * in both.
 */
export function stepsFor(journal: ZoneMigrationResource | undefined, job?: { readonly operation?: RequestOperation | undefined }): readonly Step<MigrationContext>[] {
  const operation = journal?.spec.request?.operation ?? job?.operation;
  if (operation !== undefined) return operation.kind === "export" ? EXPORT_RUN : RESTORE_RUN;
  return journal?.spec.request?.strategy === "Rolling" ? rollingSteps(journal.spec.plan).map(stopWhenStatefulSetGone) : RECREATE_STEPS;
}
