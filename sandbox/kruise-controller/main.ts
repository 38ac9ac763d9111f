/**
 * The stand-in kruise controller as a process, for the sandbox: `node sandbox/kruise-controller/main.ts`.
 * Environment (read once): KUBECONFIG (else in-cluster), LOG_LEVEL (default info). Stops cleanly on SIGTERM/SIGINT.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { startKruiseController, type KruiseController } from "./index.ts";

const logger = pino({ name: "zoneferry-kruise-controller", level: process.env["LOG_LEVEL"] ?? "info" });
const kubeconfig = new KubeConfig();
const file = process.env["KUBECONFIG"];
if (file === undefined || file === "") kubeconfig.loadFromCluster();
else kubeconfig.loadFromFile(file);

// Signals before the first lists are in take Node's default action (exit): there is nothing to finish yet.
const controller: KruiseController = await startKruiseController(kubeconfig, { logger });
let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    controller.stop().then(() => process.exit(0), (error: unknown) => {
      logger.error({ err: error }, "stopping failed");
      process.exit(1);
    });
  });
}
