/**
 * The list calls (ListResourceShares, ListSharedResources, ListSharedTargets,
 * ListResourceShareInvitations) and the receiver's answers to an invitation (Accept, Reject).
 * Lists page with MaxResults (1-100, default 20) and an opaque NextToken (the offset here).
 */
import { ecsError } from "../errors.ts";
import type { ActionResult } from "../actions/context.ts";
import type { SharingActionSpec, SharingContext } from "./context.ts";
import { SharingState, type InvitationRecord } from "./sharing-state.ts";
import { invitationView, iso, shareView } from "./views.ts";

function page<T>(context: SharingContext, items: readonly T[], key: string, view: (item: T) => unknown): ActionResult {
  const size = context.params.integer("MaxResults", () => ecsError("InvalidParameter.MaxResults", undefined, 400)) ?? 20;
  if (size < 1 || size > 100) throw ecsError("InvalidParameter.MaxResults", "MaxResults must be from 1 to 100.", 400);
  const token = context.params.optional("NextToken");
  const start = token === undefined || token === "" ? 0 : Number(token);
  if (!Number.isInteger(start) || start < 0) throw ecsError("InvalidParameter.NextToken", undefined, 400);
  const slice = items.slice(start, start + size);
  return { [key]: slice.map(view), NextToken: start + size < items.length ? String(start + size) : "" };
}

/** ResourceShareIds.N, or a single ResourceShareIds value, filters a list by share. */
function shareFilter(context: SharingContext): ReadonlySet<string> | undefined {
  const listed = context.params.list("ResourceShareIds");
  const single = context.params.optional("ResourceShareIds");
  const ids = [...listed, ...(single === undefined ? [] : [single])];
  return ids.length === 0 ? undefined : new Set(ids);
}

function owner(context: SharingContext): "Self" | "OtherAccounts" {
  const value = context.params.required("ResourceOwner");
  if (value !== "Self" && value !== "OtherAccounts") throw ecsError("InvalidParameter.ResourceOwner", "ResourceOwner must be Self or OtherAccounts.", 400);
  return value;
}

function listShares(context: SharingContext): ActionResult {
  const mine = owner(context) === "Self";
  const name = context.params.optional("ResourceShareName");
  const filter = shareFilter(context);
  const received = new Set(context.runtime.sharing.grants(context.accountId).map((grant) => grant.shareId));
  const shares = [...context.runtime.sharing.shares.values()].filter((share) =>
    (mine ? share.owner === context.accountId : received.has(share.shareId)) && (name === undefined || share.name === name) && (filter === undefined || filter.has(share.shareId)));
  return page(context, shares, "ResourceShares", shareView);
}

function listSharedResources(context: SharingContext): ActionResult {
  const filter = shareFilter(context);
  const type = context.params.optional("ResourceType");
  const rows = owner(context) === "Self"
    ? context.runtime.sharing.activeShares().filter((share) => share.owner === context.accountId).flatMap((share) => share.resources.map((resource) => ({ shareId: share.shareId, ...resource })))
    : context.runtime.sharing.grants(context.accountId).map((grant) => ({ shareId: grant.shareId, resourceId: grant.snapshotId, resourceType: "Snapshot", associatedAt: context.runtime.sharing.shares.get(grant.shareId)?.updatedAt ?? 0 }));
  const picked = rows.filter((row) => (filter === undefined || filter.has(row.shareId)) && (type === undefined || row.resourceType === type));
  return page(context, picked, "SharedResources", (row) => ({ ResourceId: row.resourceId, ResourceType: row.resourceType, ResourceShareId: row.shareId, CreateTime: iso(row.associatedAt) }));
}

function listSharedTargets(context: SharingContext): ActionResult {
  const filter = shareFilter(context);
  owner(context);
  const rows = context.runtime.sharing.activeShares()
    .filter((share) => share.owner === context.accountId && (filter === undefined || filter.has(share.shareId)))
    .flatMap((share) => share.targets.map((target) => ({ shareId: share.shareId, ...target })));
  return page(context, rows, "SharedTargets", (row) => ({ TargetId: row.accountId, ResourceShareId: row.shareId, CreateTime: iso(row.associatedAt) }));
}

function listInvitations(context: SharingContext): ActionResult {
  const { runtime, accountId, now } = context;
  const invitations = [...runtime.sharing.invitations.values()].filter((invitation) => invitation.receiver === accountId);
  return page(context, invitations, "ResourceShareInvitations", (invitation) => invitationView(invitation, runtime.sharing.shares.get(invitation.shareId), now));
}

/** The caller's invitation of that id, still Pending and not expired. */
function pendingInvitation(context: SharingContext): InvitationRecord {
  const id = context.params.required("ResourceShareInvitationId");
  const invitation = context.runtime.sharing.invitations.get(id);
  if (invitation?.receiver !== context.accountId) throw ecsError("EntityNotExists.ResourceShareInvitation", `The resource sharing invitation ${id} does not exist.`, 404);
  const status = SharingState.statusAt(invitation, context.now);
  if (status === "Expired") throw ecsError("InvalidInvitation.Expired", `The resource sharing invitation ${id} expired on ${iso(invitation.expiresAt)}; ask the owner to share again.`, 400);
  if (status !== "Pending") throw ecsError("InvalidInvitation.Status", `The resource sharing invitation ${id} is ${status}.`, 400);
  return invitation;
}

function answer(status: "Accepted" | "Rejected"): (context: SharingContext) => ActionResult {
  return (context) => {
    const invitation = pendingInvitation(context);
    invitation.status = status;
    context.runtime.sharing.touch();
    context.runtime.syncShared();
    return { ResourceShareInvitation: invitationView(invitation, context.runtime.sharing.shares.get(invitation.shareId), context.now) };
  };
}

export const SHARE_READS: readonly SharingActionSpec[] = [
  { name: "ListResourceShares", handle: listShares },
  { name: "ListSharedResources", handle: listSharedResources },
  { name: "ListSharedTargets", handle: listSharedTargets },
  { name: "ListResourceShareInvitations", handle: listInvitations },
  { name: "AcceptResourceShareInvitation", handle: answer("Accepted") },
  { name: "RejectResourceShareInvitation", handle: answer("Rejected") },
];
