/**
 * The StorageClasses an ACK cluster comes with for cloud disks, under ACK's names, served in the
 * sandbox by the disk provisioner (sandbox/disk-provisioner/). WaitForFirstConsumer lets the
 * scheduler pick the node first, so each disk is created in the zone its pod runs in.
 */
import { StorageV1Api, type KubeConfig, type V1StorageClass } from "@kubernetes/client-node";
import { DISK_CSI_DRIVER } from "../core/disk-volumes.ts";
import { tolerating } from "../core/kube/api-status.ts";

function diskStorageClass(name: string, parameters: Record<string, string>): V1StorageClass {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name },
    provisioner: DISK_CSI_DRIVER,
    parameters,
    reclaimPolicy: "Delete",
    volumeBindingMode: "WaitForFirstConsumer",
    allowVolumeExpansion: true,
  };
}

/** ACK's default disk StorageClasses; `alicloud-disk-topology-alltype` takes the first category the zone sells. */
export const DISK_STORAGE_CLASSES: readonly V1StorageClass[] = [
  diskStorageClass("alicloud-disk-essd", { type: "cloud_essd", performanceLevel: "PL1" }),
  diskStorageClass("alicloud-disk-ssd", { type: "cloud_ssd" }),
  diskStorageClass("alicloud-disk-efficiency", { type: "cloud_efficiency" }),
  diskStorageClass("alicloud-disk-topology-alltype", { type: "cloud_essd,cloud_ssd,cloud_efficiency" }),
];

/**
 * Creates each class that does not exist; an existing one is left as it is (StorageClass
 * parameters are immutable, and a user's edit of a sandbox class is theirs to keep).
 */
export async function ensureStorageClasses(kubeconfig: KubeConfig): Promise<void> {
  const storage = kubeconfig.makeApiClient(StorageV1Api);
  await Promise.all(
    DISK_STORAGE_CLASSES.map((storageClass) => tolerating(409, () => storage.createStorageClass({ body: structuredClone(storageClass) }))),
  );
}
