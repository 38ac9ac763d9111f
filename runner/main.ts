/** Entry point of the runner: configuration once, the worker, a clean stop on SIGTERM/SIGINT. */
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { ConfigError, loadConfig } from "../core/config.ts";
import { diskCloudFromConfig } from "../core/ecs/disk-cloud-from-config.ts";
import { startMigrationWorker } from "./worker.ts";

function main(): void {
  const config = loadConfig(process.env, "runner");
  const logger = pino({ name: "zoneferry-runner", level: config.logLevel, base: { component: "runner" } });
  const kubeconfig = new KubeConfig();
  if (config.kubeconfig === undefined) kubeconfig.loadFromCluster();
  else kubeconfig.loadFromFile(config.kubeconfig);
  const cloud = diskCloudFromConfig(config);
  if (cloud === undefined) throw new ConfigError(["ECS_REGION_ID is not set; set it to the region of the cluster's disks"]);
  const worker = startMigrationWorker({ redisUrl: config.redisUrl, kubeconfig, cloud, concurrency: config.runner.concurrency, logger });
  logger.info({ concurrency: config.runner.concurrency }, "zoneferry runner started");
  const shutdown = (signal: string): void => {
    logger.info({ signal }, "shutting down: the current step ends, waits stay delayed in Redis");
    void worker.close().then(() => process.exit(0));
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
