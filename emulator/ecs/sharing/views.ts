/** Resource Sharing's answer shapes, PascalCase with ISO times, as its API reference shows them. */
import type { InvitationRecord, ShareRecord } from "./sharing-state.ts";
import { SharingState } from "./sharing-state.ts";

const iso = (ms: number): string => new Date(ms).toISOString();

export function shareView(share: ShareRecord): Record<string, unknown> {
  return {
    ResourceShareId: share.shareId,
    ResourceShareName: share.name,
    ResourceShareOwner: share.owner,
    ResourceShareStatus: share.status,
    AllowExternalTargets: share.allowExternalTargets,
    CreateTime: iso(share.createdAt),
    UpdateTime: iso(share.updatedAt),
  };
}

export function invitationView(invitation: InvitationRecord, share: ShareRecord | undefined, now: number): Record<string, unknown> {
  return {
    ResourceShareInvitationId: invitation.invitationId,
    ResourceShareId: invitation.shareId,
    ResourceShareName: share?.name ?? "",
    SenderAccountId: invitation.sender,
    ReceiverAccountId: invitation.receiver,
    Status: SharingState.statusAt(invitation, now),
    CreateTime: iso(invitation.createdAt),
  };
}

export { iso };
