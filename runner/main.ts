/** Entry point of the runner: configuration once, the worker, a clean stop on SIGTERM/SIGINT. */
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { ConfigError, loadConfig } from "../core/config.ts";
import { diskCloudFromConfig } from "../core/ecs/disk-cloud-from-config.ts";
import { Queue } from "bullmq";
import { MIGRATION_QUEUE, type MigrationJobData } from "../core/migration-queue.ts";
import { bullConnection, redisTarget } from "../core/redis-target.ts";
import type { SagaData } from "./saga/run-saga.ts";
import { MigrationJournal } from "./journal/journal.ts";
import { createRunnerMetrics, serveMetrics } from "./metrics.ts";
import { startReconciler } from "./reconciler.ts";
import { startMigrationWorker } from "./worker.ts";

function main(): void {
  const config = loadConfig(process.env, "runner");
  const logger = pino({ name: "zoneferry-runner", level: config.logLevel, base: { component: "runner" } });
  const kubeconfig = new KubeConfig();
  if (config.kubeconfig === undefined) kubeconfig.loadFromCluster();
  else kubeconfig.loadFromFile(config.kubeconfig);
  const cloud = diskCloudFromConfig(config);
  if (cloud === undefined) throw new ConfigError(["ECS_REGION_ID is not set; set it to the region of the cluster's disks"]);
  const metrics = createRunnerMetrics();
  const metricsServer = serveMetrics(metrics, config.runner.metricsPort, (error) => { logger.error({ err: error, port: config.runner.metricsPort }, "metrics server failed"); });
  const worker = startMigrationWorker({ redisUrl: config.redisUrl, kubeconfig, cloud, concurrency: config.runner.concurrency, logger, metrics, settings: { cloudWaitTimeoutMs: config.runner.cloudWaitTimeoutMs } });
  const queue = new Queue<MigrationJobData & SagaData>(MIGRATION_QUEUE, { connection: bullConnection(redisTarget(config.redisUrl) ?? { kind: "url", url: config.redisUrl }) });
  const reconciler = startReconciler({ kubeconfig, queue, journal: new MigrationJournal(kubeconfig), logger, intervalMs: config.runner.reconcileIntervalMs });
  logger.info({ concurrency: config.runner.concurrency }, "zoneferry runner started");
  const shutdown = (signal: string): void => {
    logger.info({ signal }, "shutting down: the current step ends, waits stay delayed in Redis");
    reconciler.stop();
    metricsServer.close();
    void Promise.allSettled([worker.close(), queue.close()]).then(() => process.exit(0));
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

try {
  main();
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String((error as Error).stack ?? error)}\n`);
  process.exit(1);
}
