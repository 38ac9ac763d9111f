/**
 * What a user sees of a migration: the journal's phase and step, zoneferry's annotations on the
 * StatefulSet, and an Event per step. Every write here is idempotent (a retried job repeats it).
 */
import type { MigrationStatus } from "../core/annotations.ts";
import { journalNameOf, readStatefulSet, type MigrationContext } from "./context.ts";
import { recordEvent, type ZoneferryEventReason } from "./journal/events.ts";
import { writeStatefulSetStatus } from "./journal/statefulset-status.ts";
import type { SagaResult } from "./saga/checkpoint.ts";
import { orUndefined } from "./kube-patch.ts";

interface Report {
  readonly phase: MigrationStatus;
  readonly step: string;
  readonly message: string;
  readonly reason: ZoneferryEventReason;
  /** A Warning Event even on success: something is left to do by hand. */
  readonly warn?: boolean;
}

async function report(context: MigrationContext, { phase, step, message, reason, warn }: Report): Promise<void> {
  const { namespace } = context.job;
  const journal = await context.journal.read(namespace, journalNameOf(context));
  if (journal !== undefined) {
    await context.journal.updateStatus(namespace, journalNameOf(context), (status) => {
      status.phase = phase;
      status.step = step;
      status.message = message;
      if (phase === "Succeeded" || phase === "Failed" || phase === "RollbackFailed") status.finishedAt ??= new Date(context.now()).toISOString();
      else status.startedAt ??= new Date(context.now()).toISOString();
    });
  }
  const sts = await orUndefined(readStatefulSet(context));
  if (sts === undefined) return;
  // These clients are made from the kubeconfig, not the fenced ones: check by hand.
  await context.beforeWrite("writeStatefulSetStatus");
  await writeStatefulSetStatus(context.kubeconfig, namespace, context.job.statefulSet, { status: phase, step, message });
  const failed = warn === true || reason === "ZoneferryFailed" || reason === "ZoneferryRollbackFailed" || reason === "ZoneferryRollingBack";
  await context.beforeWrite("recordEvent");
  await recordEvent(context.kubeconfig, sts, { reason, message, type: failed ? "Warning" : "Normal" });
}

export function reportStep(context: MigrationContext, step: string, phase: "forward" | "compensating"): Promise<void> {
  return phase === "forward"
    ? report(context, { phase: "Running", step, message: `step ${step}`, reason: "ZoneferryStep" })
    : report(context, { phase: "RollingBack", step, message: `rolling back: undoing ${step}`, reason: "ZoneferryRollingBack" });
}

export function reportResult(context: MigrationContext, result: SagaResult, lastStep: string): Promise<void> {
  const reason: ZoneferryEventReason = result.status === "Succeeded" ? "ZoneferrySucceeded" : result.status === "Failed" ? "ZoneferryFailed" : "ZoneferryRollbackFailed";
  return report(context, { phase: result.status, step: lastStep, message: result.message, reason, warn: result.leftovers === true });
}
