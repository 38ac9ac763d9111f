/**
 * CreateResourceShare, AssociateResourceShare, DisassociateResourceShare, DeleteResourceShare.
 * Each new target gets an invitation that expires 7 days (cloud time) later; the receivers' copies
 * of shared snapshots follow every change (runtime.syncShared).
 */
import { randomBytes } from "node:crypto";
import { ecsError } from "../errors.ts";
import type { ActionResult } from "../actions/context.ts";
import type { SharingActionSpec, SharingContext } from "./context.ts";
import { additionsOf, SNAPSHOT_TYPE, type Additions } from "./share-checks.ts";
import type { ShareRecord } from "./sharing-state.ts";
import { shareView } from "./views.ts";

const DAY_MS = 86_400_000;
const INVITATION_DAYS = 7;
const NAME = /^[A-Za-z0-9._-]{1,50}$/;
export const DEFAULT_PERMISSION = "AliyunRSDefaultPermissionSnapshot";

export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(9).toString("base64url").replace(/[-_]/g, "x")}`;
}

/** The caller's active share of that id, or the error Resource Sharing answers. */
export function ownShare(context: SharingContext): ShareRecord {
  const shareId = context.params.required("ResourceShareId");
  const share = context.runtime.sharing.shares.get(shareId);
  if (share?.owner !== context.accountId || share.status !== "Active") throw ecsError("EntityNotExists.ResourceShare", `The resource share ${shareId} does not exist.`, 404);
  return share;
}

function add(context: SharingContext, share: ShareRecord, additions: Additions): void {
  const { now, runtime } = context;
  for (const id of additions.snapshotIds) {
    if (!share.resources.some((resource) => resource.resourceId === id)) share.resources.push({ resourceId: id, resourceType: SNAPSHOT_TYPE, associatedAt: now });
  }
  for (const accountId of additions.targets) {
    if (share.targets.some((target) => target.accountId === accountId)) continue;
    share.targets.push({ accountId, associatedAt: now });
    const invitationId = newId("i");
    runtime.sharing.invitations.set(invitationId, { invitationId, shareId: share.shareId, sender: share.owner, receiver: accountId, createdAt: now, expiresAt: now + runtime.clock.scaled(INVITATION_DAYS * DAY_MS), status: "Pending" });
  }
  share.updatedAt = now;
  runtime.sharing.touch();
  runtime.syncShared();
}

function create(context: SharingContext): ActionResult {
  const { params, now, accountId } = context;
  const name = params.required("ResourceShareName");
  if (!NAME.test(name)) throw ecsError("InvalidParameter.ResourceShareName", "The ResourceShareName must be 1 to 50 letters, digits, periods (.), underscores (_) and hyphens (-).", 400);
  const allowExternal = params.boolean("AllowExternalTargets", () => ecsError("InvalidParameter.AllowExternalTargets", undefined, 400)) ?? false;
  const additions = additionsOf(context, undefined, allowExternal);
  const permissions = params.list("PermissionNames");
  const share: ShareRecord = { shareId: newId("rs"), name, owner: accountId, status: "Active", allowExternalTargets: allowExternal, permissionNames: permissions.length === 0 ? [DEFAULT_PERMISSION] : permissions, createdAt: now, updatedAt: now, resources: [], targets: [] };
  context.runtime.sharing.shares.set(share.shareId, share);
  add(context, share, additions);
  return { ResourceShare: shareView(share) };
}

function associate(context: SharingContext): ActionResult {
  const share = ownShare(context);
  add(context, share, additionsOf(context, share, share.allowExternalTargets));
  return { ResourceShareAssociations: [] };
}

function disassociate(context: SharingContext): ActionResult {
  const { params, runtime, now } = context;
  const share = ownShare(context);
  const resources = new Set(params.indexes("Resources").map((index) => params.required(`Resources.${index}.ResourceId`)));
  const targets = new Set(params.list("Targets"));
  share.resources = share.resources.filter((resource) => !resources.has(resource.resourceId));
  share.targets = share.targets.filter((target) => !targets.has(target.accountId));
  share.updatedAt = now;
  runtime.sharing.touch();
  runtime.syncShared();
  return { ResourceShareAssociations: [] };
}

function remove(context: SharingContext): ActionResult {
  const share = ownShare(context);
  share.status = "Deleted";
  share.updatedAt = context.now;
  context.runtime.sharing.touch();
  context.runtime.syncShared();
  return {};
}

export const SHARE_WRITES: readonly SharingActionSpec[] = [
  { name: "CreateResourceShare", handle: create },
  { name: "AssociateResourceShare", handle: associate },
  { name: "DisassociateResourceShare", handle: disassociate },
  { name: "DeleteResourceShare", handle: remove },
];
