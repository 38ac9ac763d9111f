/**
 * Re-creating a StatefulSet's PVC by name, as it was before the move (its journaled shape), or
 * for older journals as its controller would (template spec and labels, the selector's labels, an
 * owner reference when whenDeleted is Delete), bound to a given PV;
 * and the PV for a new disk, copied from the source PV with the disk and zone replaced.
 */
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1StatefulSet } from "@kubernetes/client-node";
import { DISK_ZONE_KEY, ZONE_KEY } from "../core/disk-volumes.ts";
import type { ClaimShape } from "./journal/types.ts";

/** Annotations that describe one binding (the controllers and the scheduler set them again). */
const BINDING_ANNOTATIONS: ReadonlySet<string> = new Set([
  "pv.kubernetes.io/bind-completed",
  "pv.kubernetes.io/bound-by-controller",
  "volume.beta.kubernetes.io/storage-provisioner",
  "volume.kubernetes.io/storage-provisioner",
  "volume.kubernetes.io/selected-node",
]);

/**
 * What of a live PVC its re-creation keeps: the user's labels, annotations and finalizers, its
 * owners, class, size, access and volume mode, VolumeAttributesClass. Journaled before the PVC is
 * first deleted, so the PVC comes back as it was, not as the template would make it today.
 */
export function shapeOf(claim: V1PersistentVolumeClaim): ClaimShape {
  const annotations = Object.fromEntries(Object.entries(claim.metadata?.annotations ?? {}).filter(([key]) => !BINDING_ANNOTATIONS.has(key)));
  const finalizers = (claim.metadata?.finalizers ?? []).filter((finalizer) => finalizer !== "kubernetes.io/pvc-protection");
  const spec = claim.spec ?? {};
  return JSON.parse(JSON.stringify({
    labels: claim.metadata?.labels,
    annotations: Object.keys(annotations).length === 0 ? undefined : annotations,
    finalizers: finalizers.length === 0 ? undefined : finalizers,
    ownerReferences: claim.metadata?.ownerReferences,
    spec: { accessModes: spec.accessModes, resources: spec.resources, storageClassName: spec.storageClassName, volumeMode: spec.volumeMode, volumeAttributesClassName: spec.volumeAttributesClassName },
  })) as ClaimShape;
}

/** The PVC `claim` again, bound to `volumeName`: from its journaled shape, or (older journals) the template. */
export function claimFrom(shape: ClaimShape | undefined, sts: V1StatefulSet, claim: string, volumeName: string): V1PersistentVolumeClaim {
  const { labels, annotations, finalizers, ownerReferences, spec } = shape ?? templateShape(sts, claim);
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: claim,
      namespace: sts.metadata?.namespace ?? "",
      ...(labels === undefined ? {} : { labels: { ...labels } }),
      ...(annotations === undefined ? {} : { annotations: { ...annotations } }),
      ...(finalizers === undefined ? {} : { finalizers: [...finalizers] }),
      ...(ownerReferences === undefined ? {} : { ownerReferences: structuredClone(ownerReferences) }),
    },
    spec: { ...structuredClone(spec), volumeName },
  };
}

/** The template a claim was made from: `<template>-<statefulset>-<ordinal>`, matched exactly. */
function templateOf(sts: V1StatefulSet, claim: string): V1PersistentVolumeClaim | undefined {
  return sts.spec?.volumeClaimTemplates?.find((candidate) => {
    const prefix = `${candidate.metadata?.name ?? ""}-${sts.metadata?.name ?? ""}-`;
    return claim.startsWith(prefix) && /^\d+$/.test(claim.slice(prefix.length));
  });
}

/** A claim as the StatefulSet controller makes it from its template (for journals without a shape). */
function templateShape(sts: V1StatefulSet, claim: string): ClaimShape {
  const template = templateOf(sts, claim);
  const owned = sts.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted === "Delete";
  return {
    labels: { ...template?.metadata?.labels, ...sts.spec?.selector.matchLabels },
    ...(owned ? { ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: sts.metadata?.name ?? "", uid: sts.metadata?.uid ?? "", blockOwnerDeletion: true }] } : {}),
    spec: { ...template?.spec },
  };
}

/** The source PV, moved: named by the new disk, its handle and zone replaced, pre-bound by name. */
export function persistentVolumeFor(source: V1PersistentVolume, diskId: string, zone: string, claim: { namespace: string; name: string }): V1PersistentVolume {
  const labels = Object.fromEntries(Object.entries(source.metadata?.labels ?? {}).map(([key, value]) => [key, key === ZONE_KEY || key === DISK_ZONE_KEY ? zone : value]));
  const annotations = { ...source.metadata?.annotations };
  delete annotations["pv.kubernetes.io/bound-by-controller"];
  const attributes = Object.fromEntries(Object.entries(source.spec?.csi?.volumeAttributes ?? {}).map(([key, value]) => [key, key.endsWith("/zone") ? zone : value]));
  const terms = (source.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []).map((term) => ({
    ...term,
    matchExpressions: (term.matchExpressions ?? []).map((expression) => (expression.key.endsWith("/zone") ? { ...expression, values: [zone] } : expression)),
  }));
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: diskId, labels, annotations },
    spec: {
      ...source.spec,
      csi: { ...source.spec!.csi!, volumeHandle: diskId, volumeAttributes: attributes },
      nodeAffinity: { required: { nodeSelectorTerms: terms } },
      claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: claim.namespace, name: claim.name },
      // Retain until the migration is verified; the finish step restores the source's policy.
      persistentVolumeReclaimPolicy: "Retain",
    },
  };
}
