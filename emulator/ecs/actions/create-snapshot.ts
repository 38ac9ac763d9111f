/**
 * CreateSnapshot: a snapshot of an In_use disk, or of an Available one that was attached at least
 * once. It holds the disk's content as of now and progresses for the modelled time; ESSD-family
 * snapshots are usable at once (instant access), others only when accomplished. With RetentionDays
 * (1..65536) it is released when the period, scaled by timeScale, ends. It is encrypted with
 * its disk's key when the disk is. Under the `failSnapshotAfterMs` fault it turns failed that long
 * after it became usable.
 */
import { hasInstantAccess } from "../categories.ts";
import { ecsError, invalidParameter } from "../errors.ts";
import { resourceId } from "../ids.ts";
import { diskStatus, progressingSnapshotsOf } from "../lifecycle.ts";
import type { DiskRecord } from "../world.ts";
import type { ActionContext, ActionResult, ActionSpec } from "./context.ts";
import { readDescription, readName } from "./names.ts";
import { readTags } from "./tags.ts";

const DAY_MS = 86_400_000;
const MAX_RETENTION_DAYS = 65_536;

function checkDisk(context: ActionContext, disk: DiskRecord): void {
  const status = diskStatus(disk, context.now);
  // ECS snapshots In_use and Available disks only: not while they are made, attached or detached.
  if (status !== "In_use" && status !== "Available") throw ecsError("IncorrectDiskStatus");
  if (status === "Available" && !disk.everAttached) throw ecsError("IncorrectDiskStatus.NeverAttached");
  // Instant-access disks take snapshots side by side; others one at a time.
  if (!hasInstantAccess(disk.category) && progressingSnapshotsOf(context.world, disk.diskId, context.now).length > 0) {
    throw ecsError("IncorrectDiskStatus.CreatingSnapshot");
  }
}

function handle(context: ActionContext): ActionResult {
  const { params, world, config, clock, now } = context;
  const diskId = params.required("DiskId");
  const disk = world.disks.get(diskId);
  if (disk === undefined) throw ecsError("InvalidDiskId.NotFound");
  const snapshotName = readName(params, "SnapshotName", () => ecsError("InvalidSnapshotName.Malformed"), (name) => !name.startsWith("auto"));
  // CreateSnapshot's reference gives 404 for a malformed description.
  const description = readDescription(params, 404);
  const retentionDays = params.integer("RetentionDays", () => invalidParameter("RetentionDays"));
  if (retentionDays !== undefined && (retentionDays < 1 || retentionDays > MAX_RETENTION_DAYS)) throw invalidParameter("RetentionDays");
  const tags = readTags(params);
  checkDisk(context, disk);
  if (world.snapshots.size >= config.quotas.snapshots) throw ecsError("QuotaExceed.Snapshot");

  const snapshotId = resourceId("s", config.regionId);
  const availableAt = now + clock.durationOf(config.transitions.instantAccess, disk.size);
  world.addSnapshot({
    snapshotId,
    seq: world.nextSeq(),
    snapshotName,
    description,
    sourceDiskId: disk.diskId,
    sourceDiskSize: disk.size,
    sourceDiskCategory: disk.category,
    sourceZoneId: disk.zoneId,
    instantAccess: hasInstantAccess(disk.category),
    createdAt: now,
    availableAt,
    accomplishedAt: now + clock.durationOf(config.transitions.snapshot, disk.size),
    encrypted: disk.encrypted,
    kmsKeyId: disk.encrypted ? (disk.kmsKeyId ?? "") : "",
    ...(context.snapshotFailsAfterMs === undefined ? {} : { failsAt: availableAt + clock.scaled(context.snapshotFailsAfterMs) }),
    retentionDays: retentionDays ?? null,
    expiresAt: retentionDays === undefined ? null : now + clock.scaled(retentionDays * DAY_MS),
    tags,
    usedByDisks: [],
  });
  return { SnapshotId: snapshotId };
}

export const createSnapshot: ActionSpec = { name: "CreateSnapshot", idempotent: true, handle };
