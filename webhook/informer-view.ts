/**
 * The cluster view behind admission: informers (list, then watch) on Nodes, PVCs, PVs,
 * StorageClasses, StatefulSets, ZoneMigrations and PodDisruptionBudgets, so no admission waits
 * for the API server. Each object is reduced on arrival to what the checks read
 * (webhook/informer-projection.ts), and lists come in pages, so the view of a large cluster
 * stays small.
 */
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PolicyV1Api,
  StorageV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1Node,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
  type V1PodDisruptionBudget,
  type V1StatefulSet,
  type V1StorageClass,
} from "@kubernetes/client-node";
import type { ClusterView } from "../core/cluster-view.ts";
import { KRUISE, NATIVE, type Workload } from "../core/workload/kinds.ts";
import { jsonList } from "../core/kube/json-list.ts";
import { ResilientInformer, type InformerOptions } from "../core/kube/resilient-informer.ts";
import {
  ZONE_MIGRATION_GROUP,
  ZONE_MIGRATION_PLURAL,
  ZONE_MIGRATION_VERSION,
  type ZoneMigration,
} from "../core/zone-migration.ts";
import {
  projectClaim,
  projectDisruptionBudget,
  projectNode,
  projectStatefulSet,
  projectStorageClass,
  projectVolume,
  projectZoneMigration,
} from "./informer-projection.ts";

export interface InformerClusterView extends ClusterView {
  /** Resolves when every required informer has listed once. */
  whenSynced(): Promise<void>;
  stop(): Promise<void>;
}

export interface InformerViewOptions extends InformerOptions {
  /** WORKLOADS_KRUISE: also watch OpenKruise Advanced StatefulSets (their CRD must be installed). */
  readonly kruise?: boolean;
  /**
   * Objects per list request. 500 is client-go's informers' page: a page of PVs is a MiB or two
   * of JSON to parse, and 50,000 PVs list in 100 requests. @defaultValue 500
   */
  readonly listPageSize?: number;
  /**
   * The view as it was before objects were reduced: client-node's typed lists, each in one
   * request, and every object kept as served. For bench/scale-bench.ts only, which measures what
   * the reduction saves.
   * @defaultValue false
   */
  readonly wholeObjects?: boolean;
}

/** The default `listPageSize`. */
const LIST_PAGE_SIZE = 500;

export function startInformerView(kubeconfig: KubeConfig, options: InformerViewOptions): InformerClusterView {
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const apps = kubeconfig.makeApiClient(AppsV1Api);
  const storage = kubeconfig.makeApiClient(StorageV1Api);
  const custom = kubeconfig.makeApiClient(CustomObjectsApi);
  const policy = kubeconfig.makeApiClient(PolicyV1Api);
  const whole = options.wholeObjects === true;
  const informerOptions: InformerOptions = { ...options, listPageSize: whole ? 0 : (options.listPageSize ?? LIST_PAGE_SIZE) };
  // Whole, as the view was: client-node's typed lists. Reduced: plain JSON, reduced page by page.
  const make = <T extends KubernetesObject>(resource: string, path: string, project: (object: T) => T, typed: () => Promise<KubernetesListObject<T>>): ResilientInformer<T> =>
    new ResilientInformer<T>(whole ? { resource, path, kubeconfig, list: typed } : { resource, path, kubeconfig, list: jsonList<T>(kubeconfig, path), transform: project }, informerOptions);

  const nodes = make<V1Node>("nodes", "/api/v1/nodes", projectNode, () => core.listNode());
  const claims = make<V1PersistentVolumeClaim>("persistentvolumeclaims", "/api/v1/persistentvolumeclaims", projectClaim, () => core.listPersistentVolumeClaimForAllNamespaces());
  const volumes = make<V1PersistentVolume>("persistentvolumes", "/api/v1/persistentvolumes", projectVolume, () => core.listPersistentVolume());
  const classes = make<V1StorageClass>("storageclasses", "/apis/storage.k8s.io/v1/storageclasses", projectStorageClass, () => storage.listStorageClass());
  const statefulSets = make<V1StatefulSet>("statefulsets", "/apis/apps/v1/statefulsets", projectStatefulSet, () => apps.listStatefulSetForAllNamespaces());
  const advanced = options.kruise === true
    ? make<Workload>(`statefulsets.${KRUISE.group}`, `/apis/${KRUISE.group}/${KRUISE.version}/${KRUISE.plural}`, projectAdvancedStatefulSet, () => listAdvancedStatefulSets(custom))
    : undefined;
  // Until the CRD is installed this list fails with 404 and keeps retrying; admission does not wait for it.
  const migrations = make<ZoneMigration & KubernetesObject>(
    "zonemigrations",
    `/apis/${ZONE_MIGRATION_GROUP}/${ZONE_MIGRATION_VERSION}/${ZONE_MIGRATION_PLURAL}`,
    projectZoneMigration,
    () => custom.listClusterCustomObject({ group: ZONE_MIGRATION_GROUP, version: ZONE_MIGRATION_VERSION, plural: ZONE_MIGRATION_PLURAL }) as Promise<KubernetesListObject<ZoneMigration & KubernetesObject>>,
  );
  // Only for a warning (a Rolling request no budget covers): not required for readiness, and
  // answered as unknown, never as "none", until listed.
  const budgets = make<V1PodDisruptionBudget>("poddisruptionbudgets", "/apis/policy/v1/poddisruptionbudgets", projectDisruptionBudget, () => policy.listPodDisruptionBudgetForAllNamespaces());
  // Switched on, Advanced StatefulSets are required: admitting one unseen would skip its checks.
  const required = [nodes, claims, volumes, classes, statefulSets, ...(advanced === undefined ? [] : [advanced])];
  const all = [...required, migrations, budgets];
  const started = Promise.all(all.map((informer) => informer.start()));

  return {
    synced: () => required.every((informer) => informer.synced),
    whenSynced: async () => {
      await started;
      while (!required.every((informer) => informer.synced)) await new Promise((resolve) => setTimeout(resolve, 100));
    },
    stop: async () => {
      await Promise.all(all.map((informer) => informer.stop()));
    },
    getStatefulSet: (namespace, name, kind = NATIVE) => (kind === NATIVE ? statefulSets.get(name, namespace) : advanced?.get(name, namespace)),
    getPersistentVolumeClaim: (namespace, name) => claims.get(name, namespace),
    getPersistentVolume: (name) => volumes.get(name),
    getStorageClass: (name) => classes.get(name),
    listNodes: () => nodes.list(),
    listZoneMigrations: (namespace) => migrations.list(namespace),
    listDisruptionBudgets: (namespace) => (budgets.synced ? budgets.list(namespace) : undefined),
  };
}

/** Advanced StatefulSets, each with its apiVersion (a list's items may carry none): the checks read it. */
async function listAdvancedStatefulSets(custom: CustomObjectsApi): Promise<KubernetesListObject<Workload>> {
  const list = (await custom.listClusterCustomObject({ group: KRUISE.group, version: KRUISE.version, plural: KRUISE.plural })) as KubernetesListObject<Workload>;
  return { ...list, items: list.items.map((item) => ({ ...item, apiVersion: KRUISE.apiVersion })) };
}

/** An Advanced StatefulSet reduced, with its kind's apiVersion, as listAdvancedStatefulSets gives it. */
function projectAdvancedStatefulSet(sts: Workload): Workload {
  return { ...projectStatefulSet(sts), apiVersion: KRUISE.apiVersion };
}
