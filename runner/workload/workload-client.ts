/**
 * The runner's port to "the StatefulSet": everything it reads and writes of the workload goes
 * through these four calls, with one adapter per kind (apps/v1, and OpenKruise's apps.kruise.io).
 * Every object returned carries its apiVersion, which the checks read (a list's items have none
 * on the wire). Pods, claims and volumes are the same API for both kinds and stay outside.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { KRUISE, type Workload, type WorkloadKind } from "../../core/workload/kinds.ts";
import { appsStatefulSets } from "./apps-statefulsets.ts";
import { kruiseStatefulSets } from "./kruise-statefulsets.ts";

export interface WorkloadClient {
  readonly kind: WorkloadKind;
  read(namespace: string, name: string): Promise<Workload>;
  /** A JSON merge patch, written as `fieldManager`. */
  patch(namespace: string, name: string, body: object, fieldManager: string): Promise<void>;
  list(namespace: string): Promise<Workload[]>;
  /** Every namespace's (the reconciler, the metrics). */
  listAll(): Promise<Workload[]>;
}

export function workloadClient(kubeconfig: KubeConfig, kind: WorkloadKind): WorkloadClient {
  return kind === KRUISE ? kruiseStatefulSets(kubeconfig) : appsStatefulSets(kubeconfig);
}

/** The workloads of every kind the runner is set to migrate (WORKLOADS_KRUISE adds Advanced StatefulSets). */
export function enabledKinds(kinds: readonly WorkloadKind[], kruise: boolean): WorkloadKind[] {
  return kinds.filter((kind) => kind !== KRUISE || kruise);
}
