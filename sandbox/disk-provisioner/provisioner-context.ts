/** What every reconciler of the provisioner works with, built once at start. */
import type { CoreV1Api, CustomObjectsApi, V1PersistentVolume } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { TransientCloudError } from "../../core/cloud-errors.ts";
import type { DiskCloud } from "../../core/disk-cloud.ts";
import { DISK_CSI_DRIVER } from "../../core/disk-volumes.ts";
import type { ClaimEvents } from "./claim-events.ts";
import type { ClusterCache } from "./cluster-cache.ts";
import type { AttachControl } from "./emulator-attach.ts";
import type { RetryBackoff } from "./retry-backoff.ts";

/** The cluster, the cloud and the bookkeeping a reconciler acts through; one per provisioner. */
export interface ProvisionerContext {
  readonly cache: ClusterCache;
  readonly cloud: DiskCloud;
  readonly core: CoreV1Api;
  /** Volume snapshots and their contents (snapshot.storage.k8s.io), when their CRDs are installed. */
  readonly custom: CustomObjectsApi;
  readonly attachments: AttachControl;
  readonly events: ClaimEvents;
  readonly backoff: RetryBackoff;
  readonly logger: Logger;
  /** external-provisioner's identity (`<start ms>-<random>-<driver>`), written into every PV. */
  readonly identity: string;
}

/** True for a PV of the Alibaba disk CSI driver. */
export function isDiskVolume(pv: V1PersistentVolume): boolean {
  return pv.spec?.csi?.driver === DISK_CSI_DRIVER && pv.spec.csi.volumeHandle !== "";
}

/** The least wait the failure asks for: ECS's retry-after on throttling, else nothing. */
export function retryAfterMs(error: unknown): number {
  return error instanceof TransientCloudError ? (error.retryAfterMs ?? 0) : 0;
}

/** The message of whatever was thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
