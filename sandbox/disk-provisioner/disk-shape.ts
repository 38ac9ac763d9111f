/**
 * What disk a claim gets: the category (the first of the class's `type` list the zone sells), the
 * performance level, and the size (the request in whole GiB, raised to what the category accepts),
 * with the limits of the CSI driver's `pkg/disk/category.go`.
 */

const GIB = 1024 ** 3;

/** The categories with performance levels; ECS creates PL1 when none is asked for. */
const LEVELLED_CATEGORY = "cloud_essd";
const DEFAULT_PERFORMANCE_LEVEL = "PL1";

/** Smallest size in GiB per category; ESSD's depends on its level (see PL_MINIMUM_GIB). */
const MINIMUM_GIB: Readonly<Record<string, number>> = {
  cloud_auto: 1,
  cloud_essd_entry: 10,
  cloud_regional_disk_auto: 10,
  cloud_ssd: 20,
  cloud_efficiency: 20,
};
const PL_MINIMUM_GIB: Readonly<Record<string, number>> = { PL0: 1, PL1: 20, PL2: 461, PL3: 1261 };
/** A category the table does not know gets the common floor of the classic categories. */
const FALLBACK_MINIMUM_GIB = 20;

/** A class without `type` gets the driver's "available" order: the best category the zone sells. */
const DEFAULT_CATEGORIES: readonly string[] = ["cloud_essd", "cloud_ssd", "cloud_efficiency"];

/** Decimal and binary suffixes of Kubernetes quantities, as multipliers of one byte. */
const SUFFIXES: Readonly<Record<string, number>> = {
  "": 1,
  k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 1024, Mi: 1024 ** 2, Gi: GIB, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6,
};
const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;

/** The categories a StorageClass asks for, in its order of preference. */
export function wantedCategories(parameters: Readonly<Record<string, string>> | undefined): string[] {
  const listed = (parameters?.["type"] ?? "").split(",").map((category) => category.trim()).filter((category) => category !== "");
  return listed.length > 0 ? listed : [...DEFAULT_CATEGORIES];
}

/** The first wanted category the zone sells, or undefined when it sells none of them. */
export function chooseCategory(wanted: readonly string[], offered: ReadonlySet<string>): string | undefined {
  return wanted.find((category) => offered.has(category));
}

/** The level to create `category` at: the class's for ESSD (PL1 by default), none for the rest. */
export function performanceLevelFor(category: string, parameters: Readonly<Record<string, string>> | undefined): string | undefined {
  if (category !== LEVELLED_CATEGORY) return undefined;
  const asked = parameters?.["performanceLevel"]?.trim();
  return asked === undefined || asked === "" ? DEFAULT_PERFORMANCE_LEVEL : asked;
}

/** Smallest disk ECS creates for the category at the level. */
export function minimumSizeGiB(category: string, performanceLevel: string | undefined): number {
  if (category === LEVELLED_CATEGORY) return PL_MINIMUM_GIB[performanceLevel ?? DEFAULT_PERFORMANCE_LEVEL] ?? PL_MINIMUM_GIB[DEFAULT_PERFORMANCE_LEVEL]!;
  return MINIMUM_GIB[category] ?? FALLBACK_MINIMUM_GIB;
}

/** A storage quantity ("20Gi", "1.5G", "1e9") in whole GiB, rounded up; throws on anything else. */
export function quantityInGiB(quantity: string): number {
  const match = QUANTITY.exec(quantity.trim());
  if (match === null) throw new Error(`"${quantity}" is not a storage quantity`);
  const bytes = Number(match[1]) * 10 ** Number(match[2] ?? 0) * SUFFIXES[match[3] ?? ""]!;
  // A few bytes over a GiB boundary from float error must not buy a whole extra GiB.
  return Math.ceil(Math.round(bytes) / GIB);
}

/** Size to create: the request in GiB, raised to the category's minimum. */
export function diskSizeGiB(requested: string | undefined, category: string, performanceLevel: string | undefined): number {
  const asked = requested === undefined ? 0 : quantityInGiB(requested);
  return Math.max(asked, minimumSizeGiB(category, performanceLevel));
}

/** The PV's `csi.alibabacloud.com/disktype` value: `cloud_essd.PL1`, or the bare category. */
export function diskTypeLabel(category: string, performanceLevel: string | undefined): string {
  return performanceLevel === undefined ? category : `${category}.${performanceLevel}`;
}
