/**
 * The pod and claims of one ordinal, built as kruise (and apps/v1) builds them: the template's
 * labels plus the identity labels, hostname and subdomain for the headless service, and each
 * claim template's volume pointing at `<template>-<set>-<ordinal>`.
 */
import type { V1PersistentVolumeClaim, V1Pod, V1PodTemplateSpec, V1Volume } from "@kubernetes/client-node";
import { claimName, controllerRef, podName, type AdvancedSet } from "./advanced-set.ts";
import { REVISION_LABEL } from "./revisions.ts";

export const POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";
export const POD_INDEX_LABEL = "apps.kubernetes.io/pod-index";

/** The claim templates' names; a template without one is skipped, as the API server would refuse it. */
export function claimTemplateNames(set: AdvancedSet): string[] {
  return (set.spec?.volumeClaimTemplates ?? []).flatMap((template) => (template.metadata?.name === undefined ? [] : [template.metadata.name]));
}

/** The claims ordinal `ordinal` mounts, as they are created when missing (owner references apart). */
export function claimsFor(set: AdvancedSet, ordinal: number): V1PersistentVolumeClaim[] {
  return (set.spec?.volumeClaimTemplates ?? []).flatMap((template) => {
    if (template.metadata?.name === undefined) return [];
    return [{
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: {
        name: claimName(set, template.metadata.name, ordinal),
        namespace: set.metadata.namespace,
        // The selector's labels over the template's, as upstream's getPersistentVolumeClaims does.
        labels: { ...template.metadata.labels, ...set.spec?.selector.matchLabels },
        ...(template.metadata.annotations === undefined ? {} : { annotations: template.metadata.annotations }),
      },
      spec: template.spec ?? {},
    }];
  });
}

/** The pod of `ordinal` at `revision`, from `template` (the set's, or an older revision's). */
export function podFor(set: AdvancedSet, ordinal: number, template: V1PodTemplateSpec, revision: string): V1Pod {
  const name = podName(set, ordinal);
  const claims = new Map(claimTemplateNames(set).map((volume) => [volume, claimName(set, volume, ordinal)]));
  // A template volume named like a claim template is replaced by the claim (upstream's updateStorage).
  const volumes: V1Volume[] = [
    ...(template.spec?.volumes ?? []).filter((volume) => !claims.has(volume.name)),
    ...[...claims].map(([volume, claim]) => ({ name: volume, persistentVolumeClaim: { claimName: claim } })),
  ];
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      ...template.metadata,
      name,
      namespace: set.metadata.namespace,
      labels: { ...template.metadata?.labels, [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [REVISION_LABEL]: revision },
      ownerReferences: [controllerRef(set)],
    },
    spec: {
      containers: [],
      ...template.spec,
      hostname: name,
      ...(set.spec?.serviceName === undefined ? {} : { subdomain: set.spec.serviceName }),
      volumes,
    },
  };
}
