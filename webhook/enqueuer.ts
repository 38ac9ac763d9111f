/**
 * Queues an admitted migration within a time budget. A slow or absent Redis never fails an
 * admission: the job id is the migration id, so a late add is harmless, and the runner's
 * reconciler queues any StatefulSet whose migration-id has neither journal nor job.
 */
import type { Logger } from "pino";
import { queueMigration, type MigrationJobData, type MigrationQueueWriter } from "../core/migration-queue.ts";
import type { WebhookMetrics } from "./metrics.ts";

/** "limited": skipped by the namespace's rate limit (webhook/namespace-rate-limit.ts). */
export type EnqueueOutcome = "queued" | "timeout" | "error" | "limited";

export interface Enqueuer {
  enqueue(job: MigrationJobData): Promise<EnqueueOutcome>;
}

export interface QueueEnqueuerOptions {
  readonly queue: MigrationQueueWriter;
  readonly timeoutMs: number;
  readonly metrics: WebhookMetrics;
  readonly logger: Logger;
}

export function queueEnqueuer(options: QueueEnqueuerOptions): Enqueuer {
  const { queue, timeoutMs, metrics, logger } = options;
  return {
    async enqueue(job) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => { resolve("timeout"); }, timeoutMs);
      });
      const added = queueMigration(queue, job).then(
        () => "queued" as const,
        (error: unknown) => {
          logger.warn({ migrationId: job.migrationId, err: error }, "could not queue migration; the runner's reconciler will queue it");
          return "error" as const;
        },
      );
      const outcome = await Promise.race([added, deadline]);
      clearTimeout(timer);
      if (outcome === "queued") {
        metrics.enqueued.inc();
      } else {
        metrics.enqueueFailures.inc({ reason: outcome });
        if (outcome === "timeout") {
          logger.warn({ migrationId: job.migrationId, timeoutMs }, "queueing migration took longer than the budget; admitted without waiting, the runner's reconciler will queue it if the add is lost");
        }
      }
      return outcome;
    },
  };
}
