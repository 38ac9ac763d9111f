/**
 * The level-triggered safety net: the webhook's enqueue may be lost (Redis down at admission), and
 * Redis may lose its data mid-migration. On start and periodically the reconciler queues
 *   - every journal in a non-terminal phase that has no job: forward from its journal, or, if it
 *     was rolling back, straight into its compensations (each reads the actual state and acts only
 *     on the gap, so running all of them is safe);
 *   - every journal in a non-terminal phase whose job failed for an unexpected reason (a fault the
 *     runner did not expect: a finished saga makes its journal terminal before its job fails), counted
 *     by `zoneferry_jobs_requeued_total{reason="failed"}`, which is worth an alert;
 *   - every StatefulSet whose migration-id has neither journal nor job (an admitted request whose
 *     enqueue was lost);
 *   - and it sets the status annotations of a StatefulSet that still says Pending, Running or
 *     RollingBack from its finished journal, when the result's annotation write was refused for good.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { Queue } from "bullmq";
import type { Logger } from "pino";
import { ACTIVE_STATUSES, OWNED_ANNOTATIONS } from "../core/annotations.ts";
import { currentRequest } from "../core/migration-id.ts";
import { RECONCILER_REQUESTER, addMigrationJob, hasLiveJob, migrationJob, type MigrationJobData } from "../core/migration-queue.ts";
import { NATIVE, workloadKind, type Workload, type WorkloadKind } from "../core/workload/kinds.ts";
import { workloadClient } from "./workload/workload-client.ts";
import { journalName, untrustedMessage, type MigrationJournal } from "./journal/journal.ts";
import { TERMINAL_PHASES, type ZoneMigrationResource } from "./journal/types.ts";
import { writeStatefulSetStatus } from "./journal/statefulset-status.ts";
import type { RunnerMetrics } from "./metrics.ts";
import { INITIAL_CHECKPOINT, beginRollback, resumed, type SagaCheckpoint } from "./saga/checkpoint.ts";
import type { SagaData } from "./saga/run-saga.ts";
import { stepsFor } from "./steps/index.ts";
import { replicaPrefix } from "./steps/rolling/index.ts";

export interface ReconcilerOptions {
  readonly kubeconfig: KubeConfig;
  readonly queue: Queue<MigrationJobData & SagaData>;
  readonly journal: MigrationJournal;
  readonly logger: Logger;
  readonly metrics?: RunnerMetrics;
  /** The StatefulSet kinds to look for admitted requests in (apps/v1 when absent; WORKLOADS_KRUISE adds kruise's). */
  readonly kinds?: readonly WorkloadKind[];
}

/**
 * Where a journaled migration resumes: its checkpoint, which the runner keeps in the journal
 * before it relies on a step's result. A journal written before checkpoints were kept (or by a
 * rollback the checkpoint does not show yet) resumes as before: forward from precheck, which finds
 * the plan and moves on, or straight into every compensation.
 */
function resumeFrom(journal: ZoneMigrationResource): SagaCheckpoint | undefined {
  const saved = journal.status?.checkpoint;
  if (saved !== undefined) return resumed(saved);
  return journal.status?.phase === "RollingBack" ? rollbackCheckpoint(journal) : undefined;
}

/** A rollback resumed without its checkpoint: every compensation registered, as of the journal's step. */
function rollbackCheckpoint(journal: ZoneMigrationResource): SagaCheckpoint {
  const steps = stepsFor(journal);
  // Strategy Rolling: only the replicas the journal shows down have something to undo; a moved
  // one stays moved, and one never taken down must not be.
  const down = new Set((journal.status?.replicas ?? []).filter((replica) => replica.phase === "TakingDown" || replica.phase === "Down").map((replica) => replicaPrefix(replica.ordinal)));
  const undoable = (name: string): boolean => !/^replica-\d+\//.test(name) || down.has(name.slice(0, name.indexOf("/") + 1));
  const registered = steps.filter((step) => step.compensate !== undefined && undoable(step.name)).map((step) => step.name);
  const resumed = { ...INITIAL_CHECKPOINT, next: steps.length, registered };
  return beginRollback(resumed, journal.status?.step ?? "unknown", journal.status?.message ?? "resumed after the queue lost the migration");
}

/**
 * The journal's job, as the reconciler sees it: absent (Redis lost it), failed, or present (waiting,
 * delayed, running or completed: its worker is on it, or the journal says how it ended).
 */
async function jobOf(queue: Queue, id: string): Promise<"missing" | "failed" | "present"> {
  const job = await queue.getJob(id);
  if (job === undefined) return "missing";
  return (await job.isFailed()) ? "failed" : "present";
}

export async function reconcileOnce(options: ReconcilerOptions): Promise<string[]> {
  const active = await options.journal.listActive();
  const fromJournals = await requeueJournals(options, active);
  const journaled = new Set(active.map((record) => `${record.metadata.namespace ?? ""}/${record.metadata.name ?? ""}`));
  return [...fromJournals, ...(await queueUnjournaled(options, journaled))];
}

async function requeueJournals(options: ReconcilerOptions, active: readonly ZoneMigrationResource[]): Promise<string[]> {
  const { queue, logger } = options;
  const queued: string[] = [];
  for (const listed of active) {
    const id = listed.spec.migrationId;
    // A journal the runner did not create is never worked from (runner/job-gate.ts): said once.
    if (!options.journal.isSealed(listed)) {
      warnUntrusted(options, listed);
      continue;
    }
    const job = await jobOf(queue, id);
    if (job === "present") continue;
    // Read again after the job: a saga that ends writes its journal's result before its job fails,
    // so a journal still unfinished now was not finished by that job.
    const record = job === "failed" ? await freshUnfinished(options.journal, listed) : listed;
    if (record === undefined) continue;
    if (job === "failed") await (await queue.getJob(id))?.remove();
    const data: MigrationJobData & SagaData = {
      migrationId: id,
      namespace: record.metadata.namespace ?? "",
      statefulSet: record.spec.statefulSet,
      apiVersion: workloadKind(record.spec.workloadApiVersion).apiVersion,
      targetZones: record.spec.targetZones,
      retry: record.spec.request?.retry ?? "",
      ...(record.spec.request?.operation === undefined ? {} : { operation: record.spec.request.operation }),
      requestedBy: RECONCILER_REQUESTER,
    };
    const saga = resumeFrom(record);
    await addMigrationJob(queue, saga === undefined ? data : { ...data, saga });
    options.metrics?.requeued.inc({ reason: job });
    const why = job === "failed" ? "its job failed for an unexpected reason" : "it was not queued";
    logger.warn({ migrationId: id, phase: record.status?.phase, step: record.status?.step }, `migration journaled but ${why}: queued again from its journal's checkpoint`);
    queued.push(id);
  }
  return queued;
}

/** Journals already warned of, by uid: a pass every interval would otherwise repeat it. */
const warnedUntrusted = new Set<string>();

function warnUntrusted(options: ReconcilerOptions, journal: ZoneMigrationResource): void {
  const uid = journal.metadata.uid ?? "";
  if (warnedUntrusted.has(uid)) return;
  warnedUntrusted.add(uid);
  options.logger.warn({ journal: `${journal.metadata.namespace ?? ""}/${journal.metadata.name ?? ""}` }, untrustedMessage(journal));
}

async function freshUnfinished(journal: MigrationJournal, listed: ZoneMigrationResource): Promise<ZoneMigrationResource | undefined> {
  const fresh = await journal.read(listed.metadata.namespace ?? "", listed.metadata.name ?? "");
  return fresh === undefined || TERMINAL_PHASES.has(fresh.status?.phase ?? "Pending") ? undefined : fresh;
}

async function queueUnjournaled(options: ReconcilerOptions, journaled: ReadonlySet<string>): Promise<string[]> {
  const { queue, logger } = options;
  const queued: string[] = [];
  const lists = await Promise.all((options.kinds ?? [NATIVE]).map((kind) => workloadClient(options.kubeconfig, kind).listAll()));
  for (const sts of lists.flat()) {
    const annotations = sts.metadata?.annotations ?? {};
    const id = annotations[OWNED_ANNOTATIONS.migrationId];
    const namespace = sts.metadata?.namespace ?? "";
    const name = sts.metadata?.name ?? "";
    const status = annotations[OWNED_ANNOTATIONS.status] ?? "";
    if (id === undefined || !ACTIVE_STATUSES.has(status) || journaled.has(`${namespace}/${journalName(name, id)}`)) continue;
    // Pending, Running or RollingBack with no active journal: finished (every report of the result
    // to the StatefulSet was refused, Pending included when the first report was too), or not made
    // yet (the runner and Redis lost before precheck made it). A finished journal is the truth; a
    // request that already ran is never queued again (the webhook denies a repeat at admission).
    const journalExists = await mendStatus(options, sts, id).catch((error: unknown) => {
      logger.warn({ err: error, migrationId: id }, "could not set the status annotations from the finished journal: next pass");
      return true;
    });
    if (journalExists) continue;
    if (await hasLiveJob(queue, id)) continue;
    const current = currentRequest(namespace, name, annotations);
    if (current?.migrationId !== id) continue;
    await addMigrationJob(queue, migrationJob({ namespace, name, kind: workloadKind(sts.apiVersion) }, current, RECONCILER_REQUESTER));
    logger.warn({ migrationId: id }, "admitted migration was never queued: queued now");
    queued.push(id);
  }
  return queued;
}

/**
 * A StatefulSet whose annotations say a migration runs while its journal says it ended: the
 * result's annotation write was refused (a policy, a webhook) until the job ended. Its journal is the
 * truth; the annotations follow it, and release the guard's hold. Only when no job is left to
 * write them, and only on the StatefulSet as read (its resourceVersion), so a new request admitted
 * meanwhile is never overwritten.
 */
/** Sets the annotations from the finished journal of `id`; answers whether that journal exists at all. */
async function mendStatus(options: ReconcilerOptions, sts: Workload, id: string): Promise<boolean> {
  const namespace = sts.metadata?.namespace ?? "";
  const name = sts.metadata?.name ?? "";
  const journal = await options.journal.read(namespace, journalName(name, id));
  if (journal === undefined) return false;
  if (!options.journal.isSealed(journal)) return true;
  const phase = journal.status?.phase;
  if (journal.spec.migrationId !== id || phase === undefined || !TERMINAL_PHASES.has(phase)) return true;
  const job = await options.queue.getJob(id);
  if (job !== undefined && !(await job.isCompleted()) && !(await job.isFailed())) return true;
  const update = { status: phase, kind: workloadKind(sts.apiVersion), ifResourceVersion: sts.metadata?.resourceVersion ?? "", ...(journal.status?.step === undefined ? {} : { step: journal.status.step }), ...(journal.status?.message === undefined ? {} : { message: journal.status.message }) };
  await writeStatefulSetStatus(options.kubeconfig, namespace, name, update);
  options.logger.warn({ migrationId: id, status: phase }, "the StatefulSet's status annotations were behind its finished journal: set from it");
  return true;
}

/** Runs `reconcileOnce` now and every `intervalMs`; a failed pass is logged and the next one tries again. */
export function startReconciler(options: ReconcilerOptions & { readonly intervalMs: number }): { stop(): void } {
  const pass = (): void => {
    reconcileOnce(options).catch((error: unknown) => { options.logger.warn({ err: error }, "reconcile pass failed"); });
  };
  pass();
  const timer = setInterval(pass, options.intervalMs);
  return { stop: () => { clearInterval(timer); } };
}
