/**
 * The sandbox's stand-in for OpenKruise's Advanced StatefulSet controller (kruise-manager cannot
 * be built here: the Go module proxy refuses it). As kwok stands in for kubelets, this follows
 * kruise's rules for what zoneferry relies on: pod and claim names, reserveOrdinals and
 * ordinals.start, OrderedReady and Parallel, rolling updates with partition and paused, the
 * retention policy, status and the scale subresource. What it leaves out is listed in README.md.
 *
 * Level-triggered: watch events and a periodic resync start passes that compare the sets with
 * their pods and act only on the difference, so a restart or a second pass is harmless.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ReconcileLoop } from "../disk-provisioner/reconcile-loop.ts";
import { controllerContext } from "./controller-context.ts";
import { reconcileAll } from "./reconcile-pass.ts";
import { startSetCache } from "./set-cache.ts";

export { installAdvancedStatefulSetCrd } from "./crd.ts";

export interface KruiseControllerOptions {
  readonly logger: Logger;
  /** Period of the full pass that runs even without events. @defaultValue 2_000 */
  readonly resyncMs?: number;
}

/** A running controller. */
export interface KruiseController {
  /** Finishes the pass under way and stops watching. */
  stop(): Promise<void>;
}

/** How often `startKruiseController` checks that the first lists are in. */
const SYNC_POLL_MS = 50;

/**
 * Starts the controller; resolves once its caches have listed the cluster and the first pass is
 * under way. The CRD must be installed first (installAdvancedStatefulSetCrd): until it is, the
 * sets' list fails and is retried with backoff.
 */
export async function startKruiseController(kubeconfig: KubeConfig, options: KruiseControllerOptions): Promise<KruiseController> {
  const logger = options.logger.child({ component: "kruise-controller" });
  const trigger = { fire: (): void => undefined };
  const cache = startSetCache(kubeconfig, { logger, onChange: () => { trigger.fire(); } });
  const context = controllerContext(kubeconfig, cache, logger);
  const loop = new ReconcileLoop({ logger, resyncMs: options.resyncMs ?? 2_000, pass: (startedAt) => reconcileAll(context, startedAt) });
  while (!cache.synced()) await new Promise((resolve) => setTimeout(resolve, SYNC_POLL_MS));
  // From here on every change starts a pass; the events of the first lists are covered by the first one.
  trigger.fire = () => { loop.trigger(); };
  loop.start();
  logger.info("kruise controller started");
  return {
    stop: async () => {
      await loop.stop();
      await cache.stop();
    },
  };
}
