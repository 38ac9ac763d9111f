/**
 * The cluster of the scale benchmark (bench/scale-bench.ts), shaped as a large ACK cluster's:
 * nodes as the kubelet reports them (labels, addresses, capacity, 30 images, nodeInfo), and
 * StatefulSets' claims bound to disk PVs as ACK's disk CSI driver and the PV controller leave them
 * (test/support/cluster-fixtures.ts's spec, with the driver's attributes, annotations and
 * finalizers). Names are a function of the index, so the view's child process can look them up.
 */
import type { V1Node, V1PersistentVolume, V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { DISK_ZONE_KEY, ZONE_KEY } from "../core/disk-volumes.ts";
import { ZONES, diskClaim } from "../test/support/cluster-fixtures.ts";

/** Claims per StatefulSet (its replicas, one volume each) and StatefulSets per namespace. */
export const REPLICAS = 5;
export const SETS_PER_NAMESPACE = 100;

export function zoneOf(index: number): string {
  return ZONES[index % ZONES.length]!;
}

export function nodeName(index: number): string {
  return `cn-shanghai.10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
}

/** An ECS disk id: "d-" and 18 characters, unique per claim. */
export function diskId(claim: number): string {
  return `d-uf6${claim.toString(36).padStart(15, "0")}`;
}

/** Where claim `index` lives: its namespace, StatefulSet and ordinal. */
export function claimPlace(index: number): { namespace: string; statefulSet: string; ordinal: number; claim: string } {
  const set = Math.floor(index / REPLICAS);
  const ordinal = index % REPLICAS;
  const namespace = `team-${Math.floor(set / SETS_PER_NAMESPACE)}`;
  const statefulSet = `app-${set}`;
  return { namespace, statefulSet, ordinal, claim: `data-${statefulSet}-${ordinal}` };
}

const sha = (seed: number): string => (BigInt(seed + 1) * 0x9e3779b97f4a7c15n).toString(16).padStart(16, "0").repeat(4).slice(0, 64);

export function scaleNode(index: number): V1Node {
  const zone = zoneOf(index);
  const name = nodeName(index);
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      labels: {
        "alibabacloud.com/nodepool-id": `np${(index % 20).toString(16).padStart(30, "a")}`,
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/instance-type": "ecs.g7.2xlarge",
        "beta.kubernetes.io/os": "linux",
        "failure-domain.beta.kubernetes.io/region": "cn-shanghai",
        "failure-domain.beta.kubernetes.io/zone": zone,
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "node.csi.alibabacloud.com/disktype.cloud_essd": "available",
        "node.csi.alibabacloud.com/disktype.cloud_auto": "available",
        "node.kubernetes.io/instance-type": "ecs.g7.2xlarge",
        "topology.kubernetes.io/region": "cn-shanghai",
        [ZONE_KEY]: zone,
        [DISK_ZONE_KEY]: zone,
      },
      annotations: {
        "csi.volume.kubernetes.io/nodeid": JSON.stringify({ "diskplugin.csi.alibabacloud.com": `i-uf6${index.toString(36).padStart(17, "0")}`, "nasplugin.csi.alibabacloud.com": name }),
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
      },
    },
    spec: { podCIDR: `172.20.${index & 255}.0/26`, podCIDRs: [`172.20.${index & 255}.0/26`], providerID: `cn-shanghai.i-uf6${index.toString(36).padStart(17, "0")}` },
    status: nodeStatus(index, name),
  };
}

function nodeStatus(index: number, name: string): NonNullable<V1Node["status"]> {
  const at = new Date(Date.UTC(2026, 10, 1)).toISOString() as unknown as Date;
  const condition = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastHeartbeatTime: at, lastTransitionTime: at });
  return {
    addresses: [{ type: "InternalIP", address: `10.0.${(index >> 8) & 255}.${index & 255}` }, { type: "Hostname", address: name }],
    allocatable: { cpu: "7600m", "ephemeral-storage": "114022843818", "hugepages-1Gi": "0", "hugepages-2Mi": "0", memory: "28226672Ki", pods: "64" },
    capacity: { cpu: "8", "ephemeral-storage": "123722704Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0", memory: "32210256Ki", pods: "64" },
    conditions: [
      condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
      condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
      condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
      condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    images: Array.from({ length: 30 }, (_, image) => ({
      names: [`registry-cn-shanghai-vpc.ack.aliyuncs.com/acs/image-${image}@sha256:${sha(image)}`, `registry-cn-shanghai-vpc.ack.aliyuncs.com/acs/image-${image}:v1.${image}.0-aliyun`],
      sizeBytes: 20_000_000 + image * 1_000_000,
    })),
    nodeInfo: {
      architecture: "amd64",
      bootID: `${sha(index).slice(0, 8)}-${sha(index).slice(8, 12)}-4${sha(index).slice(13, 16)}-8${sha(index).slice(17, 20)}-${sha(index).slice(20, 32)}`,
      containerRuntimeVersion: "containerd://1.6.36",
      kernelVersion: "5.10.134-18.al8.x86_64",
      kubeProxyVersion: "v1.36.3-aliyun.1",
      kubeletVersion: "v1.36.3-aliyun.1",
      machineID: sha(index + 7).slice(0, 32),
      operatingSystem: "linux",
      osImage: "Alibaba Cloud Linux 3.2104 U11 (OpenAnolis Edition)",
      systemUUID: sha(index + 9).slice(0, 32),
    },
  };
}

/** Claim `index` and its disk PV, bound to each other, the disk in the zone of the claim's node. */
export function scaleVolume(index: number): [V1PersistentVolumeClaim, V1PersistentVolume] {
  const { namespace, statefulSet, claim: name } = claimPlace(index);
  const disk = diskId(index);
  const zone = zoneOf(index);
  const [claim, pv] = diskClaim(name, zone, disk);
  const selectedNode = nodeName(index);
  claim.metadata = {
    name,
    namespace,
    labels: { app: statefulSet, "app.kubernetes.io/instance": statefulSet, "app.kubernetes.io/name": "app" },
    annotations: {
      "pv.kubernetes.io/bind-completed": "yes",
      "pv.kubernetes.io/bound-by-controller": "yes",
      "volume.beta.kubernetes.io/storage-provisioner": "diskplugin.csi.alibabacloud.com",
      "volume.kubernetes.io/selected-node": selectedNode,
      "volume.kubernetes.io/storage-provisioner": "diskplugin.csi.alibabacloud.com",
    },
    finalizers: ["kubernetes.io/pvc-protection"],
  };
  claim.spec = { ...claim.spec!, volumeMode: "Filesystem" };
  pv.metadata = {
    ...pv.metadata!,
    annotations: { "pv.kubernetes.io/provisioned-by": "diskplugin.csi.alibabacloud.com", "volume.kubernetes.io/provisioner-deletion-secret-name": "", "volume.kubernetes.io/provisioner-deletion-secret-namespace": "" },
    finalizers: ["kubernetes.io/pv-protection", "external-provisioner.volume.kubernetes.io/finalizer"],
  };
  const spec = pv.spec!;
  pv.spec = {
    ...spec,
    claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", name, namespace, resourceVersion: "123456", uid: `${sha(index).slice(0, 8)}-${sha(index).slice(8, 12)}-4${sha(index).slice(13, 16)}-8${sha(index).slice(17, 20)}-${sha(index).slice(20, 32)}` },
    csi: {
      ...spec.csi!,
      fsType: "ext4",
      volumeAttributes: {
        ...spec.csi!.volumeAttributes,
        "csi.storage.k8s.io/pv/name": disk,
        "csi.storage.k8s.io/pvc/name": name,
        "csi.storage.k8s.io/pvc/namespace": namespace,
        "storage.kubernetes.io/csiProvisionerIdentity": "1761955200000-8081-diskplugin.csi.alibabacloud.com",
      },
    },
    volumeMode: "Filesystem",
  };
  // Status is the PV controller's (a status write): PVs are served Pending and claims Pending here.
  delete pv.status;
  delete claim.status;
  return [claim, pv];
}
