/**
 * The contract between the webhook, which queues a migration, and the runner, which executes it:
 * the queue's name, the job's data, and its id (the migration id, so enqueueing twice is harmless).
 */

export const MIGRATION_QUEUE = "zoneferry-migrations";

/** What the webhook knows when it admits a request. The runner re-reads everything else. */
export interface MigrationJobData {
  readonly migrationId: string;
  readonly namespace: string;
  readonly statefulSet: string;
  readonly targetZones: readonly string[];
  readonly retry: string;
  /** Who asked (the admission request's user), for the journal and the logs. */
  readonly requestedBy: string;
}
