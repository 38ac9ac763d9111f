/** Writes fixture objects into a real API server, status included (no controller sets it here). */
import {
  AppsV1Api,
  CoreV1Api,
  StorageV1Api,
  type KubeConfig,
} from "@kubernetes/client-node";
import type { ClusterObjects } from "../../core/cluster-view.ts";
import { registerWebhookConfigurations } from "../../sandbox/webhook-registration.ts";

export async function ensureNamespace(kubeconfig: KubeConfig, name: string): Promise<void> {
  const core = kubeconfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name } } }).catch((error: unknown) => {
    if ((error as { code?: number }).code !== 409) throw error;
  });
}

export async function seed(kubeconfig: KubeConfig, objects: ClusterObjects): Promise<void> {
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const apps = kubeconfig.makeApiClient(AppsV1Api);
  const storage = kubeconfig.makeApiClient(StorageV1Api);
  for (const storageClass of objects.storageClasses ?? []) {
    await storage.createStorageClass({ body: storageClass }).catch(ignoreConflict);
  }
  for (const node of objects.nodes ?? []) {
    const created = await core.createNode({ body: node }).catch(ignoreConflict);
    if (created === undefined) continue;
    const ready = await core.replaceNodeStatus({ name: node.metadata!.name!, body: { ...created, status: node.status ?? {} } });
    // The node lifecycle controller's part: admission tainted the new node not-ready; it is Ready now.
    await core.replaceNode({ name: node.metadata!.name!, body: { ...ready, spec: { ...ready.spec, taints: node.spec?.taints ?? [] } } });
  }
  for (const pv of objects.persistentVolumes ?? []) {
    const created = await core.createPersistentVolume({ body: pv });
    await core.replacePersistentVolumeStatus({ name: pv.metadata!.name!, body: { ...created, status: pv.status ?? {} } });
  }
  for (const pvc of objects.persistentVolumeClaims ?? []) {
    const namespace = pvc.metadata!.namespace!;
    await ensureNamespace(kubeconfig, namespace);
    const created = await core.createNamespacedPersistentVolumeClaim({ namespace, body: pvc });
    await core.replaceNamespacedPersistentVolumeClaimStatus({ name: pvc.metadata!.name!, namespace, body: { ...created, status: pvc.status ?? {} } });
  }
  for (const sts of objects.statefulSets ?? []) {
    const namespace = sts.metadata!.namespace!;
    await ensureNamespace(kubeconfig, namespace);
    // uid and generation are the server's to assign.
    const metadata = { ...sts.metadata };
    delete metadata.uid;
    delete metadata.generation;
    const created = await apps.createNamespacedStatefulSet({ namespace, body: { ...sts, metadata } });
    // Admission reads readyReplicas (every replica must be Ready before a move).
    if (sts.status !== undefined) await apps.replaceNamespacedStatefulSetStatus({ name: metadata.name!, namespace, body: { ...created, status: sts.status } });
  }
}

function ignoreConflict(error: unknown): undefined {
  if ((error as { code?: number }).code === 409) return undefined;
  throw error;
}

export const registerWebhook = registerWebhookConfigurations;
