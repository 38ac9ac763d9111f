/**
 * Resource Sharing's records: resource shares (an owner, its snapshots, its target accounts) and
 * the invitation each target receives. Plain JSON, persisted with the worlds. What a receiving
 * account may use follows from them (`grants`): the snapshots of an active share whose invitation
 * it accepted. runtime.ts turns grants into snapshots in the receiver's world (shared-copies.ts).
 */

export type InvitationStatus = "Pending" | "Accepted" | "Rejected";

export interface ShareRecord {
  readonly shareId: string;
  readonly name: string;
  readonly owner: string;
  status: "Active" | "Deleted";
  readonly allowExternalTargets: boolean;
  readonly permissionNames: readonly string[];
  readonly createdAt: number;
  updatedAt: number;
  resources: { readonly resourceId: string; readonly resourceType: string; readonly associatedAt: number }[];
  targets: { readonly accountId: string; readonly associatedAt: number }[];
}

export interface InvitationRecord {
  readonly invitationId: string;
  readonly shareId: string;
  readonly sender: string;
  readonly receiver: string;
  readonly createdAt: number;
  /** Pending past this moment reads as Expired: it can no longer be accepted. */
  readonly expiresAt: number;
  status: InvitationStatus;
}

export interface SharingData {
  readonly shares: readonly ShareRecord[];
  readonly invitations: readonly InvitationRecord[];
}

/** A snapshot an account may use because another shares it. */
export interface Grant {
  readonly owner: string;
  readonly snapshotId: string;
  readonly shareId: string;
}

export class SharingState {
  readonly shares = new Map<string, ShareRecord>();
  readonly invitations = new Map<string, InvitationRecord>();
  #version = 0;

  get version(): number {
    return this.#version;
  }

  touch(): void {
    this.#version++;
  }

  /** The status a user sees at `now`: a Pending invitation past its expiry is Expired. */
  static statusAt(invitation: InvitationRecord, now: number): InvitationStatus | "Expired" {
    return invitation.status === "Pending" && now >= invitation.expiresAt ? "Expired" : invitation.status;
  }

  activeShares(): ShareRecord[] {
    return [...this.shares.values()].filter((share) => share.status === "Active");
  }

  /** Whether the owner's snapshot is in one of its active shares (ECS refuses to delete it then). */
  isShared(owner: string, snapshotId: string): boolean {
    return this.activeShares().some((share) => share.owner === owner && share.resources.some((resource) => resource.resourceId === snapshotId));
  }

  /** Every account the owner's snapshot is shared with, across its active shares. */
  accountsSharing(owner: string, snapshotId: string): Set<string> {
    const accounts = new Set<string>();
    for (const share of this.activeShares()) {
      if (share.owner !== owner || !share.resources.some((resource) => resource.resourceId === snapshotId)) continue;
      for (const target of share.targets) accounts.add(target.accountId);
    }
    return accounts;
  }

  /** What `receiver` may use: the snapshots of active shares whose invitation to it it accepted. */
  grants(receiver: string): Grant[] {
    const accepted = new Set([...this.invitations.values()].filter((invitation) => invitation.receiver === receiver && invitation.status === "Accepted").map((invitation) => invitation.shareId));
    return this.activeShares()
      .filter((share) => accepted.has(share.shareId) && share.targets.some((target) => target.accountId === receiver))
      .flatMap((share) => share.resources.map((resource) => ({ owner: share.owner, snapshotId: resource.resourceId, shareId: share.shareId })));
  }

  clear(): void {
    this.shares.clear();
    this.invitations.clear();
    this.touch();
  }

  toData(): SharingData {
    return { shares: [...this.shares.values()], invitations: [...this.invitations.values()] };
  }

  static fromData(data: SharingData | undefined): SharingState {
    const state = new SharingState();
    for (const share of data?.shares ?? []) state.shares.set(share.shareId, structuredClone(share));
    for (const invitation of data?.invitations ?? []) state.invitations.set(invitation.invitationId, { ...invitation });
    return state;
  }
}
