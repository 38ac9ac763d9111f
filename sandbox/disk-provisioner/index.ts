/**
 * The sandbox's disk provisioner: what ACK's disk CSI driver (controller side, with
 * external-provisioner and the attach bookkeeping) does for a cluster, done against a DiskCloud and
 * the ECS emulator. It provisions disks for claims the scheduler has placed, deletes the disks of
 * released Delete volumes, keeps disks attached to the nodes whose pods use them, and restores
 * claims from volume snapshots (snapshot-sources.ts).
 *
 * Level-triggered: informer events and a periodic resync start passes that read the cluster and
 * the cloud and act only on the difference, so running it twice, or again after a crash, is safe.
 */
import { randomBytes } from "node:crypto";
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { DiskCloud } from "../../core/disk-cloud.ts";
import { DISK_CSI_DRIVER } from "../../core/disk-volumes.ts";
import { claimEvents } from "./claim-events.ts";
import { startClusterCache } from "./cluster-cache.ts";
import { emulatorAttachControl } from "./emulator-attach.ts";
import { provisionClaims } from "./provision-claims.ts";
import type { ProvisionerContext } from "./provisioner-context.ts";
import { reclaimVolumes } from "./reclaim-volumes.ts";
import { ReconcileLoop } from "./reconcile-loop.ts";
import { RetryBackoff } from "./retry-backoff.ts";
import { syncSnapshotContents } from "./snapshot-sources.ts";
import { syncAttachments } from "./sync-attachments.ts";

/** What the provisioner needs from its process (main.ts) or test. */
export interface DiskProvisionerOptions {
  readonly kubeconfig: KubeConfig;
  readonly cloud: DiskCloud;
  /** Base URL of the ECS emulator (its control API is under `/_emulator/`), for attach and detach. */
  readonly emulatorUrl: string;
  /** The account of `cloud`'s key when the emulator serves several: attach and detach happen in its world. */
  readonly emulatorAccountId?: string;
  readonly logger: Logger;
  /**
   * Period of the full pass that runs even without events; it also retries what events cannot
   * announce (a disk leaving Creating). @defaultValue 5_000
   */
  readonly resyncMs?: number;
}

/** A running provisioner. */
export interface DiskProvisioner {
  /** Finishes the pass under way and stops watching. */
  stop(): Promise<void>;
}

/** How often `startDiskProvisioner` checks that the first lists are in. */
const SYNC_POLL_MS = 50;

/** Starts the provisioner; resolves once its caches have listed the cluster and the first pass is under way. */
export async function startDiskProvisioner(options: DiskProvisionerOptions): Promise<DiskProvisioner> {
  const logger = options.logger.child({ component: "disk-provisioner" });
  const trigger = { fire: (): void => undefined };
  const cache = startClusterCache(options.kubeconfig, { logger, onChange: () => { trigger.fire(); } });
  const core = options.kubeconfig.makeApiClient(CoreV1Api);
  const context: ProvisionerContext = {
    cache,
    cloud: options.cloud,
    core,
    custom: options.kubeconfig.makeApiClient(CustomObjectsApi),
    attachments: emulatorAttachControl(options.emulatorUrl, options.emulatorAccountId),
    events: claimEvents(core, `${DISK_CSI_DRIVER}_zoneferry-sandbox`, logger),
    backoff: new RetryBackoff(),
    logger,
    // external-provisioner's format: start time in ms, a random part, the driver name.
    identity: `${Date.now()}-${randomBytes(2).readUInt16BE()}-${DISK_CSI_DRIVER}`,
  };
  const loop = new ReconcileLoop({
    logger,
    resyncMs: options.resyncMs ?? 5_000,
    pass: async (startedAt) => {
      await Promise.all([provisionClaims(context), reclaimVolumes(context), syncAttachments(context), syncSnapshotContents(context)]);
      return context.backoff.nextDueInMs(startedAt);
    },
  });
  while (!cache.synced()) await new Promise((resolve) => setTimeout(resolve, SYNC_POLL_MS));
  // From here on every change starts a pass; the events of the first lists are covered by the first one.
  trigger.fire = () => { loop.trigger(); };
  loop.start();
  logger.info({ identity: context.identity }, "disk provisioner started");
  return {
    stop: async () => {
      await loop.stop();
      await cache.stop();
    },
  };
}
