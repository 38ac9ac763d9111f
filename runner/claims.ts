/**
 * Re-creating a StatefulSet's PVC by name, as its controller would (template spec and labels,
 * the selector's labels, an owner reference when whenDeleted is Delete), bound to a given PV;
 * and the PV for a new disk, copied from the source PV with the disk and zone replaced.
 */
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1StatefulSet } from "@kubernetes/client-node";
import { DISK_ZONE_KEY, ZONE_KEY } from "../core/disk-volumes.ts";

export function claimFor(sts: V1StatefulSet, claim: string, volumeName: string): V1PersistentVolumeClaim {
  const template = sts.spec?.volumeClaimTemplates?.find((candidate) => claim.startsWith(`${candidate.metadata?.name ?? ""}-${sts.metadata?.name ?? ""}-`));
  const owned = sts.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted === "Delete";
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: claim,
      namespace: sts.metadata?.namespace ?? "",
      labels: { ...template?.metadata?.labels, ...sts.spec?.selector.matchLabels },
      ...(owned ? { ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: sts.metadata?.name ?? "", uid: sts.metadata?.uid ?? "", blockOwnerDeletion: true }] } : {}),
    },
    spec: { ...template?.spec, volumeName },
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
