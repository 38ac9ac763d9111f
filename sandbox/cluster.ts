/**
 * A whole local cluster: the control plane, its controllers and scheduler, kwok, and Ready kwok
 * nodes spread over zones, labelled as ACK labels them (the well-known zone label and the disk
 * CSI driver's own).
 */
import { CoreV1Api, KubeConfig, type V1Node } from "@kubernetes/client-node";
import { DISK_ZONE_KEY, ZONE_KEY } from "../core/disk-volumes.ts";
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from "./control-plane.ts";
import { startControllerManager, startKwok, startScheduler } from "./components.ts";
import { waitFor, type Managed } from "./processes.ts";

export const DEFAULT_ZONES = ["cn-shanghai-b", "cn-shanghai-g", "cn-shanghai-m"] as const;

export interface ClusterOptions extends ControlPlaneOptions {
  readonly zones?: readonly string[];
  readonly nodesPerZone?: number;
}

export interface Cluster {
  readonly plane: ControlPlane;
  readonly kubeconfig: KubeConfig;
  readonly nodeNames: readonly string[];
  /** Every process of the cluster, in start order. */
  processes(): readonly Managed[];
  stop(): Promise<void>;
}

export function kwokNode(name: string, zone: string): V1Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: {
        type: "kwok",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        [ZONE_KEY]: zone,
        [DISK_ZONE_KEY]: zone,
      },
    },
    spec: {},
    status: { allocatable: { cpu: "32", memory: "256Gi", pods: "110" }, capacity: { cpu: "32", memory: "256Gi", pods: "110" } },
  };
}

export async function startCluster(binDir: string, options: ClusterOptions = {}): Promise<Cluster> {
  const zones = options.zones ?? DEFAULT_ZONES;
  const perZone = options.nodesPerZone ?? 1;
  const plane = await startControlPlane(binDir, options);
  const detached = options.detached === true;
  const started: Managed[] = [];
  try {
    started.push(...(await Promise.all([startControllerManager(plane, detached), startScheduler(plane, detached)])));
    started.push(startKwok(plane, detached));
    const kubeconfig = new KubeConfig();
    kubeconfig.loadFromFile(plane.kubeconfig);
    const core = kubeconfig.makeApiClient(CoreV1Api);
    const nodeNames = zones.flatMap((zone) => Array.from({ length: perZone }, (_, index) => `node-${zone}-${index}`));
    await Promise.all(nodeNames.map((name) => core.createNode({ body: kwokNode(name, zoneOfNodeName(name)) })));
    await waitFor(async () => {
      const listed = await core.listNode();
      return listed.items.filter((node) => isSchedulable(node)).length === nodeNames.length;
    }, 60_000, () => `kwok nodes not Ready and untainted within 60s:\n${started.map((component) => `${component.name}: ${component.tail(5)}`).join("\n")}`);
    return {
      plane,
      kubeconfig,
      nodeNames,
      processes: () => [...plane.processes(), ...started],
      stop: async () => {
        for (const component of started.reverse()) await component.stop();
        await plane.stop();
      },
    };
  } catch (error) {
    for (const component of started.reverse()) await component.stop();
    await plane.stop();
    throw error;
  }
}

function zoneOfNodeName(name: string): string {
  return name.replace(/^node-/, "").replace(/-\d+$/, "");
}

/** Ready, and the node lifecycle controller has lifted the not-ready taint admission put on it. */
function isSchedulable(node: V1Node): boolean {
  const ready = node.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") === true;
  const tainted = (node.spec?.taints ?? []).some((taint) => taint.effect === "NoSchedule" || taint.effect === "NoExecute");
  return ready && !tainted;
}
