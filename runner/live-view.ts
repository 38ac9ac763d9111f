/**
 * A fresh view of the live cluster for the runner's precheck: admission decided on an informer
 * view at apply time; before acting, the runner asks the API server again and re-runs the same
 * checks (core/assess-migration.ts) on what it answers now.
 */
import { AppsV1Api, CoreV1Api, CustomObjectsApi, StorageV1Api, type KubeConfig } from "@kubernetes/client-node";
import { SnapshotClusterView } from "../core/cluster-view.ts";
import { kruiseStatefulSets } from "./workload/kruise-statefulsets.ts";
import { ZONE_MIGRATION_GROUP, ZONE_MIGRATION_PLURAL, ZONE_MIGRATION_VERSION, type ZoneMigration } from "../core/zone-migration.ts";

/** `kruise`: Advanced StatefulSets are listed too (a namesake of the other kind is refused). */
export async function liveClusterView(kubeconfig: KubeConfig, namespace: string, kruise = false): Promise<SnapshotClusterView> {
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const apps = kubeconfig.makeApiClient(AppsV1Api);
  const storage = kubeconfig.makeApiClient(StorageV1Api);
  const custom = kubeconfig.makeApiClient(CustomObjectsApi);
  const [statefulSets, advanced, claims, volumes, classes, nodes, migrations, pods] = await Promise.all([
    apps.listNamespacedStatefulSet({ namespace }),
    kruise ? kruiseStatefulSets(kubeconfig).list(namespace) : [],
    core.listNamespacedPersistentVolumeClaim({ namespace }),
    core.listPersistentVolume(),
    storage.listStorageClass(),
    core.listNode(),
    custom
      .listNamespacedCustomObject({ group: ZONE_MIGRATION_GROUP, version: ZONE_MIGRATION_VERSION, plural: ZONE_MIGRATION_PLURAL, namespace })
      .then((list) => (list as { items?: ZoneMigration[] }).items ?? []),
    // The pods name the replicas that are not Ready (core/assess-migration.ts readinessDenial).
    core.listNamespacedPod({ namespace }),
  ]);
  return new SnapshotClusterView({
    statefulSets: statefulSets.items,
    advancedStatefulSets: advanced,
    persistentVolumeClaims: claims.items,
    persistentVolumes: volumes.items,
    storageClasses: classes.items,
    nodes: nodes.items,
    zoneMigrations: migrations,
    pods: pods.items,
  });
}
