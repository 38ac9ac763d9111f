/**
 * A snapshot shared with an account shows in that account's world under an id of its own, with
 * the owner's name, size and encryption, and the owner's content: the receiving account finds it
 * by name, describes it and makes disks from it like its own. Level-triggered: after any change
 * of the shares, each account holds exactly the copies its grants call for.
 */
import { createHash } from "node:crypto";
import type { EmulatorRuntime } from "../runtime.ts";
import type { SnapshotRecord } from "../world.ts";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** The receiving account's id for the owner's snapshot: stable, so a grant made again names the same copy. */
export function sharedSnapshotId(ownerSnapshotId: string, receiver: string): string {
  const digest = createHash("sha256").update(`${ownerSnapshotId}\n${receiver}`).digest();
  const prefix = ownerSnapshotId.slice(2, 4);
  let text = "";
  for (let index = 0; text.length < 20 - prefix.length; index++) text += ALPHABET.charAt(digest[index % digest.length]! % ALPHABET.length);
  return `s-${prefix}${text}`;
}

export function syncSharedCopies(runtime: EmulatorRuntime): void {
  // An account that has never called ECS has no world yet: one it is granted snapshots in is made.
  const accounts = new Set([...runtime.worlds().map(([accountId]) => accountId), ...[...runtime.sharing.invitations.values()].map((invitation) => invitation.receiver)]);
  for (const accountId of accounts) {
    const world = runtime.worldOf(accountId);
    const wanted = new Map<string, { readonly owner: string; readonly original: SnapshotRecord }>();
    for (const grant of runtime.sharing.grants(accountId)) {
      const original = runtime.worldOf(grant.owner).snapshots.get(grant.snapshotId);
      if (original !== undefined) wanted.set(sharedSnapshotId(original.snapshotId, accountId), { owner: grant.owner, original });
    }
    for (const snapshot of [...world.snapshots.values()]) {
      if (snapshot.sharedFrom !== undefined && !wanted.has(snapshot.snapshotId)) world.removeSnapshot(snapshot.snapshotId);
    }
    for (const [id, { owner, original }] of wanted) {
      if (world.snapshots.has(id)) continue;
      // An owner's own snapshot has no sharedFrom: the copy's is set below.
      world.snapshots.set(id, {
        ...original,
        snapshotId: id,
        seq: world.nextSeq(),
        tags: [],
        usedByDisks: [],
        retentionDays: null,
        expiresAt: null,
        sharedFrom: { accountId: owner, snapshotId: original.snapshotId },
      });
      const content = runtime.worldOf(owner).contents.get(original.snapshotId);
      if (content !== undefined) world.contents.set(id, content);
      world.touch();
    }
  }
}
