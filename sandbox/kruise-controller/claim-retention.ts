/**
 * persistentVolumeClaimRetentionPolicy through owner references, as upstream's
 * updateClaimOwnerRefForSetAndPod does it: whenDeleted Delete makes the set an owner of its
 * claims, whenScaled Delete makes a condemned pod the owner of its own, and the garbage collector
 * does the deleting. Back to Retain, those references are taken off again: zoneferry sets Retain
 * for the length of a migration so that no disk it moves can be collected under it.
 */
import type { V1OwnerReference, V1PersistentVolumeClaim, V1Pod } from "@kubernetes/client-node";
import { KRUISE } from "../../core/workload/kinds.ts";
import { podName, retentionPolicy, type AdvancedSet } from "./advanced-set.ts";

/** Whether the reference is one the retention policy manages for this set and ordinal. */
function isRetentionRef(set: AdvancedSet, ordinal: number, ref: V1OwnerReference): boolean {
  const toSet = ref.kind === KRUISE.kind && ref.apiVersion.startsWith(`${KRUISE.group}/`) && ref.name === set.metadata.name;
  // Any Pod of the ordinal's name: a reference to a pod since re-created is stale, and would
  // let the collector take the claim from under the new pod.
  const toPod = ref.kind === "Pod" && ref.apiVersion === "v1" && ref.name === podName(set, ordinal);
  return toSet || toPod;
}

/** The references the policy wants on a claim of `ordinal`; `pod` is its current pod, if any. */
function wantedRefs(set: AdvancedSet, condemned: boolean, pod: V1Pod | undefined): V1OwnerReference[] {
  const policy = retentionPolicy(set);
  const podUid = pod?.metadata?.uid;
  // A condemned pod owns its claims under whenScaled Delete; the set stops owning them, so that a
  // scale-down then scale-up does not race the collector on the set's reference.
  if (condemned && policy.whenScaled === "Delete" && podUid !== undefined) {
    return [{ apiVersion: "v1", kind: "Pod", name: pod?.metadata?.name ?? "", uid: podUid }];
  }
  if (policy.whenDeleted === "Delete") return [{ apiVersion: KRUISE.apiVersion, kind: KRUISE.kind, name: set.metadata.name, uid: set.metadata.uid }];
  return [];
}

/**
 * The claim's owner references as the policy wants them, or undefined when they already are.
 * References the policy does not manage (anyone else's) are kept as they are.
 */
export function retentionRefsUpdate(set: AdvancedSet, claim: V1PersistentVolumeClaim, at: { ordinal: number; condemned: boolean; pod: V1Pod | undefined }): V1OwnerReference[] | undefined {
  const current = claim.metadata?.ownerReferences ?? [];
  const others = current.filter((ref) => !isRetentionRef(set, at.ordinal, ref));
  const wanted = wantedRefs(set, at.condemned, at.pod);
  const managed = current.filter((ref) => isRetentionRef(set, at.ordinal, ref));
  const same = managed.length === wanted.length && wanted.every((ref) => managed.some((have) => have.uid === ref.uid && have.kind === ref.kind));
  return same ? undefined : [...others, ...wanted];
}
