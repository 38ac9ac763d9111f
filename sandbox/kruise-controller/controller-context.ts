/** What every step of the controller works with, built once at start. */
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { RetryBackoff } from "../disk-provisioner/retry-backoff.ts";
import { RevisionStore } from "./revisions.ts";
import type { SetCache } from "./set-cache.ts";

export interface ControllerContext {
  readonly cache: SetCache;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly revisions: RevisionStore;
  /** Keys `set/<ns>/<name>` (a failed pass over a set) and `pod/<ns>/<name>` (a refused create). */
  readonly backoff: RetryBackoff;
  readonly logger: Logger;
}

export function controllerContext(kubeconfig: KubeConfig, cache: SetCache, logger: Logger): ControllerContext {
  return {
    cache,
    core: kubeconfig.makeApiClient(CoreV1Api),
    custom: kubeconfig.makeApiClient(CustomObjectsApi),
    revisions: new RevisionStore(kubeconfig),
    backoff: new RetryBackoff(),
    logger,
  };
}

