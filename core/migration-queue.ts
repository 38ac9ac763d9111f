/**
 * The contract between the webhook, which queues a migration, and the runner, which executes it:
 * the queue's name, the job's name, data and id (the migration id, so enqueueing twice is
 * harmless), and how a job is added. Every producer (the webhook, the runner's reconciler) adds
 * through here.
 */
import type { RequestOperation } from "./cross-account-request.ts";
import type { CurrentRequest } from "./migration-id.ts";
import { NATIVE, type WorkloadApiVersion, type WorkloadKind } from "./workload/kinds.ts";

export const MIGRATION_QUEUE = "zoneferry-migrations";

/** A job name for humans (BullMQ boards); identity lies in the job id. */
export const MIGRATION_JOB_NAME = "migrate";

/** `requestedBy` of a job the runner's reconciler queues (no admission request to name a user). */
export const RECONCILER_REQUESTER = "zoneferry-reconciler";

/** What the webhook knows when it admits a request. The runner re-reads everything else. */
export interface MigrationJobData {
  readonly migrationId: string;
  readonly namespace: string;
  readonly statefulSet: string;
  /**
   * The StatefulSet's API: apps/v1, or apps.kruise.io/v1beta1 for an Advanced StatefulSet. Absent
   * in a job queued before zoneferry knew two kinds: apps/v1 (core/workload/kinds.ts workloadKind).
   */
  readonly apiVersion?: WorkloadApiVersion;
  readonly targetZones: readonly string[];
  readonly retry: string;
  /** An export or a restore (part of the migration id); absent for a move. */
  readonly operation?: RequestOperation;
  /** Who asked (the admission request's user), for the journal and the logs. */
  readonly requestedBy: string;
}

/** The job of the StatefulSet `namespace`/`name`'s current request. */
export function migrationJob(workload: { readonly namespace: string; readonly name: string; readonly kind?: WorkloadKind }, current: CurrentRequest, requestedBy: string): MigrationJobData {
  return {
    migrationId: current.migrationId,
    namespace: workload.namespace,
    statefulSet: workload.name,
    apiVersion: (workload.kind ?? NATIVE).apiVersion,
    targetZones: current.request.targetZones,
    retry: current.request.retry,
    ...(current.request.operation === undefined ? {} : { operation: current.request.operation }),
    requestedBy,
  };
}

/** The part of a BullMQ Job the producers use. */
interface QueuedJob {
  isCompleted(): Promise<boolean>;
  isFailed(): Promise<boolean>;
  remove(): Promise<void>;
}

/** How many finished jobs of one kind BullMQ keeps, and for how long (seconds). */
export interface JobRetention {
  readonly age: number;
  readonly count: number;
}

/**
 * How long finished jobs stay in Redis. Never removing them let Redis grow with every request
 * (forged ones too). Nothing relies on a finished job: the journal (ZoneMigration) and the
 * StatefulSet's annotations say how a migration ended, the reconciler decides from them, and a
 * saga records its result in the journal before its job completes or fails. Failed jobs stay
 * longer, for whoever looks into a failure with a queue board. BullMQ applies the age when another
 * job finishes; the count bounds Redis regardless.
 */
export const JOB_RETENTION: { readonly completed: JobRetention; readonly failed: JobRetention } = {
  completed: { age: 24 * 3600, count: 1000 },
  failed: { age: 7 * 24 * 3600, count: 1000 },
};

/** What a job is added with: its id, the migration id, and when BullMQ removes it once finished. */
export interface MigrationJobOptions {
  readonly jobId: string;
  readonly removeOnComplete: JobRetention;
  readonly removeOnFail: JobRetention;
}

/** The part of a BullMQ Queue the producers use (a Queue is one). */
export interface MigrationQueueWriter<T extends MigrationJobData = MigrationJobData> {
  add(name: string, data: T, options: MigrationJobOptions): Promise<unknown>;
  getJob(id: string): Promise<QueuedJob | undefined>;
}

/** Adds the job under its migration id; BullMQ ignores it while a job of that id exists. */
export async function addMigrationJob<T extends MigrationJobData>(
  queue: Pick<MigrationQueueWriter<T>, "add">,
  data: T,
  retention: typeof JOB_RETENTION = JOB_RETENTION,
): Promise<void> {
  await queue.add(MIGRATION_JOB_NAME, data, { jobId: data.migrationId, removeOnComplete: retention.completed, removeOnFail: retention.failed });
}

/**
 * Whether a job of this id is still to run (waiting, delayed or active). A finished one belongs
 * to an earlier run of the same request (the user moved away and back): it is removed, so the
 * request can be queued again instead of staying Pending.
 */
export async function hasLiveJob(queue: Pick<MigrationQueueWriter, "getJob">, id: string): Promise<boolean> {
  const job = await queue.getJob(id);
  if (job === undefined) return false;
  if (!(await job.isCompleted()) && !(await job.isFailed())) return true;
  await job.remove();
  return false;
}

/** Queues a request: a no-op while the same request is in flight, a new run after a finished one. */
export async function queueMigration<T extends MigrationJobData>(queue: MigrationQueueWriter<T>, data: T): Promise<void> {
  if (await hasLiveJob(queue, data.migrationId)) return;
  await addMigrationJob(queue, data);
}
