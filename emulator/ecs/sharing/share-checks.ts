/**
 * What CreateResourceShare and AssociateResourceShare check of the resources and targets they are
 * given, in one place: at most 5 of each per call, snapshots the caller owns, no snapshot encrypted
 * with the region's service key, at most 64 accounts per snapshot across every share, account ids
 * of digits, and (no resource directory being modelled) AllowExternalTargets for any target.
 */
import { ACCOUNT_ID } from "../accounts.ts";
import { SERVICE_KEY_ID } from "../actions/disk-attributes.ts";
import { ecsError, invalidParameter } from "../errors.ts";
import type { SharingContext } from "./context.ts";
import type { ShareRecord } from "./sharing-state.ts";

export const MAX_PER_CALL = 5;
export const MAX_ACCOUNTS_PER_SNAPSHOT = 64;
export const SNAPSHOT_TYPE = "Snapshot";

export interface Additions {
  readonly snapshotIds: string[];
  readonly targets: string[];
}

/** The Resources.N and Targets.N of the call, checked. */
export function additionsOf(context: SharingContext, share: Pick<ShareRecord, "allowExternalTargets" | "resources" | "targets"> | undefined, allowExternal: boolean): Additions {
  const { params, runtime, accountId } = context;
  const indexes = params.indexes("Resources");
  if (indexes.length > MAX_PER_CALL) throw ecsError("InvalidParameter.Resources", `At most ${MAX_PER_CALL} resources can be associated in one call.`, 400);
  const snapshotIds = indexes.map((index) => {
    const id = params.required(`Resources.${index}.ResourceId`);
    const type = params.required(`Resources.${index}.ResourceType`);
    if (type !== SNAPSHOT_TYPE) throw ecsError("InvalidParameter.ResourceType", `The resource type ${type} is not shareable here; the emulator shares ${SNAPSHOT_TYPE} only.`, 400);
    return id;
  });
  const targets = params.list("Targets");
  if (targets.length > MAX_PER_CALL) throw ecsError("InvalidParameter.Targets", `At most ${MAX_PER_CALL} targets can be associated in one call.`, 400);
  for (const target of targets) {
    if (!ACCOUNT_ID.test(target)) throw invalidParameter("Targets");
    if (target === accountId) throw ecsError("InvalidParameter.Targets", "A resource share cannot target its owner's own account.", 400);
  }
  if (targets.length > 0 && !allowExternal) throw ecsError("AccountNotInResourceDirectory", "The account is not a master or a member of a resource directory.", 409);
  const world = runtime.worldOf(accountId);
  for (const id of snapshotIds) {
    const snapshot = world.snapshots.get(id);
    if (snapshot === undefined || snapshot.sharedFrom !== undefined) throw ecsError("EntityNotExists.Resource", `The resource ${id} does not exist in this account.`, 404);
    if (snapshot.encrypted === true && (snapshot.kmsKeyId ?? SERVICE_KEY_ID) === SERVICE_KEY_ID) {
      throw ecsError("UnsupportedOperation.ServiceKeyEncrypted", `The snapshot ${id} is encrypted with the service key and cannot be shared; share a snapshot encrypted with a customer key, or not encrypted.`, 400);
    }
  }
  // The limit counts accounts per snapshot across every share, after this call.
  const allResources = new Set([...(share?.resources.map((resource) => resource.resourceId) ?? []), ...snapshotIds]);
  const allTargets = new Set([...(share?.targets.map((target) => target.accountId) ?? []), ...targets]);
  for (const id of allResources) {
    const accounts = new Set([...runtime.sharing.accountsSharing(accountId, id), ...allTargets]);
    if (accounts.size > MAX_ACCOUNTS_PER_SNAPSHOT) throw ecsError("ExceedLimit.SharedAccounts", `The snapshot ${id} would be shared with ${accounts.size} accounts; at most ${MAX_ACCOUNTS_PER_SNAPSHOT} are allowed.`, 400);
  }
  return { snapshotIds, targets };
}
