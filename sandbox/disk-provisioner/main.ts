/**
 * The disk provisioner as a process, for the sandbox: `node sandbox/disk-provisioner/main.ts`.
 * Environment (read once): KUBECONFIG (else in-cluster), ECS_REGION_ID, ECS_ENDPOINT, ECS_PROTOCOL (http with
 * ECS_INSECURE_EMULATOR=true), ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET, ECS_EMULATOR_URL, ECS_ACCOUNT_ID (the key's account,
 * when the emulator serves several), LOG_LEVEL. Stops cleanly on SIGTERM/SIGINT.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { ConfigError } from "../../core/config.ts";
import { diskCloudFromConfig } from "../../core/ecs/disk-cloud-from-config.ts";
import { startDiskProvisioner, type DiskProvisioner } from "./index.ts";
import { loadProvisionerConfig, type ProvisionerConfig } from "./provisioner-config.ts";

function readConfig(): ProvisionerConfig {
  try {
    return loadProvisionerConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`zoneferry disk provisioner: ${error.message}\n`);
    process.exit(2);
  }
}

const config = readConfig();
const logger = pino({ name: "zoneferry-disk-provisioner", level: config.base.logLevel });
const kubeconfig = new KubeConfig();
if (config.base.kubeconfig === undefined) kubeconfig.loadFromCluster();
else kubeconfig.loadFromFile(config.base.kubeconfig);
// The runner profile makes ECS_REGION_ID required, so a cloud is always built here.
const cloud = diskCloudFromConfig(config.base);
if (cloud === undefined) throw new Error("no ECS region configured");

const running: { provisioner?: DiskProvisioner } = {};
let stopping = false;
const shutdown = (signal: NodeJS.Signals): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "stopping");
  // Before the first lists are in there is nothing to finish.
  if (running.provisioner === undefined) process.exit(0);
  running.provisioner.stop().then(
    () => { process.exit(0); },
    (error: unknown) => {
      logger.error({ err: error }, "stopping failed");
      process.exit(1);
    },
  );
};
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);

running.provisioner = await startDiskProvisioner({ kubeconfig, cloud, emulatorUrl: config.emulatorUrl, logger, ...(config.emulatorAccountId === undefined ? {} : { emulatorAccountId: config.emulatorAccountId }) });
