/**
 * The provisioner's picture of the cluster: list+watch caches of PVCs, PVs, Pods, Nodes and
 * StorageClasses (core/kube/resilient-informer.ts). Every change calls `onChange` (the reconcile
 * loop's trigger). After a failed watch the last good cache keeps answering until a fresh list
 * replaces it, which is safe because every action re-reads the state it changes.
 */
import {
  CoreV1Api,
  StorageV1Api,
  type KubeConfig,
  type KubernetesObject,
  type V1Node,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
  type V1Pod,
  type V1StorageClass,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ResilientInformer, type InformerSource } from "../../core/kube/resilient-informer.ts";

/** Read access to the watched objects; answers from memory, possibly a moment behind the API server. */
export interface ClusterCache {
  /** True once every resource has been listed. */
  synced(): boolean;
  claims(): readonly V1PersistentVolumeClaim[];
  claim(namespace: string, name: string): V1PersistentVolumeClaim | undefined;
  volumes(): readonly V1PersistentVolume[];
  volume(name: string): V1PersistentVolume | undefined;
  pods(): readonly V1Pod[];
  node(name: string): V1Node | undefined;
  storageClass(name: string): V1StorageClass | undefined;
  stop(): Promise<void>;
}

/** How the cache reports changes and paces its recovery. */
export interface ClusterCacheOptions {
  readonly logger: Logger;
  readonly onChange: () => void;
  /** First delay before resuming a failed watch; doubles up to 30 s. @defaultValue 500 */
  readonly backoffMs?: number;
}

/** Starts listing and watching; `synced()` turns true once every resource has listed. */
export function startClusterCache(kubeconfig: KubeConfig, options: ClusterCacheOptions): ClusterCache {
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const storage = kubeconfig.makeApiClient(StorageV1Api);
  const watched = <T extends KubernetesObject>(source: Omit<InformerSource<T>, "kubeconfig">): ResilientInformer<T> =>
    new ResilientInformer<T>({ ...source, kubeconfig }, { logger: options.logger, onChange: options.onChange, ...(options.backoffMs === undefined ? {} : { backoffMs: options.backoffMs }) });
  const claims = watched<V1PersistentVolumeClaim>({
    resource: "persistentvolumeclaims",
    path: "/api/v1/persistentvolumeclaims",
    list: () => core.listPersistentVolumeClaimForAllNamespaces(),
  });
  const volumes = watched<V1PersistentVolume>({ resource: "persistentvolumes", path: "/api/v1/persistentvolumes", list: () => core.listPersistentVolume() });
  const pods = watched<V1Pod>({ resource: "pods", path: "/api/v1/pods", list: () => core.listPodForAllNamespaces() });
  const nodes = watched<V1Node>({ resource: "nodes", path: "/api/v1/nodes", list: () => core.listNode() });
  const classes = watched<V1StorageClass>({
    resource: "storageclasses",
    path: "/apis/storage.k8s.io/v1/storageclasses",
    list: () => storage.listStorageClass(),
  });
  const all: readonly ResilientInformer<KubernetesObject>[] = [claims, volumes, pods, nodes, classes];
  // Failures are retried inside; start() only resolves once listed or failed.
  for (const resource of all) void resource.start();
  return {
    synced: () => all.every((resource) => resource.synced),
    claims: () => claims.list(),
    claim: (namespace, name) => claims.get(name, namespace),
    volumes: () => volumes.list(),
    volume: (name) => volumes.get(name),
    pods: () => pods.list(),
    node: (name) => nodes.get(name),
    storageClass: (name) => classes.get(name),
    stop: async () => {
      await Promise.all(all.map((resource) => resource.stop()));
    },
  };
}
