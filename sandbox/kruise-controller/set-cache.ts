/**
 * The controller's picture of the cluster: list+watch caches of Advanced StatefulSets, Pods and
 * PVCs in all namespaces (core/kube/resilient-informer.ts, which re-lists with backoff after a
 * failed watch). Every change calls `onChange`, so a pod turning Ready starts the next pass at once.
 */
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesListObject, type KubernetesObject, type V1PersistentVolumeClaim, type V1Pod } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { KRUISE } from "../../core/workload/kinds.ts";
import { ResilientInformer, type InformerSource } from "../../core/kube/resilient-informer.ts";
import type { AdvancedSet } from "./advanced-set.ts";

/** Read access to the watched objects; answers from memory, possibly a moment behind the API server. */
export interface SetCache {
  synced(): boolean;
  sets(): readonly AdvancedSet[];
  pods(namespace: string): readonly V1Pod[];
  claim(namespace: string, name: string): V1PersistentVolumeClaim | undefined;
  stop(): Promise<void>;
}

export function startSetCache(kubeconfig: KubeConfig, options: { logger: Logger; onChange: () => void }): SetCache {
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const custom = kubeconfig.makeApiClient(CustomObjectsApi);
  const watched = <T extends KubernetesObject>(source: Omit<InformerSource<T>, "kubeconfig">): ResilientInformer<T> =>
    new ResilientInformer<T>({ ...source, kubeconfig }, { logger: options.logger, onChange: options.onChange });
  const sets = watched<AdvancedSet>({
    resource: `${KRUISE.plural}.${KRUISE.group}`,
    path: `/apis/${KRUISE.group}/${KRUISE.version}/${KRUISE.plural}`,
    list: async () => (await custom.listClusterCustomObject({ group: KRUISE.group, version: KRUISE.version, plural: KRUISE.plural })) as KubernetesListObject<AdvancedSet>,
  });
  const pods = watched<V1Pod>({ resource: "pods", path: "/api/v1/pods", list: () => core.listPodForAllNamespaces() });
  const claims = watched<V1PersistentVolumeClaim>({ resource: "persistentvolumeclaims", path: "/api/v1/persistentvolumeclaims", list: () => core.listPersistentVolumeClaimForAllNamespaces() });
  const all: readonly ResilientInformer<KubernetesObject>[] = [sets, pods, claims];
  // Failures are retried inside; start() only resolves once listed or failed.
  for (const resource of all) void resource.start();
  return {
    synced: () => all.every((resource) => resource.synced),
    sets: () => sets.list(),
    pods: (namespace) => pods.list(namespace),
    claim: (namespace, name) => claims.get(name, namespace),
    stop: async () => {
      await Promise.all(all.map((resource) => resource.stop()));
    },
  };
}
