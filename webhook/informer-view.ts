/**
 * The cluster view behind admission: informers (list, then watch) on Nodes, PVCs, PVs,
 * StorageClasses, StatefulSets and ZoneMigrations, so no admission waits for the API server.
 * When a watch fails, the informer is rebuilt with a fresh list after a backoff and swapped in
 * once listed; until then the last good cache keeps answering.
 */
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  ListWatch,
  StorageV1Api,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1Node,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
  type V1StatefulSet,
  type V1StorageClass,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { ClusterView } from "../core/cluster-view.ts";
import {
  ZONE_MIGRATION_GROUP,
  ZONE_MIGRATION_PLURAL,
  ZONE_MIGRATION_VERSION,
  type ZoneMigration,
} from "../core/zone-migration.ts";

export interface InformerOptions {
  readonly logger: Logger;
  /** First delay before rebuilding a failed informer; doubles up to `maxBackoffMs`. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
}

interface InformerSource<T extends KubernetesObject> {
  readonly resource: string;
  readonly path: string;
  readonly kubeconfig: KubeConfig;
  readonly list: () => Promise<KubernetesListObject<T>>;
}

/** One resource's list+watch that survives failures by re-listing. */
class ResilientInformer<T extends KubernetesObject> {
  #current: ListWatch<T> | undefined;
  #synced = false;
  #stopped = false;
  #backoffMs: number;
  #timer: NodeJS.Timeout | undefined;
  readonly #resource: string;
  readonly #path: string;
  readonly #kubeconfig: KubeConfig;
  readonly #list: () => Promise<KubernetesListObject<T>>;
  readonly #options: Required<InformerOptions>;

  constructor(source: InformerSource<T>, options: Required<InformerOptions>) {
    this.#resource = source.resource;
    this.#path = source.path;
    this.#kubeconfig = source.kubeconfig;
    this.#list = source.list;
    this.#options = options;
    this.#backoffMs = options.backoffMs;
  }

  get synced(): boolean {
    return this.#synced;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#current?.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.#current?.list(namespace) ?? [];
  }

  /** Lists and starts watching; resolves once listed or failed (failures are retried). */
  async start(): Promise<void> {
    const candidate = new ListWatch<T>(this.#path, new Watch(this.#kubeconfig), this.#list, false);
    const outcome = { failed: false };
    candidate.on("error", (error: unknown) => {
      outcome.failed = true;
      if (this.#current === candidate || this.#current === undefined) this.#scheduleRebuild(error);
    });
    await candidate.start();
    if (outcome.failed || this.#stopped) {
      await candidate.stop();
      return;
    }
    const previous = this.#current;
    this.#current = candidate;
    this.#synced = true;
    this.#backoffMs = this.#options.backoffMs;
    if (previous !== undefined) await previous.stop();
  }

  #scheduleRebuild(error: unknown): void {
    if (this.#stopped || this.#timer !== undefined) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#options.maxBackoffMs);
    if ((error as { code?: number }).code === 404) {
      // The resource is not served (the ZoneMigration CRD before the runner installs it): expected, quiet.
      this.#options.logger.debug({ resource: this.#resource, retryInMs: delay }, "resource not served yet; listing again later");
    } else {
      this.#options.logger.warn({ resource: this.#resource, err: error, retryInMs: delay }, "watch failed; re-listing after a backoff");
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.start();
    }, delay);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#current?.stop();
  }
}

export interface InformerClusterView extends ClusterView {
  /** Resolves when every required informer has listed once. */
  whenSynced(): Promise<void>;
  stop(): Promise<void>;
}

export function startInformerView(kubeconfig: KubeConfig, options: InformerOptions): InformerClusterView {
  const settings = { backoffMs: 500, maxBackoffMs: 30_000, ...options };
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const apps = kubeconfig.makeApiClient(AppsV1Api);
  const storage = kubeconfig.makeApiClient(StorageV1Api);
  const custom = kubeconfig.makeApiClient(CustomObjectsApi);
  const make = <T extends KubernetesObject>(resource: string, path: string, list: () => Promise<KubernetesListObject<T>>): ResilientInformer<T> =>
    new ResilientInformer<T>({ resource, path, kubeconfig, list }, settings);

  const nodes = make<V1Node>("nodes", "/api/v1/nodes", () => core.listNode());
  const claims = make<V1PersistentVolumeClaim>("persistentvolumeclaims", "/api/v1/persistentvolumeclaims", () => core.listPersistentVolumeClaimForAllNamespaces());
  const volumes = make<V1PersistentVolume>("persistentvolumes", "/api/v1/persistentvolumes", () => core.listPersistentVolume());
  const classes = make<V1StorageClass>("storageclasses", "/apis/storage.k8s.io/v1/storageclasses", () => storage.listStorageClass());
  const statefulSets = make<V1StatefulSet>("statefulsets", "/apis/apps/v1/statefulsets", () => apps.listStatefulSetForAllNamespaces());
  // Until the CRD is installed this list fails with 404 and keeps retrying; admission does not wait for it.
  const migrations = make<ZoneMigration & KubernetesObject>(
    "zonemigrations",
    `/apis/${ZONE_MIGRATION_GROUP}/${ZONE_MIGRATION_VERSION}/${ZONE_MIGRATION_PLURAL}`,
    () => custom.listClusterCustomObject({ group: ZONE_MIGRATION_GROUP, version: ZONE_MIGRATION_VERSION, plural: ZONE_MIGRATION_PLURAL }) as Promise<KubernetesListObject<ZoneMigration & KubernetesObject>>,
  );
  const required = [nodes, claims, volumes, classes, statefulSets];
  const all = [...required, migrations];
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
    getStatefulSet: (namespace, name) => statefulSets.get(name, namespace),
    getPersistentVolumeClaim: (namespace, name) => claims.get(name, namespace),
    getPersistentVolume: (name) => volumes.get(name),
    getStorageClass: (name) => classes.get(name),
    listNodes: () => nodes.list(),
    listZoneMigrations: (namespace) => migrations.list(namespace),
  };
}
