/**
 * The port to Alibaba Cloud Resource Sharing for ECS snapshots (API 2020-01-10): what an export
 * needs on the sharing side (a named share holding the snapshots, with the target accounts) and
 * what a restore needs on the receiving side (the invitations, accepting them, what is shared with
 * this account). Errors leave it classified as the disk port's do (core/cloud-errors.ts).
 *
 * Every call that writes reads first, so an export or restore step that runs again after a crash
 * acts only on what is missing: `ensureShare` finds the share by name before it creates one, and
 * associates only the snapshots and accounts the share does not hold yet.
 */

export interface ShareInput {
  /** 1-50 letters, digits, `.`, `_`, `-`; the share is found again by this name. */
  readonly name: string;
  readonly snapshotIds: readonly string[];
  /** Alibaba Cloud account ids (digits). */
  readonly targetAccounts: readonly string[];
}

export interface ResourceShare {
  readonly shareId: string;
  readonly name: string;
  readonly status: string;
  /**
   * The account that owns it (ResourceShareOwner): the account an export ran in, which a restore
   * names as its source (`zoneferry.io/restore-from: <account>/<export id>`).
   */
  readonly ownerAccountId: string;
}

export type InvitationStatus = "Pending" | "Accepted" | "Rejected" | "Expired";

export interface ShareInvitation {
  readonly invitationId: string;
  readonly shareId: string;
  readonly shareName: string;
  readonly senderAccountId: string;
  readonly status: InvitationStatus | (string & {});
}

/** A snapshot another account shares with this one (the owner's id; this account sees it under another id, by name). */
export interface SharedSnapshot {
  readonly ownerSnapshotId: string;
  readonly shareId: string;
}

export interface SnapshotSharing {
  /** The share of this name, made if absent, holding at least these snapshots and accounts. */
  ensureShare(input: ShareInput): Promise<ResourceShare>;
  /** Invitations this account received, every status. */
  receivedInvitations(): Promise<readonly ShareInvitation[]>;
  acceptInvitation(invitationId: string): Promise<void>;
  /** Snapshots shared with this account through accepted invitations. */
  sharedWithMe(): Promise<readonly SharedSnapshot[]>;
  /** Stops sharing everything the share holds; absent is done. */
  deleteShare(shareId: string): Promise<void>;
}
