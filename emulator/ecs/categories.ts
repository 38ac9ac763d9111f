/**
 * What ECS knows about data-disk categories: which exist, which belong to the ESSD family (their
 * snapshots are usable at once), the size range each accepts and what a performance level needs.
 * Ranges are those of the SDK 7.11.6 CreateDisk `Size` documentation.
 */

/** A closed size range in GiB. */
export interface SizeRange {
  readonly min: number;
  readonly max: number;
}

/** Every data-disk category CreateDisk accepts. */
export const DISK_CATEGORIES: readonly string[] = [
  "cloud",
  "cloud_efficiency",
  "cloud_ssd",
  "cloud_essd",
  "cloud_auto",
  "cloud_essd_entry",
  "cloud_regional_disk_auto",
  "elastic_ephemeral_disk_standard",
  "elastic_ephemeral_disk_premium",
];

/**
 * Categories whose snapshots have instant access: usable (Available=true) as soon as they are
 * created, while the upload to OSS still progresses (ESSD instant access, since October 2023).
 */
export const ESSD_FAMILY: ReadonlySet<string> = new Set(["cloud_essd", "cloud_auto", "cloud_essd_entry", "cloud_regional_disk_auto"]);

export const PERFORMANCE_LEVELS: readonly string[] = ["PL0", "PL1", "PL2", "PL3"];

/** CreateDisk's default level for cloud_essd. */
export const DEFAULT_PERFORMANCE_LEVEL = "PL1";

const SIZES: Readonly<Record<string, SizeRange>> = {
  cloud: { min: 5, max: 2_000 },
  cloud_efficiency: { min: 20, max: 32_768 },
  cloud_ssd: { min: 20, max: 32_768 },
  // The whole range over all levels; the level narrows it (see PL_SIZES).
  cloud_essd: { min: 1, max: 65_536 },
  cloud_auto: { min: 1, max: 65_536 },
  cloud_essd_entry: { min: 10, max: 32_768 },
  cloud_regional_disk_auto: { min: 10, max: 65_536 },
  elastic_ephemeral_disk_standard: { min: 64, max: 8_192 },
  elastic_ephemeral_disk_premium: { min: 64, max: 8_192 },
};

const PL_SIZES: Readonly<Record<string, SizeRange>> = {
  PL0: { min: 1, max: 65_536 },
  PL1: { min: 20, max: 65_536 },
  PL2: { min: 461, max: 65_536 },
  PL3: { min: 1_261, max: 65_536 },
};

/** Largest IOPS per level, and the per-GiB slope ECS documents for ESSDs. */
const PL_IOPS: Readonly<Record<string, { readonly perGiB: number; readonly max: number }>> = {
  PL0: { perGiB: 12, max: 10_000 },
  PL1: { perGiB: 50, max: 50_000 },
  PL2: { perGiB: 50, max: 100_000 },
  PL3: { perGiB: 50, max: 1_000_000 },
};

const CATEGORY_IOPS: Readonly<Record<string, { readonly perGiB: number; readonly max: number }>> = {
  cloud: { perGiB: 0, max: 300 },
  cloud_efficiency: { perGiB: 8, max: 5_000 },
  cloud_ssd: { perGiB: 30, max: 25_000 },
  cloud_auto: { perGiB: 50, max: 50_000 },
  cloud_essd_entry: { perGiB: 8, max: 6_000 },
  cloud_regional_disk_auto: { perGiB: 50, max: 50_000 },
};

export function isKnownCategory(category: string): boolean {
  return DISK_CATEGORIES.includes(category);
}

export function hasInstantAccess(category: string): boolean {
  return ESSD_FAMILY.has(category);
}

/** Only cloud_essd has performance levels a caller chooses. */
export function takesPerformanceLevel(category: string): boolean {
  return category === "cloud_essd";
}

export function sizeRange(category: string): SizeRange {
  return SIZES[category] ?? { min: 1, max: 65_536 };
}

export function performanceLevelSizes(level: string): SizeRange {
  return PL_SIZES[level] ?? { min: 1, max: 65_536 };
}

/** The IOPS DescribeDisks reports: 1,800 plus a per-GiB slope, capped per category or level. */
export function iopsOf(category: string, sizeGiB: number, performanceLevel: string | undefined): number {
  const model = (performanceLevel === undefined ? undefined : PL_IOPS[performanceLevel]) ?? CATEGORY_IOPS[category] ?? { perGiB: 0, max: 0 };
  return Math.min(1_800 + model.perGiB * sizeGiB, model.max);
}

/** The one category with provisioned IOPS and bursting (ESSD AutoPL). */
export const AUTO_PL_CATEGORY = "cloud_auto";

/** Categories a disk can be made multi-attach in (ESSD Entry cannot). */
const MULTI_ATTACH: ReadonlySet<string> = new Set(["cloud_essd", "cloud_auto", "cloud_regional_disk_auto"]);

export function takesMultiAttach(category: string): boolean {
  return MULTI_ATTACH.has(category);
}

/**
 * The IOPS an AutoPL disk may provision (SDK CreateDisk `ProvisionedIops`): none up to 3 GiB,
 * then 0..min(1,000 × GiB − baseline, 50,000), baseline = max(min(1,800 + 50 × GiB, 50,000), 3,000).
 */
export function provisionedIopsMax(sizeGiB: number): number {
  if (sizeGiB <= 3) return 0;
  const baseline = Math.max(Math.min(1_800 + 50 * sizeGiB, 50_000), 3_000);
  return Math.max(0, Math.min(1_000 * sizeGiB - baseline, 50_000));
}
