/**
 * The read-only view of the cluster that admission decisions are made from. The webhook backs it
 * with informers (no API call on the admission path), whose objects keep only the fields the
 * checks read (webhook/informer-projection.ts); the runner's precheck backs it with fresh reads;
 * unit tests back it with plain objects. All of them answer through this interface.
 */
import type {
  V1LabelSelector,
  V1Node,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
  V1StatefulSet,
  V1StorageClass,
} from "@kubernetes/client-node";
import { NATIVE, type Workload, type WorkloadKind } from "./workload/kinds.ts";
import type { ZoneMigration } from "./zone-migration.ts";

export interface ClusterView {
  /** True once every required source has listed at least once. */
  synced(): boolean;
  /**
   * A StatefulSet of the kind asked (apps/v1's when absent). The webhook's keeps its identity, uid
   * and zoneferry annotations only: the checks of a request read the request's own object.
   */
  getStatefulSet(namespace: string, name: string, kind?: WorkloadKind): Workload | undefined;
  getPersistentVolumeClaim(namespace: string, name: string): V1PersistentVolumeClaim | undefined;
  getPersistentVolume(name: string): V1PersistentVolume | undefined;
  getStorageClass(name: string): V1StorageClass | undefined;
  listNodes(): readonly V1Node[];
  /** ZoneMigrations of a namespace; empty while the CRD is not installed. */
  listZoneMigrations(namespace: string): readonly ZoneMigration[];
  /**
   * Pods of a namespace, where the view has them: the runner's fresh view does, so its precheck
   * names the replicas that are not Ready. The webhook's does not (an informer on every pod of the
   * cluster would cost more than naming them is worth), and judges readiness from the
   * StatefulSet's status.
   */
  listPods?(namespace: string): readonly V1Pod[];
  /**
   * PodDisruptionBudgets of a namespace, where the view has them, and undefined while it has not
   * listed them yet: the webhook's does (a Rolling request is warned when no budget covers the
   * replicas), the runner's fresh view does not (its evictions meet the budgets themselves).
   */
  listDisruptionBudgets?(namespace: string): readonly DisruptionBudget[] | undefined;
}

/**
 * What admission reads of a PodDisruptionBudget (policy/v1): where it is and which pods it selects.
 * A V1PodDisruptionBudget is one; nothing else of it is relied on.
 */
export interface DisruptionBudget {
  readonly metadata?: { readonly namespace?: string; readonly name?: string };
  /** policy/v1: an empty selector selects every pod of the namespace, an absent one none. */
  readonly spec?: { readonly selector?: V1LabelSelector };
}

export interface ClusterObjects {
  readonly statefulSets?: readonly V1StatefulSet[];
  /** OpenKruise Advanced StatefulSets (apps.kruise.io). */
  readonly advancedStatefulSets?: readonly Workload[];
  readonly persistentVolumeClaims?: readonly V1PersistentVolumeClaim[];
  readonly persistentVolumes?: readonly V1PersistentVolume[];
  readonly storageClasses?: readonly V1StorageClass[];
  readonly nodes?: readonly V1Node[];
  readonly zoneMigrations?: readonly ZoneMigration[];
  /** Absent: the view has no pods (listPods is not offered). */
  readonly pods?: readonly V1Pod[];
  /** Absent: the view has no budgets (listDisruptionBudgets is not offered). */
  readonly disruptionBudgets?: readonly DisruptionBudget[];
}

type Named = { metadata?: { namespace?: string; name?: string } };

/**
 * Objects by namespace, then name: the layout of client-node's informer cache, and no string is
 * built per lookup on the admission path.
 */
class ObjectIndex<T extends Named> {
  readonly #byNamespace = new Map<string, Map<string, T>>();

  constructor(items: readonly T[] | undefined) {
    for (const item of items ?? []) {
      const namespace = item.metadata?.namespace ?? "";
      let names = this.#byNamespace.get(namespace);
      if (names === undefined) {
        names = new Map<string, T>();
        this.#byNamespace.set(namespace, names);
      }
      names.set(item.metadata?.name ?? "", item);
    }
  }

  get(namespace: string, name: string): T | undefined {
    return this.#byNamespace.get(namespace)?.get(name);
  }
}

/** A view over a fixed set of objects, indexed once: a point-in-time snapshot of the cluster. */
export class SnapshotClusterView implements ClusterView {
  readonly #statefulSets: ObjectIndex<V1StatefulSet>;
  readonly #advancedStatefulSets: ObjectIndex<Workload>;
  readonly #claims: ObjectIndex<V1PersistentVolumeClaim>;
  readonly #volumes: ObjectIndex<V1PersistentVolume>;
  readonly #classes: ObjectIndex<V1StorageClass>;
  readonly #nodes: readonly V1Node[];
  readonly #migrations: readonly ZoneMigration[];
  readonly listPods?: (namespace: string) => readonly V1Pod[];
  readonly listDisruptionBudgets?: (namespace: string) => readonly DisruptionBudget[];

  constructor(objects: ClusterObjects) {
    this.#statefulSets = new ObjectIndex(objects.statefulSets);
    this.#advancedStatefulSets = new ObjectIndex(objects.advancedStatefulSets);
    this.#claims = new ObjectIndex(objects.persistentVolumeClaims);
    this.#volumes = new ObjectIndex(objects.persistentVolumes);
    this.#classes = new ObjectIndex(objects.storageClasses);
    this.#nodes = objects.nodes ?? [];
    this.#migrations = objects.zoneMigrations ?? [];
    const pods = objects.pods;
    if (pods !== undefined) this.listPods = (namespace) => pods.filter((pod) => pod.metadata?.namespace === namespace);
    const budgets = objects.disruptionBudgets;
    if (budgets !== undefined) this.listDisruptionBudgets = (namespace) => budgets.filter((budget) => budget.metadata?.namespace === namespace);
  }

  synced(): boolean {
    return true;
  }
  getStatefulSet(namespace: string, name: string, kind: WorkloadKind = NATIVE): Workload | undefined {
    return (kind === NATIVE ? this.#statefulSets : this.#advancedStatefulSets).get(namespace, name);
  }
  getPersistentVolumeClaim(namespace: string, name: string): V1PersistentVolumeClaim | undefined {
    return this.#claims.get(namespace, name);
  }
  getPersistentVolume(name: string): V1PersistentVolume | undefined {
    return this.#volumes.get("", name);
  }
  getStorageClass(name: string): V1StorageClass | undefined {
    return this.#classes.get("", name);
  }
  listNodes(): readonly V1Node[] {
    return this.#nodes;
  }
  listZoneMigrations(namespace: string): readonly ZoneMigration[] {
    return this.#migrations.filter((migration) => migration.metadata?.namespace === namespace);
  }
}
