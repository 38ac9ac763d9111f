/**
 * Where a claim's data is reachable from: the facts every destructive decision rests on. A disk
 * is deleted, or a PV given its Delete policy back, only when the claim is Bound to the PV that
 * the decision keeps (docs/data-safety.md, invariants a and b).
 */
import type { V1ObjectReference, V1PersistentVolume, V1PersistentVolumeClaim } from "@kubernetes/client-node";
import type { MigrationContext } from "./context.ts";
import { orUndefined } from "./kube-patch.ts";

export async function readClaim(context: MigrationContext, name: string): Promise<V1PersistentVolumeClaim | undefined> {
  return orUndefined(context.core.readNamespacedPersistentVolumeClaim({ namespace: context.job.namespace, name }));
}

export async function readVolume(context: MigrationContext, name: string): Promise<V1PersistentVolume | undefined> {
  return orUndefined(context.core.readPersistentVolume({ name }));
}

/**
 * Whether claim and PV name each other and both say Bound (the uid too, so a stale claimRef does
 * not count). A claim being deleted (held by a finalizer) is no binding to rely on: once it goes,
 * its PV is Released, and a PV with Delete then takes its disk with it.
 */
export function boundTogether(claim: V1PersistentVolumeClaim | undefined, pv: V1PersistentVolume | undefined): boolean {
  if (claim === undefined || pv === undefined) return false;
  const lasting = claim.metadata?.deletionTimestamp === undefined;
  const bothBound = claim.status?.phase === "Bound" && pv.status?.phase === "Bound";
  return lasting && bothBound && claim.spec?.volumeName === pv.metadata?.name && refersTo(pv.spec?.claimRef, claim);
}

function refersTo(ref: V1ObjectReference | undefined, claim: V1PersistentVolumeClaim): boolean {
  return ref?.name === claim.metadata?.name && ref?.namespace === claim.metadata?.namespace && ref?.uid === claim.metadata?.uid;
}

/** Whether the claim `name` is Bound to the PV `volume` right now. */
export async function claimBoundTo(context: MigrationContext, name: string, volume: string | undefined): Promise<boolean> {
  if (volume === undefined) return false;
  const [claim, pv] = await Promise.all([readClaim(context, name), readVolume(context, volume)]);
  return boundTogether(claim, pv);
}
