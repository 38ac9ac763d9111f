/** The webhook's express app wired for tests, with its log lines captured. */
import type { Express } from "express";
import type { Logger } from "pino";
import type { ClusterView } from "../../core/cluster-view.ts";
import type { DiskLookup } from "../../core/disk-cloud.ts";
import type { MigrationJobData } from "../../core/migration-queue.ts";
import { createApp } from "../../webhook/app.ts";
import type { Enqueuer, EnqueueOutcome } from "../../webhook/enqueuer.ts";
import { createLogger } from "../../webhook/logger.ts";
import { createMetrics, type WebhookMetrics } from "../../webhook/metrics.ts";
import { cloudAnswering } from "./cloud-answers.ts";
import { RUNNER } from "./admission.ts";

export interface TestApp {
  readonly app: Express;
  readonly metrics: WebhookMetrics;
  readonly logger: Logger;
  /** Parsed JSON log lines, in order. */
  readonly logs: Record<string, unknown>[];
}

export interface TestAppOptions {
  readonly view: ClusterView;
  readonly cloud?: DiskLookup;
  readonly enqueuer?: Enqueuer;
  readonly bodyLimitBytes?: number;
  /** Builds the enqueuer once the logger and metrics exist. */
  readonly makeEnqueuer?: (parts: { logger: Logger; metrics: WebhookMetrics }) => Enqueuer;
}

export function capturingLogger(): { logger: Logger; logs: Record<string, unknown>[] } {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger("info", { write: (line: string) => { logs.push(JSON.parse(line) as Record<string, unknown>); } });
  return { logger, logs };
}

/** An enqueuer for transport tests where queueing is not the subject: it records and succeeds. */
export function recordingEnqueuer(outcome: EnqueueOutcome = "queued"): Enqueuer & { readonly jobs: MigrationJobData[] } {
  const jobs: MigrationJobData[] = [];
  return { jobs, enqueue: (job) => { jobs.push(job); return Promise.resolve(outcome); } };
}

export function testApp(options: TestAppOptions): TestApp {
  const { logger, logs } = capturingLogger();
  const metrics = createMetrics({ processMetrics: false });
  const enqueuer = options.makeEnqueuer?.({ logger, metrics }) ?? options.enqueuer ?? recordingEnqueuer();
  const app = createApp({
    context: { view: options.view, cloud: options.cloud ?? cloudAnswering(), runnerIdentity: RUNNER },
    enqueuer,
    metrics,
    logger,
    bodyLimitBytes: options.bodyLimitBytes ?? 3 * 1024 * 1024,
  });
  return { app, metrics, logger, logs };
}
