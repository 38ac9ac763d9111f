/**
 * What a new disk takes over from its source besides category, level and size: encryption and
 * its KMS key, an AutoPL disk's provisioned IOPS and bursting, multi-attach, the resource group,
 * and the source's own tags. Shared by admission (can the new disk carry them all?) and the
 * runner's create-disks step (create it so), so the two never disagree.
 */
import type { DiskAttributes, DiskRecord } from "./disk-cloud.ts";

/** ECS's limit of tags on one disk (CreateDisk refuses more with InvalidTagCount). */
export const MAX_DISK_TAGS = 20;

/** Tags zoneferry adds to every new disk: migration id, run and claim (runner/context.ts cloudTags). */
export const OWN_TAG_COUNT = 3;

const OWN_TAG_PREFIX = "zoneferry.io/";

/**
 * ACK's CSI tag naming the PV a disk was provisioned for. The new disk gets another PV (named
 * after the disk), so the source's value would name a PV that is about to go.
 */
const VOLUME_NAME_TAG = "csi.alibabacloud.com/volume-name";

/** Keys and values ECS refuses to write (its own `aliyun`/`acs:` namespaces, URLs): only ECS sets those. */
function writable(key: string, value: string): boolean {
  return !/^(aliyun|acs:)/i.test(key) && !/https?:\/\//i.test(key) && !/^acs:/i.test(value) && !/https?:\/\//i.test(value);
}

/**
 * The source tags a new disk is given: all of them but ECS's reserved ones, a previous run's
 * `zoneferry.io/` ones (this run sets its own) and the CSI volume-name tag.
 */
export function carriedTags(source: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(source).filter(([key, value]) => writable(key, value) && !key.startsWith(OWN_TAG_PREFIX) && key !== VOLUME_NAME_TAG));
}

/** The new disk's tags: the source's carried ones with zoneferry's own on top. */
export function newDiskTags(source: Readonly<Record<string, string>>, own: Readonly<Record<string, string>>): Record<string, string> {
  return { ...carriedTags(source), ...own };
}

/** How many carried tags too many the source has for the new disk to take them and zoneferry's (0 when they fit). */
export function excessTags(source: Readonly<Record<string, string>>): number {
  return Math.max(0, Object.keys(carriedTags(source)).length + OWN_TAG_COUNT - MAX_DISK_TAGS);
}

/**
 * The attributes to create the new disk with. Only what differs from ECS's defaults is sent, so a
 * plain source makes a plain CreateDisk. A disk made from an encrypted disk's snapshot is encrypted
 * anyway (ECS's rule); the key is named so it is the source's, not the region's default.
 */
export function carriedAttributes(source: DiskRecord): Partial<DiskAttributes> {
  return {
    ...(source.encrypted ? { encrypted: true } : {}),
    ...(source.encrypted && source.kmsKeyId !== undefined ? { kmsKeyId: source.kmsKeyId } : {}),
    ...(source.provisionedIops !== undefined && source.provisionedIops > 0 ? { provisionedIops: source.provisionedIops } : {}),
    ...(source.burstingEnabled ? { burstingEnabled: true } : {}),
    ...(source.multiAttach ? { multiAttach: true } : {}),
    ...(source.resourceGroupId === undefined ? {} : { resourceGroupId: source.resourceGroupId }),
  };
}
