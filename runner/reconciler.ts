/**
 * The level-triggered safety net: the webhook's enqueue may be lost (Redis down at admission), and
 * Redis may lose its data mid-migration. On start and periodically the reconciler queues
 *   - every journal in a non-terminal phase that has no job: forward from its journal, or, if it
 *     was rolling back, straight into its compensations (each reads the actual state and acts only
 *     on the gap, so running all of them is safe);
 *   - every StatefulSet whose migration-id has neither journal nor job (an admitted request whose
 *     enqueue was lost).
 */
import { AppsV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { Queue } from "bullmq";
import type { Logger } from "pino";
import { OWNED_ANNOTATIONS } from "../core/annotations.ts";
import { migrationId } from "../core/migration-id.ts";
import { parseMigrationRequest } from "../core/migration-request.ts";
import type { MigrationJobData } from "../core/migration-queue.ts";
import { journalName, type MigrationJournal } from "./journal/journal.ts";
import type { ZoneMigrationResource } from "./journal/types.ts";
import { INITIAL_CHECKPOINT, beginRollback, resumed, type SagaCheckpoint } from "./saga/checkpoint.ts";
import type { SagaData } from "./saga/run-saga.ts";
import { RECREATE_STEPS } from "./steps/index.ts";

export interface ReconcilerOptions {
  readonly kubeconfig: KubeConfig;
  readonly queue: Queue<MigrationJobData & SagaData>;
  readonly journal: MigrationJournal;
  readonly logger: Logger;
}

const JOB_NAME = "migrate";

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
  const registered = RECREATE_STEPS.filter((step) => step.compensate !== undefined).map((step) => step.name);
  const resumed = { ...INITIAL_CHECKPOINT, next: RECREATE_STEPS.length, registered };
  return beginRollback(resumed, journal.status?.step ?? "unknown", journal.status?.message ?? "resumed after the queue lost the migration");
}

async function hasJob(queue: Queue, id: string): Promise<boolean> {
  return (await queue.getJob(id)) !== undefined;
}

/**
 * Whether a job of this id is still to run. A finished one belongs to an earlier run of the same
 * request (the user moved away and back): it is removed, so the request can be queued again.
 */
async function hasLiveJob(queue: Queue, id: string): Promise<boolean> {
  const job = await queue.getJob(id);
  if (job === undefined) return false;
  if (!(await job.isCompleted()) && !(await job.isFailed())) return true;
  await job.remove();
  return false;
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
  for (const record of active) {
    const id = record.spec.migrationId;
    if (await hasJob(queue, id)) continue;
    const data: MigrationJobData & SagaData = {
      migrationId: id,
      namespace: record.metadata.namespace ?? "",
      statefulSet: record.spec.statefulSet,
      targetZones: record.spec.targetZones,
      retry: record.spec.request?.retry ?? "",
      requestedBy: "zoneferry-reconciler",
    };
    const saga = resumeFrom(record);
    await queue.add(JOB_NAME, saga === undefined ? data : { ...data, saga }, { jobId: id });
    logger.warn({ migrationId: id, phase: record.status?.phase, step: record.status?.step }, "migration journaled but not queued: queued again from its journal's checkpoint");
    queued.push(id);
  }
  return queued;
}

async function queueUnjournaled(options: ReconcilerOptions, journaled: ReadonlySet<string>): Promise<string[]> {
  const { queue, logger } = options;
  const queued: string[] = [];
  const statefulSets = await options.kubeconfig.makeApiClient(AppsV1Api).listStatefulSetForAllNamespaces();
  for (const sts of statefulSets.items) {
    const annotations = sts.metadata?.annotations ?? {};
    const id = annotations[OWNED_ANNOTATIONS.migrationId];
    if (id === undefined || annotations[OWNED_ANNOTATIONS.status] !== "Pending") continue;
    const namespace = sts.metadata?.namespace ?? "";
    const name = sts.metadata?.name ?? "";
    if (journaled.has(`${namespace}/${journalName(name, id)}`) || (await hasLiveJob(queue, id))) continue;
    const parsed = parseMigrationRequest(annotations);
    if (!parsed.ok || migrationId({ namespace, name, targetZones: parsed.request.targetZones, retry: parsed.request.retry }) !== id) continue;
    await queue.add(JOB_NAME, { migrationId: id, namespace, statefulSet: name, targetZones: parsed.request.targetZones, retry: parsed.request.retry, requestedBy: "zoneferry-reconciler" }, { jobId: id });
    logger.warn({ migrationId: id }, "admitted migration was never queued: queued now");
    queued.push(id);
  }
  return queued;
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
