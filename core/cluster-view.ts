/**
 * The read-only view of the cluster that admission decisions are made from. The webhook backs it
 * with informers (no API call on the admission path); the runner's precheck backs it with fresh
 * reads; unit tests back it with plain objects. All of them answer through this interface.
 */
import type {
  V1Node,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1StatefulSet,
  V1StorageClass,
} from "@kubernetes/client-node";
import type { ZoneMigration } from "./zone-migration.ts";

export interface ClusterView {
  /** True once every required source has listed at least once. */
  synced(): boolean;
  getStatefulSet(namespace: string, name: string): V1StatefulSet | undefined;
  getPersistentVolumeClaim(namespace: string, name: string): V1PersistentVolumeClaim | undefined;
  getPersistentVolume(name: string): V1PersistentVolume | undefined;
  getStorageClass(name: string): V1StorageClass | undefined;
  listNodes(): readonly V1Node[];
  /** ZoneMigrations of a namespace; empty while the CRD is not installed. */
  listZoneMigrations(namespace: string): readonly ZoneMigration[];
}

export interface ClusterObjects {
  readonly statefulSets?: readonly V1StatefulSet[];
  readonly persistentVolumeClaims?: readonly V1PersistentVolumeClaim[];
  readonly persistentVolumes?: readonly V1PersistentVolume[];
  readonly storageClasses?: readonly V1StorageClass[];
  readonly nodes?: readonly V1Node[];
  readonly zoneMigrations?: readonly ZoneMigration[];
}

const key = (namespace: string | undefined, name: string | undefined): string => `${namespace ?? ""}/${name ?? ""}`;

function index<T extends { metadata?: { namespace?: string; name?: string } }>(items: readonly T[] | undefined): Map<string, T> {
  return new Map((items ?? []).map((item) => [key(item.metadata?.namespace, item.metadata?.name), item]));
}

/** A view over a fixed set of objects, indexed once: a point-in-time snapshot of the cluster. */
export class SnapshotClusterView implements ClusterView {
  readonly #statefulSets: Map<string, V1StatefulSet>;
  readonly #claims: Map<string, V1PersistentVolumeClaim>;
  readonly #volumes: Map<string, V1PersistentVolume>;
  readonly #classes: Map<string, V1StorageClass>;
  readonly #nodes: readonly V1Node[];
  readonly #migrations: readonly ZoneMigration[];

  constructor(objects: ClusterObjects) {
    this.#statefulSets = index(objects.statefulSets);
    this.#claims = index(objects.persistentVolumeClaims);
    this.#volumes = index(objects.persistentVolumes);
    this.#classes = index(objects.storageClasses);
    this.#nodes = objects.nodes ?? [];
    this.#migrations = objects.zoneMigrations ?? [];
  }

  synced(): boolean {
    return true;
  }
  getStatefulSet(namespace: string, name: string): V1StatefulSet | undefined {
    return this.#statefulSets.get(key(namespace, name));
  }
  getPersistentVolumeClaim(namespace: string, name: string): V1PersistentVolumeClaim | undefined {
    return this.#claims.get(key(namespace, name));
  }
  getPersistentVolume(name: string): V1PersistentVolume | undefined {
    return this.#volumes.get(key(undefined, name));
  }
  getStorageClass(name: string): V1StorageClass | undefined {
    return this.#classes.get(key(undefined, name));
  }
  listNodes(): readonly V1Node[] {
    return this.#nodes;
  }
  listZoneMigrations(namespace: string): readonly ZoneMigration[] {
    return this.#migrations.filter((migration) => migration.metadata?.namespace === namespace);
  }
}
