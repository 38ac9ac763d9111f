/**
 * The gate every run of a job passes before the saga: the runner works only from what the API
 * server holds and what it wrote itself, never from a job's word alone (docs/security.md).
 *
 *   - The job's data must make its own migration id (a hash of namespace, name, zones and retry):
 *     a job edited in Redis is not acted on.
 *   - A journal of that id must be one this runner sealed (runner/journal/seal.ts) and agree with
 *     the job; one it did not create is never acted on, and the StatefulSet, if it carries the
 *     request, is told why.
 *   - A finished journal is the record of a run that ended: it is never replaced or deleted, and
 *     nothing runs again for it. A repeated request (moved away and back, a forged admission, the
 *     queue's retry) needs a new zoneferry.io/retry value, as contract §2 says; the StatefulSet is
 *     told so only when it shows the request as newly admitted (Pending), so a repeat never
 *     overwrites the message of a RollbackFailed run, the operator's record of what is left.
 *   - A job whose saga had finished (a report tried again) sets the StatefulSet's annotations
 *     from the journal's result, not from the job's.
 * A new request (no journal yet) passes only while the live StatefulSet makes it and carries its
 * stamp; one cancelled before it began (target-zones removed) ends with nothing done.
 *
 * The gate only reads: it runs before the migration's Lease is taken, so a forged job leaves no
 * trace in the cluster. What it has to tell a StatefulSet (`tell`) the worker writes under the Lease.
 */
import { workloadKind, type Workload } from "../core/workload/kinds.ts";
import { OWNED_ANNOTATIONS, USER_ANNOTATIONS } from "../core/annotations.ts";
import { operationMaterial } from "../core/cross-account-request.ts";
import type { MigrationJobData } from "../core/migration-queue.ts";
import { currentRequest, requestMigrationId } from "../core/migration-id.ts";
import { journalNameOf, readStatefulSet, type MigrationContext } from "./context.ts";
import { journaledStatefulSetUid, untrustedMessage, type MigrationJournal } from "./journal/journal.ts";
import { writeStatefulSetStatus, type StatefulSetStatusUpdate } from "./journal/statefulset-status.ts";
import { TERMINAL_PHASES, type ZoneMigrationResource } from "./journal/types.ts";
import { orUndefined } from "./kube-patch.ts";
import { carriesMigration } from "./ownership.ts";
import type { SagaStatus } from "./saga/checkpoint.ts";

/**
 * Run the saga, or end the job: `refused` when it was not zoneferry's to act on (forged, edited,
 * repeated, a journal not sealed), not when it merely has nothing left to do; `tell`: the
 * StatefulSet's status annotations to write, only for one that carries this migration.
 */
export type Gate =
  | { readonly kind: "run" }
  | { readonly kind: "end"; readonly message: string; readonly status: SagaStatus; readonly refused: boolean; readonly tell?: StatefulSetStatusUpdate };

const RUN: Gate = { kind: "run" };

export interface GateInput {
  /** The journals, unfenced and unmemoized: the gate reads before any step scope exists. */
  readonly journals: MigrationJournal;
  /** The job's saga had concluded: only its report is due. */
  readonly concluded: boolean;
}

export async function gateJob(context: MigrationContext, input: GateInput): Promise<Gate> {
  const { job } = context;
  const made = requestMigrationId(job.namespace, job.statefulSet, { targetZones: job.targetZones, retry: job.retry, operation: job.operation });
  if (made !== job.migrationId) return end(`the job's data makes migration ${made}, not ${job.migrationId}: it was not queued by zoneferry and is not acted on`);
  const [journal, sts] = await Promise.all([input.journals.read(job.namespace, journalNameOf(context)), orUndefined(readStatefulSet(context))]);
  if (journal === undefined) return unjournaled(context, sts);
  if (!input.journals.isSealed(journal)) return end(untrustedMessage(journal), { sts, context, status: "Failed" });
  const differs = disagreement(journal, context);
  if (differs !== undefined) return end(`the job's ${differs} disagrees with its journal ${journal.metadata.name ?? ""}: not acted on`);
  if (journal.status?.finishedAt === undefined && !TERMINAL_PHASES.has(journal.status?.phase ?? "Pending")) return RUN;
  return input.concluded ? reportFromJournal(context, sts, journal) : repeated(context, sts, journal);
}

/** Writes what the gate has to tell the StatefulSet, if anything (under the migration's Lease). */
export async function tellStatefulSet(context: MigrationContext, gate: Gate): Promise<void> {
  if (gate.kind === "run" || gate.tell === undefined) return;
  await context.beforeWrite("writeStatefulSetStatus");
  await writeStatefulSetStatus(context.kubeconfig, context.job.namespace, context.job.statefulSet, { ...gate.tell, kind: context.workload.kind });
}

/** No journal yet: a new request, which runs only while the live StatefulSet makes it, stamped. */
function unjournaled(context: MigrationContext, sts: Workload | undefined): Gate {
  const { job } = context;
  if (sts === undefined) return { kind: "end", message: `StatefulSet ${job.namespace}/${job.statefulSet} does not exist; nothing to migrate`, status: "Succeeded", refused: false };
  const current = currentRequest(job.namespace, job.statefulSet, sts.metadata?.annotations ?? {});
  const stamped = carriesMigration(sts, job);
  if (current?.migrationId === job.migrationId && stamped) return RUN;
  if (!stamped) return end(`StatefulSet ${job.namespace}/${job.statefulSet} does not carry migration ${job.migrationId}: not acted on`);
  // Stamped with this id, and the request gone or changed since: the user cancelled before it began.
  const message = current === undefined
    ? `cancelled before it began: ${requestAnnotationOf(job)} was removed; nothing was done`
    : `request ${job.migrationId} is no longer the StatefulSet's request; nothing done`;
  return { kind: "end", message, status: "Failed", refused: false, ...(current === undefined ? { tell: { status: "Failed", step: "precheck", message } } : {}) };
}

/** A job for a request whose run has ended: nothing runs, the record stays. */
function repeated(context: MigrationContext, sts: Workload | undefined, journal: ZoneMigrationResource): Gate {
  const { job } = context;
  const earlier = sts !== undefined && journaledStatefulSetUid(journal) !== sts.metadata?.uid ? " of an earlier StatefulSet of this name" : "";
  const at = journal.status?.finishedAt === undefined ? "" : ` at ${journal.status.finishedAt}`;
  const message = `request ${job.migrationId} already ran${earlier}: ZoneMigration ${journal.metadata.name ?? ""} ended ${journal.status?.phase ?? "?"}${at}, and its record is kept; nothing was done. To run the same request again, set zoneferry.io/retry to a new value`;
  // Told only when shown as newly admitted: a repeat never overwrites the message of the run that ended.
  const fresh = sts?.metadata?.annotations?.[OWNED_ANNOTATIONS.status] === "Pending";
  return fresh ? end(message, { sts, context, status: "Failed" }) : end(message);
}

/** A refused job; the StatefulSet is told why only if it carries this migration (else it is not ours to write). */
function end(message: string, told?: { readonly sts: Workload | undefined; readonly context: MigrationContext; readonly status: SagaStatus }): Gate {
  const ours = told?.sts !== undefined && carriesMigration(told.sts, told.context.job);
  return { kind: "end", message, status: "Failed", refused: true, ...(ours ? { tell: { status: told.status, message } } : {}) };
}

/** What in the job differs from the journal it would act on, if anything. */
function disagreement(journal: ZoneMigrationResource, context: MigrationContext): string | undefined {
  const { job } = context;
  if (journal.spec.migrationId !== job.migrationId || journal.spec.statefulSet !== job.statefulSet) return "migration";
  if (journal.spec.targetZones.join(",") !== job.targetZones.join(",")) return "target zones";
  if ((journal.spec.request?.retry ?? "") !== job.retry) return "retry value";
  if (operationMaterial(journal.spec.request?.operation) !== operationMaterial(job.operation)) return "export or restore";
  if (workloadKind(journal.spec.workloadApiVersion) !== workloadKind(job.apiVersion)) return "StatefulSet kind";
  return undefined;
}

/** The StatefulSet's annotations set to the finished journal's result. */
function reportFromJournal(context: MigrationContext, sts: Workload | undefined, journal: ZoneMigrationResource): Gate {
  const status = journal.status!;
  const message = status.message ?? `migration ${context.job.migrationId} ended ${status.phase ?? "?"}`;
  const phase = status.phase !== undefined && TERMINAL_PHASES.has(status.phase) ? (status.phase as SagaStatus) : "Failed";
  const ours = sts !== undefined && carriesMigration(sts, context.job);
  return { kind: "end", message, status: phase, refused: false, ...(ours ? { tell: { status: phase, message, ...(status.step === undefined ? {} : { step: status.step }) } } : {}) };
}

/** The annotation that makes the job's kind of request. */
function requestAnnotationOf(job: Pick<MigrationJobData, "operation">): string {
  if (job.operation === undefined) return USER_ANNOTATIONS.targetZones;
  return job.operation.kind === "export" ? USER_ANNOTATIONS.exportToAccounts : USER_ANNOTATIONS.restoreFrom;
}
