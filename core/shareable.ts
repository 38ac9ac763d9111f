/**
 * Whether a disk's snapshots can be shared with another account, judged before an export takes
 * them, so a disk that cannot go is refused up front with what to do rather than after the
 * replicas were stopped and the snapshots taken. Resource Sharing refuses snapshots encrypted with
 * ECS's service key (the account's Default Service CMK, alias/acs/ecs, one per region), and a
 * snapshot is encrypted with its disk's key, so the disk tells.
 *
 * ECS reports the service key's id as the KMSKeyId of a disk encrypted without one, and nothing in
 * DescribeDisks tells it from a customer key's: the caller names it (`serviceKeyId`). The rule is
 * the emulator's (emulator/ecs/sharing/share-checks.ts): encrypted, and with no key reported or
 * the service key.
 */
import type { DiskRecord } from "./disk-cloud.ts";

type EncryptionOf = Pick<DiskRecord, "diskId" | "encrypted" | "kmsKeyId">;

/**
 * Why the disk's snapshots cannot be shared, as a sentence a user can act on; undefined when they
 * can. `serviceKeyId`: the region's ECS service key, undefined when not known (then only a disk
 * ECS reports no key for is caught, and Resource Sharing refuses the others when asked).
 */
export function unshareableBecause(disk: EncryptionOf, serviceKeyId: string | undefined): string | undefined {
  if (!encryptedWithServiceKey(disk, serviceKeyId)) return undefined;
  const key = disk.kmsKeyId === undefined ? "" : ` (${disk.kmsKeyId})`;
  return `disk ${disk.diskId} is encrypted with ECS's service key${key}, and snapshots so encrypted cannot be shared with another account: `
    + "re-encrypt it with a customer KMS key (copy a snapshot of it with CopySnapshot, Encrypted=true and your KMSKeyId, and give its claim a disk made from the copy) "
    + "or export without it";
}

/** An encrypted disk whose key ECS does not report is taken for the service key, as the emulator takes its snapshots. */
function encryptedWithServiceKey(disk: EncryptionOf, serviceKeyId: string | undefined): boolean {
  return disk.encrypted && (disk.kmsKeyId === undefined || disk.kmsKeyId === serviceKeyId);
}
