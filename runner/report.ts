/**
 * What a user sees of a migration: the journal's phase and step, zoneferry's annotations on the
 * StatefulSet, and an Event per step. Every write here is idempotent (a retried job repeats it).
 *
 * What a fault of each costs (docs/data-safety.md, "Reports never stop a migration"):
 *   - the journal's phase: thrown, so the saga tries the report again after a backoff;
 *   - the annotations: a transient fault is thrown too; a refusal (a policy, a webhook) is logged,
 *     counted and passed over: every report writes the three of them again, and the reconciler
 *     sets them from a finished journal, so a refused one is mended by the next;
 *   - the Event: best effort, one try; a refused one is logged and counted, never thrown.
 */
import type { MigrationStatus } from "../core/annotations.ts";
import { journalNameOf, readStatefulSet, type MigrationContext } from "./context.ts";
import { recordEvent, type ZoneferryEventReason } from "./journal/events.ts";
import { writeStatefulSetStatus } from "./journal/statefulset-status.ts";
import type { SagaResult } from "./saga/checkpoint.ts";
import { orUndefined } from "./kube-patch.ts";
import { faultKind } from "./faults.ts";
import { carriesMigration } from "./ownership.ts";

/** Told of a report's write that was passed over (not thrown): the worker logs and counts it. */
export type RefusedReport = (part: "annotations" | "event", error: unknown) => void;

interface Report {
  readonly phase: MigrationStatus;
  readonly step: string;
  readonly message: string;
  readonly reason: ZoneferryEventReason;
  /** A Warning Event even on success: something is left to do by hand. */
  readonly warn?: boolean;
}

async function report(context: MigrationContext, { phase, step, message: text, reason, warn }: Report, refused: RefusedReport): Promise<void> {
  const { namespace } = context.job;
  const journal = await context.journal.read(namespace, journalNameOf(context));
  const shown = shownStep(step, journal?.spec.originalReplicas);
  const message = shownSteps(text, journal?.spec.originalReplicas);
  if (journal !== undefined) {
    await context.journal.updateStatus(namespace, journalNameOf(context), (status) => {
      status.phase = phase;
      status.step = shown;
      status.message = message;
      if (phase === "Succeeded" || phase === "Failed" || phase === "RollbackFailed") status.finishedAt ??= new Date(context.now()).toISOString();
      else status.startedAt ??= new Date(context.now()).toISOString();
    });
  }
  const sts = await orUndefined(readStatefulSet(context));
  // A StatefulSet that does not carry this migration (a forged or stale job, a newer request) is not told.
  if (sts === undefined || !carriesMigration(sts, context.job)) return;
  // These clients are made from the kubeconfig, not the fenced ones: check by hand.
  await context.beforeWrite("writeStatefulSetStatus");
  try {
    await writeStatefulSetStatus(context.kubeconfig, namespace, context.job.statefulSet, { status: phase, step: shown, message, kind: context.workload.kind });
  } catch (error) {
    if (faultKind(error) === "transient") throw error;
    refused("annotations", error);
  }
  const failed = warn === true || reason === "ZoneferryFailed" || reason === "ZoneferryRollbackFailed" || reason === "ZoneferryRollingBack";
  await context.beforeWrite("recordEvent");
  try {
    await recordEvent(context.kubeconfig, sts, { reason, message, type: failed ? "Warning" : "Normal", migrationId: context.job.migrationId });
  } catch (error) {
    refused("event", error);
  }
}

const IGNORE: RefusedReport = () => undefined;

export function reportStep(context: MigrationContext, step: string, phase: "forward" | "compensating", refused: RefusedReport = IGNORE): Promise<void> {
  return phase === "forward"
    ? report(context, { phase: "Running", step, message: `step ${step}`, reason: "ZoneferryStep" }, refused)
    : report(context, { phase: "RollingBack", step, message: `rolling back: undoing ${step}`, reason: "ZoneferryRollingBack" }, refused);
}

/**
 * A step as a user reads it: a Rolling replica's step names the ordinal among the replicas,
 * `replica-2/rebind` → `replica 2/3: rebind`; any other step as it is named.
 */
export function shownStep(step: string, replicas: number | undefined): string {
  const match = /^replica-(\d+)\/(.+)$/.exec(step);
  return match === null ? step : `replica ${match[1]!}/${replicas ?? "?"}: ${match[2]!}`;
}

/** Every Rolling step named in a message, as `shownStep` shows it. */
export function shownSteps(message: string, replicas: number | undefined): string {
  return message.replace(/\breplica-(\d+)\/([a-z-]+)/g, (_whole, ordinal: string, step: string) => `replica ${ordinal}/${replicas ?? "?"}: ${step}`);
}

export function reportResult(context: MigrationContext, result: SagaResult, lastStep: string, refused: RefusedReport = IGNORE): Promise<void> {
  const reason: ZoneferryEventReason = result.status === "Succeeded" ? "ZoneferrySucceeded" : result.status === "Failed" ? "ZoneferryFailed" : "ZoneferryRollbackFailed";
  return report(context, { phase: result.status, step: lastStep, message: result.message, reason, warn: result.leftovers === true }, refused);
}
