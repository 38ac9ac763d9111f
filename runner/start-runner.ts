/**
 * The runner's parts, started from parsed configuration: the worker, the reconciler, the metrics
 * server. runner/main.ts starts them for production; the sandbox's failpoint runner starts the
 * same parts with a write seam, so what the crash tests kill is the runner that ships.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { Queue } from "bullmq";
import { pino } from "pino";
import { ConfigError, loadConfig, type Config } from "../core/config.ts";
import { diskCloudFromConfig } from "../core/ecs/disk-cloud-from-config.ts";
import { ResourceSharingClient } from "../core/ecs/resource-sharing-client.ts";
import { MIGRATION_QUEUE, type MigrationJobData } from "../core/migration-queue.ts";
import { bullConnection, redisTarget } from "../core/redis-target.ts";
import { WORKLOAD_KINDS } from "../core/workload/kinds.ts";
import { MigrationJournal } from "./journal/journal.ts";
import { journalSealFromFile } from "./journal/seal.ts";
import { createRunnerMetrics, serveMetrics, startMetricsSampler } from "./metrics.ts";
import { startReconciler } from "./reconciler.ts";
import type { SagaData } from "./saga/run-saga.ts";
import { startMigrationWorker } from "./worker.ts";
import type { WriteSeam } from "./write-seam.ts";
import { enabledKinds, workloadClient } from "./workload/workload-client.ts";

export interface RunningRunner {
  /** Lets the current step end (waits stay delayed in Redis) and closes every connection. */
  stop(): Promise<void>;
}

export function startRunner(env: NodeJS.ProcessEnv, extras: { readonly seam?: WriteSeam } = {}): RunningRunner {
  const config = loadConfig(env, "runner");
  const logger = pino({ name: "zoneferry-runner", level: config.logLevel, base: { component: "runner" } });
  const kubeconfig = new KubeConfig();
  if (config.kubeconfig === undefined) kubeconfig.loadFromCluster();
  else kubeconfig.loadFromFile(config.kubeconfig);
  const metrics = createRunnerMetrics();
  const cloud = diskCloudFromConfig(config, (error) => { metrics.ecsErrors.inc({ action: error.action, code: error.code }); });
  if (cloud === undefined) throw new ConfigError(["ECS_REGION_ID is not set; set it to the region of the cluster's disks"]);
  const sharing = sharingFromConfig(config);
  const seal = journalSealFromFile(config.runner.journalKeyFile);
  const metricsServer = serveMetrics(metrics, config.runner.metricsPort, (error) => { logger.error({ err: error, port: config.runner.metricsPort }, "metrics server failed"); });
  const worker = startMigrationWorker({
    redisUrl: config.redisUrl,
    kubeconfig,
    cloud,
    sharing,
    concurrency: config.runner.concurrency,
    logger,
    metrics,
    settings: { cloudWaitTimeoutMs: config.runner.cloudWaitTimeoutMs, maxReplicas: config.maxReplicas, kruise: config.workloads.kruise, ...(config.ecs.serviceKeyId === undefined ? {} : { serviceKeyId: config.ecs.serviceKeyId }) },
    leaseDurationMs: config.runner.leaseDurationMs,
    seal,
    ...(extras.seam === undefined ? {} : { seam: extras.seam }),
  });
  const queue = new Queue<MigrationJobData & SagaData>(MIGRATION_QUEUE, { connection: bullConnection(redisTarget(config.redisUrl) ?? { kind: "url", url: config.redisUrl }) });
  const journal = new MigrationJournal(kubeconfig, { seal });
  const kinds = enabledKinds(WORKLOAD_KINDS, config.workloads.kruise);
  const reconciler = startReconciler({ kubeconfig, queue, journal, logger, metrics, kinds, intervalMs: config.runner.reconcileIntervalMs });
  const workloads = kinds.map((kind) => workloadClient(kubeconfig, kind));
  const sampler = startMetricsSampler(metrics, {
    statefulSets: async () => (await Promise.all(workloads.map((client) => client.listAll()))).flat(),
    activeJournals: async () => (await journal.listActive()).filter((record) => journal.isSealed(record)),
    queueCounts: (...states) => queue.getJobCounts(...(states as Parameters<typeof queue.getJobCounts>)),
  }, logger, config.runner.reconcileIntervalMs);
  logger.info({ concurrency: config.runner.concurrency }, "zoneferry runner started");
  return {
    async stop() {
      logger.info("shutting down: the current step ends, waits stay delayed in Redis");
      reconciler.stop();
      sampler.stop();
      metricsServer.close();
      await Promise.allSettled([worker.close(), queue.close()]);
    },
  };
}

/**
 * Resource Sharing for exports and restores: the ECS client's credentials, protocol and timeouts,
 * at its own endpoint (RESOURCE_SHARING_ENDPOINT or the region's). Only the runner shares.
 */
function sharingFromConfig(config: Config): ResourceSharingClient {
  const { regionId, resourceSharingEndpoint } = config.ecs;
  // The runner's configuration requires the region, and the endpoint follows from it.
  if (regionId === undefined || resourceSharingEndpoint === undefined) throw new ConfigError(["ECS_REGION_ID is not set; set it to the region of the cluster's disks"]);
  return new ResourceSharingClient({
    regionId,
    endpoint: resourceSharingEndpoint,
    protocol: config.ecs.protocol,
    connectTimeoutMs: config.ecs.connectTimeoutMs,
    readTimeoutMs: config.ecs.readTimeoutMs,
    accessKey: config.ecs.accessKey,
  });
}
