/**
 * DescribeSnapshots: the region's snapshots, filtered (every given filter must hold), newest
 * first, paged by MaxResults (1..100) and NextToken or by the deprecated PageNumber/PageSize.
 */
import { ecsError, invalidParameter, type EcsError } from "../errors.ts";
import { snapshotState } from "../lifecycle.ts";
import type { Params } from "../params.ts";
import type { SnapshotRecord, World } from "../world.ts";
import { stopIfDryRun, type ActionContext, type ActionResult, type ActionSpec } from "./context.ts";
import { inWindow, readCreationWindow, type CreationWindow } from "./creation-window.ts";
import { pageOf, readPaging } from "./paging.ts";
import { requireRegion } from "./region.ts";
import { matchesTags, readTagFilter, type TagFilter } from "./tags.ts";
import { snapshotView } from "./views.ts";

interface SnapshotFilter {
  readonly snapshotIds: ReadonlySet<string> | undefined;
  readonly diskId: string | undefined;
  readonly instanceId: string | undefined;
  readonly snapshotName: string | undefined;
  readonly status: string | undefined;
  /** Filters that no emulated snapshot can pass (auto snapshots, system disks, images, …). */
  readonly impossible: boolean;
  readonly usage: string | undefined;
  readonly encrypted: boolean | undefined;
  readonly window: CreationWindow;
  readonly tags: readonly TagFilter[];
}

/** A parameter restricted to `allowed` (compared in lower case); "all" means no filter. */
function oneOf(params: Params, name: string, allowed: readonly string[], invalid: () => EcsError): string | undefined {
  const value = params.optional(name)?.toLowerCase();
  if (value === undefined || value === "all") return undefined;
  if (!allowed.includes(value)) throw invalid();
  return value;
}

function readEnumerations(params: Params): Pick<SnapshotFilter, "status" | "impossible" | "usage"> {
  const status = oneOf(params, "Status", ["progressing", "accomplished", "failed"], () => ecsError("InvalidStatus.NotFound"));
  const snapshotType = oneOf(params, "SnapshotType", ["auto", "user"], () => ecsError("InvalidSnapshotType.NotFound"));
  const sourceDiskType = oneOf(params, "SourceDiskType", ["system", "data"], () => ecsError("InvalidSourceDiskType"));
  const usage = oneOf(params, "Usage", ["image", "disk", "image_disk", "none"], () => ecsError("InvalidUsage"));
  const category = oneOf(params, "Category", ["standard", "flash", "archive"], () => ecsError("InvalidSnapshotCategory.Malformed"));
  const impossible = snapshotType === "auto" || sourceDiskType === "system" || (category !== undefined && category !== "standard");
  return { status, impossible, usage };
}

function readFilter(params: Params): SnapshotFilter {
  const malformed = (): EcsError => ecsError("InvalidSnapshotIds.Malformed");
  const snapshotIds = params.idList("SnapshotIds", 100, { malformed, tooMany: malformed });
  return {
    ...readEnumerations(params),
    snapshotIds: snapshotIds === undefined ? undefined : new Set(snapshotIds),
    diskId: params.optional("DiskId"),
    instanceId: params.optional("InstanceId"),
    snapshotName: params.optional("SnapshotName"),
    encrypted: params.boolean("Encrypted", () => invalidParameter("Encrypted")),
    window: readCreationWindow(params),
    tags: readTagFilter(params),
  };
}

function usageOf(snapshot: SnapshotRecord): string {
  return snapshot.usedByDisks.length > 0 ? "disk" : "none";
}

function matches(snapshot: SnapshotRecord, filter: SnapshotFilter, world: World, now: number): boolean {
  const checks = [
    !filter.impossible,
    filter.snapshotIds === undefined || filter.snapshotIds.has(snapshot.snapshotId),
    filter.diskId === undefined || filter.diskId === snapshot.sourceDiskId,
    filter.instanceId === undefined || world.disks.get(snapshot.sourceDiskId)?.instanceId === filter.instanceId,
    filter.snapshotName === undefined || filter.snapshotName === snapshot.snapshotName,
    filter.status === undefined || filter.status === snapshotState(snapshot, now).status,
    filter.usage === undefined || filter.usage === usageOf(snapshot),
    filter.encrypted !== true,
    inWindow(snapshot.createdAt, filter.window),
    matchesTags(snapshot.tags, filter.tags),
  ];
  return checks.every(Boolean);
}

function handle(context: ActionContext): ActionResult {
  requireRegion(context);
  const filter = readFilter(context.params);
  const paging = readPaging(context.params, { min: 1, max: 100, default: 10, clamp: false });
  stopIfDryRun(context);
  const { world, now } = context;
  const snapshots = [...world.snapshots.values()].filter((snapshot) => matches(snapshot, filter, world, now)).sort((left, right) => right.seq - left.seq);
  const { items, answer } = pageOf(snapshots, paging);
  return { ...answer, Snapshots: { Snapshot: items.map((snapshot) => snapshotView(snapshot, context.config.regionId, now)) } };
}

export const describeSnapshots: ActionSpec = { name: "DescribeSnapshots", idempotent: false, handle };
