/**
 * Entry point of the webhook: reads the configuration once, builds the parts, serves HTTPS, and
 * shuts down cleanly on SIGTERM and SIGINT.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { ConfigError, loadConfig } from "../core/config.ts";
import { NO_CLOUD } from "../core/disk-cloud.ts";
import { diskCloudFromConfig } from "../core/ecs/disk-cloud-from-config.ts";
import { cachedDiskLookup } from "./cached-disk-lookup.ts";
import { createApp } from "./app.ts";
import { queueEnqueuer } from "./enqueuer.ts";
import { startInformerView } from "./informer-view.ts";
import { createLogger } from "./logger.ts";
import { createMetrics } from "./metrics.ts";
import { connectMigrationQueue } from "./migration-queue-client.ts";
import { limitedPerNamespace } from "./namespace-rate-limit.ts";
import { startTlsServer } from "./tls-server.ts";

async function main(): Promise<void> {
  const config = loadConfig(process.env, "webhook");
  const logger = createLogger(config.logLevel);
  const kubeconfig = new KubeConfig();
  if (config.kubeconfig === undefined) kubeconfig.loadFromCluster();
  else kubeconfig.loadFromFile(config.kubeconfig);

  const view = startInformerView(kubeconfig, { logger, kruise: config.workloads.kruise });
  const migrations = connectMigrationQueue(config.redisUrl, logger);
  const metrics = createMetrics();
  // Without ECS_REGION_ID there is no cloud to ask: every ECS check warns "ECS unreachable".
  const diskCloud = diskCloudFromConfig(config, (error) => { metrics.ecsErrors.inc({ action: error.action, code: error.code }); });
  const cloud = diskCloud === undefined ? NO_CLOUD : cachedDiskLookup(diskCloud, { ttlMs: config.ecs.cacheTtlMs, deadlineMs: config.webhook.ecsTimeoutMs });
  const queued = queueEnqueuer({ queue: migrations.queue, timeoutMs: config.webhook.enqueueTimeoutMs, metrics, logger });
  const clientCaFile = config.webhook.clientCaFile;
  const app = createApp({
    context: { view, cloud, runnerIdentity: config.runner.identity, maxReplicas: config.maxReplicas, crossAccount: config.crossAccount },
    enqueuer: limitedPerNamespace(queued, { perMinute: config.webhook.namespaceEnqueuesPerMinute, metrics, logger }),
    metrics,
    logger,
    bodyLimitBytes: config.webhook.bodyLimitBytes,
    clientCertificateRequired: clientCaFile !== undefined,
  });
  const server = await startTlsServer(app, {
    port: config.webhook.port,
    certFile: config.webhook.tlsCertFile,
    keyFile: config.webhook.tlsKeyFile,
    ...(clientCaFile === undefined ? {} : { clientCaFile }),
    logger,
  });
  logger.info({ port: server.port, callerCheck: clientCaFile !== undefined }, "zoneferry webhook serving");

  const shutdown = (signal: string): void => {
    logger.info({ signal }, "shutting down");
    void Promise.allSettled([server.close(), view.stop(), migrations.close()]).then(() => {
      process.exit(0);
    });
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

main().catch((error: unknown) => {
  // Before the logger exists (bad configuration), stderr is all there is.
  process.stderr.write(`${error instanceof ConfigError ? error.message : String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
