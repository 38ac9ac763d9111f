/**
 * The PV the Alibaba disk CSI driver and external-provisioner write for a dynamically provisioned
 * disk (reference: ecs-api-and-csi.md §4): named by the disk id, pinned to the disk's zone,
 * pre-bound to the claim, with the category on its label and in its volumeAttributes.
 */
import type { V1ObjectMeta, V1PersistentVolume, V1PersistentVolumeClaim, V1StorageClass } from "@kubernetes/client-node";
import { DISK_CSI_DRIVER, DISK_ZONE_KEY } from "../../core/disk-volumes.ts";
import {
  DISK_TYPE_LABEL,
  NODE_DISK_TYPE_LABEL_PREFIX,
  PARAMETERS_NOT_COPIED,
  PROVISIONED_BY_ANNOTATION,
  PROVISIONER_FINALIZER,
  PROVISIONER_IDENTITY_ATTRIBUTE,
  VOLUME_TOPOLOGY_ANNOTATION,
} from "./csi-names.ts";
import { diskTypeLabel } from "./disk-shape.ts";

/** The disk behind a PV, as created (or found) in ECS. */
export interface ProvisionedDisk {
  readonly diskId: string;
  readonly zoneId: string;
  readonly category: string;
  /** PL0..PL3 for ESSD, undefined for categories without levels. */
  readonly performanceLevel: string | undefined;
  readonly sizeGiB: number;
}

/** The filesystem the driver formats with when the class names none. */
const DEFAULT_FS_TYPE = "ext4";

/** The name external-provisioner asks the driver to create for a claim; the disk is tagged with it. */
export function requestedVolumeName(claimUid: string): string {
  return `pvc-${claimUid}`;
}

/** The class parameters minus the driver's dropped keys, with the category and level actually created. */
export function volumeAttributes(storageClass: V1StorageClass, disk: ProvisionedDisk, provisionerIdentity: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(storageClass.parameters ?? {})) {
    if (!PARAMETERS_NOT_COPIED.has(key)) attributes[key] = value;
  }
  // A list such as "cloud_essd,cloud_ssd" becomes the one category the zone gave.
  attributes["type"] = disk.category;
  if (disk.performanceLevel === undefined) delete attributes["performanceLevel"];
  else attributes["performanceLevel"] = disk.performanceLevel;
  attributes[PROVISIONER_IDENTITY_ATTRIBUTE] = provisionerIdentity;
  return attributes;
}

/** The PV for `claim` on `disk`, pre-bound to the claim by uid so only that claim can take it. */
export function buildPersistentVolume(
  claim: V1PersistentVolumeClaim,
  storageClass: V1StorageClass,
  disk: ProvisionedDisk,
  provisionerIdentity: string,
): V1PersistentVolume {
  const reclaimPolicy = storageClass.reclaimPolicy ?? "Delete";
  const volumeMode = claim.spec?.volumeMode ?? "Filesystem";
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: volumeMetadata(disk, reclaimPolicy),
    spec: {
      capacity: { storage: `${disk.sizeGiB}Gi` },
      accessModes: claim.spec?.accessModes ?? ["ReadWriteOnce"],
      volumeMode,
      storageClassName: storageClass.metadata?.name ?? "",
      persistentVolumeReclaimPolicy: reclaimPolicy,
      ...(storageClass.mountOptions === undefined ? {} : { mountOptions: storageClass.mountOptions }),
      claimRef: {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        namespace: claim.metadata?.namespace ?? "",
        name: claim.metadata?.name ?? "",
        uid: claim.metadata?.uid ?? "",
      },
      csi: {
        driver: DISK_CSI_DRIVER,
        volumeHandle: disk.diskId,
        // A raw block volume is never formatted.
        ...(volumeMode === "Filesystem" ? { fsType: fsTypeOf(storageClass) } : {}),
        volumeAttributes: volumeAttributes(storageClass, disk, provisionerIdentity),
      },
      nodeAffinity: {
        required: { nodeSelectorTerms: [{ matchExpressions: [{ key: DISK_ZONE_KEY, operator: "In", values: [disk.zoneId] }] }] },
      },
    },
  };
}

function volumeMetadata(disk: ProvisionedDisk, reclaimPolicy: string): V1ObjectMeta {
  return {
    name: disk.diskId,
    labels: { [DISK_TYPE_LABEL]: diskTypeLabel(disk.category, disk.performanceLevel), [DISK_ZONE_KEY]: disk.zoneId },
    annotations: {
      [PROVISIONED_BY_ANNOTATION]: DISK_CSI_DRIVER,
      [VOLUME_TOPOLOGY_ANNOTATION]: JSON.stringify(categoryTopology(disk.category)),
    },
    // Only a Delete PV needs the provisioner's say before it goes; a Retain one keeps its disk anyway.
    ...(reclaimPolicy === "Delete" ? { finalizers: [PROVISIONER_FINALIZER] } : {}),
  };
}

function fsTypeOf(storageClass: V1StorageClass): string {
  return storageClass.parameters?.["csi.storage.k8s.io/fstype"] ?? storageClass.parameters?.["fsType"] ?? DEFAULT_FS_TYPE;
}

/** The node selector ACK's driver records: nodes whose instance type can attach the category. */
function categoryTopology(category: string): unknown {
  return { nodeSelectorTerms: [{ matchExpressions: [{ key: `${NODE_DISK_TYPE_LABEL_PREFIX}${category}`, operator: "In", values: ["available"] }] }] };
}
