/**
 * An Advanced StatefulSet as the controller reads it, and the names and owner references kruise
 * derives from it. Pod and claim names are apps/v1's (`<set>-<ordinal>`,
 * `<template>-<set>-<ordinal>`): zoneferry finds a replica's disks by those names.
 */
import type { V1ObjectMeta, V1OwnerReference, V1PersistentVolumeClaim, V1Pod, V1PodTemplateSpec } from "@kubernetes/client-node";
import { KRUISE, type Workload } from "../../core/workload/kinds.ts";

/** The status fields the controller writes (the CRD's status schema). */
export interface AdvancedSetStatus {
  readonly observedGeneration?: number;
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly availableReplicas: number;
  readonly currentReplicas: number;
  readonly updatedReplicas: number;
  readonly updatedReadyReplicas: number;
  readonly updatedAvailableReplicas: number;
  readonly currentRevision: string;
  readonly updateRevision: string;
  readonly labelSelector: string;
  readonly collisionCount: number;
}

/** Retain or Delete, per event, as in apps/v1. */
export interface RetentionPolicy {
  readonly whenDeleted: "Retain" | "Delete";
  readonly whenScaled: "Retain" | "Delete";
}

/** A set read from the API server; metadata (name, namespace, uid) is always there on a stored object. */
export type AdvancedSet = Omit<Workload, "status" | "metadata"> & {
  metadata: V1ObjectMeta & { name: string; namespace: string; uid: string };
  status?: Partial<AdvancedSetStatus>;
};

/** `namespace/name`, the set's key in logs and in the retry backoff. */
export function setKey(set: AdvancedSet): string {
  return `${set.metadata.namespace}/${set.metadata.name}`;
}

export function podName(set: AdvancedSet, ordinal: number): string {
  return `${set.metadata.name}-${ordinal}`;
}

export function claimName(set: AdvancedSet, template: string, ordinal: number): string {
  return `${template}-${set.metadata.name}-${ordinal}`;
}

/** The ordinal of a pod the set owns, from its name; undefined for anything else. */
export function ordinalOf(set: AdvancedSet, pod: V1Pod): number | undefined {
  const name = pod.metadata?.name ?? "";
  const prefix = `${set.metadata.name}-`;
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

/** Whether the set is the pod's (or claim's) controller. Orphans are not adopted (README.md). */
export function isControlledBy(set: AdvancedSet, object: V1Pod | V1PersistentVolumeClaim): boolean {
  return (object.metadata?.ownerReferences ?? []).some((ref) => ref.controller === true && ref.uid === set.metadata.uid);
}

/** The controller reference every pod of the set carries. */
export function controllerRef(set: AdvancedSet): V1OwnerReference {
  return { apiVersion: KRUISE.apiVersion, kind: KRUISE.kind, name: set.metadata.name, uid: set.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/** OrderedReady (the default) creates, deletes and waits one pod at a time; Parallel does not wait. */
export function isOrdered(set: AdvancedSet): boolean {
  return set.spec?.podManagementPolicy !== "Parallel";
}

export function retentionPolicy(set: AdvancedSet): RetentionPolicy {
  const policy = set.spec?.persistentVolumeClaimRetentionPolicy;
  return { whenDeleted: policy?.whenDeleted === "Delete" ? "Delete" : "Retain", whenScaled: policy?.whenScaled === "Delete" ? "Delete" : "Retain" };
}

export function podTemplate(set: AdvancedSet): V1PodTemplateSpec {
  return set.spec?.template ?? {};
}

/** The selector as the scale subresource wants it: `k=v,k2=v2`, keys sorted as apimachinery prints them. */
export function selectorString(set: AdvancedSet): string {
  const labels = set.spec?.selector.matchLabels ?? {};
  return Object.keys(labels).sort().map((key) => `${key}=${labels[key] ?? ""}`).join(",");
}
