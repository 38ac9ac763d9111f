/**
 * Helpers for tests of the sandbox's stand-in kruise controller: Advanced StatefulSet manifests,
 * a pool of static PVs (pods with claims schedule only once their claims are bound, and the tests
 * need no disk provisioner), and a recorder of pod watch events to check the order of creates and
 * deletes.
 */
import { CoreV1Api, StorageV1Api, Watch, type KubeConfig, type V1Pod } from "@kubernetes/client-node";

export const STATIC_CLASS = "kruise-test-static";

export interface SetOptions {
  readonly replicas?: number;
  readonly claims?: boolean;
  readonly spec?: Record<string, unknown>;
  readonly gated?: boolean;
}

/** An Advanced StatefulSet of `replicas` pods labelled app=<name>, with a `data` claim template if asked. */
export function advancedSet(namespace: string, name: string, options: SetOptions = {}): Record<string, unknown> {
  return {
    apiVersion: "apps.kruise.io/v1beta1",
    kind: "StatefulSet",
    metadata: { name, namespace },
    spec: {
      replicas: options.replicas ?? 1,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, tier: "test" } },
        spec: {
          containers: [{ name: "app", image: "registry.example/app:1" }],
          ...(options.gated === true ? { schedulingGates: [{ name: "test.zoneferry.io/hold" }] } : {}),
        },
      },
      ...(options.claims === true
        ? { volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], storageClassName: STATIC_CLASS, resources: { requests: { storage: "1Gi" } } } }] }
        : {}),
      ...options.spec,
    },
  };
}

/** A StorageClass without a provisioner and `count` hostPath PVs of 1Gi for claims to bind to at once. */
export async function staticVolumePool(kubeconfig: KubeConfig, count: number): Promise<void> {
  const core = kubeconfig.makeApiClient(CoreV1Api);
  await kubeconfig.makeApiClient(StorageV1Api).createStorageClass({
    body: { metadata: { name: STATIC_CLASS }, provisioner: "kubernetes.io/no-provisioner", volumeBindingMode: "Immediate", reclaimPolicy: "Retain" },
  });
  await Promise.all(Array.from({ length: count }, (_, index) => core.createPersistentVolume({
    body: {
      metadata: { name: `static-${index}` },
      spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], storageClassName: STATIC_CLASS, persistentVolumeReclaimPolicy: "Retain", hostPath: { path: `/tmp/static-${index}` } },
    },
  })));
}

/** One pod watch event, as recorded. */
export interface PodEvent {
  readonly type: string;
  readonly name: string;
  readonly terminating: boolean;
  readonly ready: boolean;
}

/** Records the watch events of a namespace's pods until stopped. */
export async function recordPodEvents(kubeconfig: KubeConfig, namespace: string): Promise<{ events: PodEvent[]; stop: () => void }> {
  const events: PodEvent[] = [];
  const request = await new Watch(kubeconfig).watch(`/api/v1/namespaces/${namespace}/pods`, {}, (type: string, pod: V1Pod) => {
    events.push({
      type,
      name: pod.metadata?.name ?? "",
      terminating: pod.metadata?.deletionTimestamp !== undefined,
      ready: pod.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") === true,
    });
  }, () => undefined);
  return { events, stop: () => { request.abort(); } };
}

/** Index of the first recorded event matching, or -1. */
export function firstEvent(events: readonly PodEvent[], match: (event: PodEvent) => boolean): number {
  return events.findIndex(match);
}
