/**
 * Names the Alibaba disk CSI driver, the external-provisioner sidecar and the PV controller write
 * on claims, volumes and disks. The provisioner writes exactly these so that whatever reads an ACK
 * cluster (zoneferry's runner, `kubectl describe`) reads the sandbox the same way.
 */

/** Set by the scheduler on a WaitForFirstConsumer claim: the node it picked for the first pod. */
export const SELECTED_NODE_ANNOTATION = "volume.kubernetes.io/selected-node";

/** Set by the PV controller on a claim it hands to an external provisioner, naming the driver. */
export const STORAGE_PROVISIONER_ANNOTATION = "volume.kubernetes.io/storage-provisioner";
/** The same, as PV controllers before 1.23 wrote it (still written alongside on some versions). */
export const BETA_STORAGE_PROVISIONER_ANNOTATION = "volume.beta.kubernetes.io/storage-provisioner";

/** external-provisioner's mark on every PV it created; the PV controller leaves such PVs to it. */
export const PROVISIONED_BY_ANNOTATION = "pv.kubernetes.io/provisioned-by";

/**
 * external-provisioner's finalizer on dynamically provisioned PVs with reclaim policy Delete
 * (HonorPVReclaimPolicy, GA in 1.33): the PV object outlives a direct delete until the disk is gone.
 */
export const PROVISIONER_FINALIZER = "external-provisioner.volume.kubernetes.io/finalizer";

/** volumeAttributes key external-provisioner adds to every PV it provisions. */
export const PROVISIONER_IDENTITY_ATTRIBUTE = "storage.kubernetes.io/csiProvisionerIdentity";

/** PV label with the disk's category, `<category>.<PL>` for ESSD (e.g. `cloud_essd.PL1`). */
export const DISK_TYPE_LABEL = "csi.alibabacloud.com/disktype";

/** PV annotation: a node selector on the node label that says a node can attach the category. */
export const VOLUME_TOPOLOGY_ANNOTATION = "csi.alibabacloud.com/volume-topology";

/** Prefix of the node labels that say a node can attach a category (`…disktype.cloud_essd=available`). */
export const NODE_DISK_TYPE_LABEL_PREFIX = "node.csi.alibabacloud.com/disktype.";

/** Disk tag naming the PV the driver was asked to create (`pvc-<claim uid>`). */
export const VOLUME_NAME_TAG = "csi.alibabacloud.com/volume-name";

/** Tags the driver puts on every disk it creates, besides the volume name. */
export const DRIVER_DISK_TAGS: Readonly<Record<string, string>> = {
  "k8s.aliyun.com": "true",
  createdby: "alibabacloud-csi-plugin",
};

/**
 * StorageClass parameters the driver drops before it copies the rest into volumeAttributes
 * (`controllerserver.go CreateVolume`).
 */
export const PARAMETERS_NOT_COPIED: ReadonlySet<string> = new Set([
  "kubectl.kubernetes.io/last-applied-configuration",
  "csi.storage.k8s.io/pv/name",
  "csi.storage.k8s.io/pvc/name",
  "csi.storage.k8s.io/pvc/namespace",
  "volume.beta.kubernetes.io/storage-provisioner",
  "csi.alibabacloud.com/reclaimPolicy",
  "csi.alibabacloud.com/storageclassName",
  "allowVolumeExpansion",
  "volume.kubernetes.io/selected-node",
]);
