/**
 * CreateDisk: a pay-as-you-go data disk in a zone, empty or from a snapshot. The disk is Creating
 * for the modelled time, then Available; one made from a snapshot takes the snapshot's content
 * (and its encryption) and keeps initializing (refusing DeleteDisk) for a while after that.
 * Encryption, AutoPL IOPS and bursting, multi-attach and resource group: disk-attributes.ts.
 */
import { DEFAULT_PERFORMANCE_LEVEL, PERFORMANCE_LEVELS, isKnownCategory, performanceLevelSizes, sizeRange, takesPerformanceLevel } from "../categories.ts";
import { ecsError } from "../errors.ts";
import { snapshotState } from "../lifecycle.ts";
import { resourceId } from "../ids.ts";
import type { DiskRecord, SnapshotRecord } from "../world.ts";
import type { ActionContext, ActionResult, ActionSpec } from "./context.ts";
import { readAttributeParams, resolveAttributes } from "./disk-attributes.ts";
import { readDescription, readName } from "./names.ts";
import { requireRegion, zoneOf } from "./region.ts";
import { readTags } from "./tags.ts";

function readCategory(context: ActionContext): { readonly zoneId: string; readonly category: string } {
  const zoneId = context.params.required("ZoneId");
  const zone = zoneOf(context, zoneId);
  if (zone === undefined) throw ecsError("InvalidZoneId.NotFound");
  // ECS's default category is the basic disk, which few zones still sell.
  const category = context.params.optional("DiskCategory") ?? "cloud";
  if (!isKnownCategory(category)) throw ecsError("InvalidDataDiskCategory.ValueNotSupported", `The specified DiskCategory "${category}" is not valid.`);
  if (!zone.categories.includes(category)) throw ecsError("Zone.NotOnSale", `The disk category ${category} is not on sale in zone ${zoneId}.`);
  if (zone.soldOut?.includes(category) === true) throw ecsError("OperationDenied.NoStock");
  return { zoneId, category };
}

function readPerformanceLevel(context: ActionContext, category: string): string {
  const level = context.params.optional("PerformanceLevel");
  // Other categories have no levels to choose; ECS ignores the parameter for them.
  if (!takesPerformanceLevel(category)) return "";
  if (level === undefined) return DEFAULT_PERFORMANCE_LEVEL;
  if (!PERFORMANCE_LEVELS.includes(level)) throw ecsError("InvalidPerformanceLevel.Malformed");
  return level;
}

function readSnapshot(context: ActionContext): SnapshotRecord | undefined {
  const snapshotId = context.params.optional("SnapshotId");
  if (snapshotId === undefined) return undefined;
  const snapshot = context.world.snapshots.get(snapshotId);
  if (snapshot === undefined) throw ecsError("InvalidSnapshotId.NotFound");
  // Only ESSD-family snapshots (instant access) make disks before they are accomplished.
  if (!snapshotState(snapshot, context.now).available) throw ecsError("InvalidSnapshotId.NotReady");
  return snapshot;
}

function readSize(context: ActionContext, snapshot: SnapshotRecord | undefined): number {
  const size = context.params.integer("Size", () => ecsError("InvalidSize.ValueNotSupported"));
  if (snapshot === undefined) {
    if (size === undefined) throw ecsError("MissingParameter", 'The input parameter either "SnapshotId" or "Size" should be specified.');
    return size;
  }
  if (size === undefined || size >= snapshot.sourceDiskSize) return size ?? snapshot.sourceDiskSize;
  if (context.config.smallerThanSnapshot === "reject") throw ecsError("InvalidDiskSize.TooSmall");
  return snapshot.sourceDiskSize;
}

/** Throws unless `size` fits the category and level (also used when the control API seeds a disk). */
export function checkDiskSize(category: string, performanceLevel: string, size: number): void {
  const range = sizeRange(category);
  if (size < range.min || size > range.max) {
    throw ecsError("InvalidDataDiskSize.ValueNotSupported", `The specified parameter Size ${size} is not valid for ${category}: it must be ${range.min} to ${range.max} GiB.`);
  }
  if (performanceLevel === "") return;
  const levelRange = performanceLevelSizes(performanceLevel);
  if (size < levelRange.min || size > levelRange.max) {
    throw ecsError("OperationDenied.PerformanceLevelNotMatch", `The specified PerformanceLevel and disk size do not match: ${performanceLevel} needs ${levelRange.min} to ${levelRange.max} GiB, not ${size}.`);
  }
}

function zoneDelay(context: ActionContext, zoneId: string): number {
  return context.config.zones.find((zone) => zone.zoneId === zoneId)?.diskCreateDelayMs ?? 0;
}

function handle(context: ActionContext): ActionResult {
  requireRegion(context);
  const { params, world, config, clock, now } = context;
  if (params.optional("InstanceId") !== undefined) throw ecsError("InvalidInstanceId.NotFound", "The specified InstanceId does not exist (the emulator models no instances; create the disk without one).");
  const { zoneId, category } = readCategory(context);
  const performanceLevel = readPerformanceLevel(context, category);
  const snapshot = readSnapshot(context);
  const size = readSize(context, snapshot);
  checkDiskSize(category, performanceLevel, size);
  const diskName = readName(params, "DiskName", () => ecsError("InvalidDiskName.Malformed"));
  const description = readDescription(params);
  const tags = readTags(params);
  const attributes = resolveAttributes(readAttributeParams(params), category, size, snapshot);
  if (world.disks.size >= config.quotas.disks) throw ecsError("QuotaExceed.PostPaidDisk");

  const diskId = resourceId("d", config.regionId);
  const disk: DiskRecord = {
    diskId,
    seq: world.nextSeq(),
    diskName,
    description,
    zoneId,
    category,
    performanceLevel,
    size,
    tags,
    sourceSnapshotId: snapshot?.snapshotId ?? "",
    ...attributes,
    createdAt: now,
    readyAt: now + clock.durationOf(config.transitions.diskCreate, size) + clock.scaled(zoneDelay(context, zoneId)),
    initializedUntil: snapshot === undefined ? now : now + clock.scaled(config.transitions.diskInitializing.baseMs),
    instanceId: "",
    attachedAt: null,
    detachedAt: null,
    everAttached: false,
  };
  world.addDisk(disk, snapshot === undefined ? undefined : world.contents.get(snapshot.snapshotId));
  snapshot?.usedByDisks.push(diskId);
  return { DiskId: diskId };
}

export const createDisk: ActionSpec = { name: "CreateDisk", idempotent: true, handle };
