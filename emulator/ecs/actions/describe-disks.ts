/**
 * DescribeDisks: the region's disks, filtered (every given filter must hold), newest first, paged
 * by MaxResults (10..500, clamped) and NextToken or by the deprecated PageNumber/PageSize.
 */
import { isKnownCategory } from "../categories.ts";
import { ecsError, invalidParameter } from "../errors.ts";
import { diskStatus } from "../lifecycle.ts";
import type { DiskRecord } from "../world.ts";
import { stopIfDryRun, type ActionContext, type ActionResult, type ActionSpec } from "./context.ts";
import { pageOf, readPaging } from "./paging.ts";
import { REGION_ERRORS, requireRegion, zoneOf } from "./region.ts";
import { matchesTags, readTagFilter, type TagFilter } from "./tags.ts";
import { diskView } from "./views.ts";

const STATUSES = ["In_use", "Available", "Attaching", "Detaching", "Creating", "ReIniting"];

interface DiskFilter {
  readonly diskIds: ReadonlySet<string> | undefined;
  readonly zoneId: string | undefined;
  readonly category: string | undefined;
  readonly status: string | undefined;
  readonly systemOnly: boolean;
  readonly instanceId: string | undefined;
  readonly snapshotId: string | undefined;
  readonly diskName: string | undefined;
  readonly portable: boolean | undefined;
  readonly encrypted: boolean | undefined;
  readonly tags: readonly TagFilter[];
}

function readEnumerations(context: ActionContext): Pick<DiskFilter, "zoneId" | "category" | "status" | "systemOnly"> {
  const { params } = context;
  const zoneId = params.optional("ZoneId");
  if (zoneId !== undefined && zoneOf(context, zoneId) === undefined) throw ecsError("InvalidZoneId.NotFound", "The zoneId provided does not exist in our records.", 400);
  const category = params.optional("Category");
  if (category !== undefined && category !== "all" && !isKnownCategory(category)) throw ecsError("InvalidCategory.ValueNotSupported");
  const status = params.optional("Status");
  if (status !== undefined && status.toLowerCase() !== "all" && !STATUSES.includes(status)) throw ecsError("InvalidStatus.ValueNotSupported");
  const diskType = params.optional("DiskType")?.toLowerCase();
  if (diskType !== undefined && !["all", "system", "data"].includes(diskType)) throw ecsError("InvalidDiskType.ValueNotSupported");
  return {
    zoneId,
    category: category === "all" ? undefined : category,
    status: status?.toLowerCase() === "all" ? undefined : status,
    systemOnly: diskType === "system",
  };
}

function readFilter(context: ActionContext): DiskFilter {
  const { params } = context;
  const diskIds = params.idList("DiskIds", 100, { malformed: () => ecsError("InvalidParameter.DiskIds"), tooMany: () => ecsError("InvalidDiskIds.Malformed") });
  return {
    ...readEnumerations(context),
    diskIds: diskIds === undefined ? undefined : new Set(diskIds),
    instanceId: params.optional("InstanceId"),
    snapshotId: params.optional("SnapshotId"),
    diskName: params.optional("DiskName"),
    portable: params.boolean("Portable", () => invalidParameter("Portable")),
    encrypted: params.boolean("Encrypted", () => invalidParameter("Encrypted")),
    tags: readTagFilter(params),
  };
}

function matches(disk: DiskRecord, filter: DiskFilter, now: number): boolean {
  const status = diskStatus(disk, now);
  const checks = [
    filter.diskIds === undefined || filter.diskIds.has(disk.diskId),
    filter.zoneId === undefined || filter.zoneId === disk.zoneId,
    filter.category === undefined || filter.category === disk.category,
    filter.status === undefined || filter.status === status,
    // Every emulated disk is a removable pay-as-you-go data disk.
    !filter.systemOnly && filter.portable !== false,
    filter.instanceId === undefined || (status === "In_use" && filter.instanceId === disk.instanceId),
    filter.snapshotId === undefined || filter.snapshotId === disk.sourceSnapshotId,
    filter.diskName === undefined || filter.diskName === disk.diskName,
    filter.encrypted === undefined || filter.encrypted === disk.encrypted,
    matchesTags(disk.tags, filter.tags),
  ];
  return checks.every(Boolean);
}

function handle(context: ActionContext): ActionResult {
  requireRegion(context, REGION_ERRORS.describeDisks);
  const filter = readFilter(context);
  const paging = readPaging(context.params, { min: 10, max: 500, default: 10, clamp: true });
  stopIfDryRun(context);
  const disks = [...context.world.disks.values()].filter((disk) => matches(disk, filter, context.now)).sort((left, right) => right.seq - left.seq);
  const { items, answer } = pageOf(disks, paging);
  return { ...answer, Disks: { Disk: items.map((disk) => diskView(disk, context.config.regionId, context.now)) } };
}

export const describeDisks: ActionSpec = { name: "DescribeDisks", idempotent: false, handle };
