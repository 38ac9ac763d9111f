/**
 * The world as the control API shows and seeds it: compact camelCase records (not ECS's answer
 * shape), and disks planted directly in a state (Available or In_use), as if they had existed
 * before the test or demo began.
 */
import { DEFAULT_PERFORMANCE_LEVEL, PERFORMANCE_LEVELS, isKnownCategory, takesPerformanceLevel } from "./categories.ts";
import { isoSeconds } from "./clock.ts";
import { checkDiskSize } from "./actions/create-disk.ts";
import { resolveAttributes, type ResolvedAttributes } from "./actions/disk-attributes.ts";
import { EcsError } from "./errors.ts";
import { resourceId } from "./ids.ts";
import { diskAttributes, diskStatus, snapshotState } from "./lifecycle.ts";
import type { EmulatorRuntime } from "./runtime.ts";
import type { DiskRecord, SnapshotRecord, Tag } from "./world.ts";

/** A request the control API refuses, with the HTTP status to answer. */
export class ControlError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "ControlError";
    this.status = status;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

const tagMap = (tags: readonly Tag[]): Record<string, string> => Object.fromEntries(tags.map((tag) => [tag.key, tag.value]));

export function compactDisk(runtime: EmulatorRuntime, disk: DiskRecord): Record<string, unknown> {
  return {
    diskId: disk.diskId,
    diskName: disk.diskName,
    zoneId: disk.zoneId,
    status: diskStatus(disk, runtime.clock.now()),
    category: disk.category,
    performanceLevel: disk.performanceLevel,
    size: disk.size,
    tags: tagMap(disk.tags),
    encrypted: disk.encrypted,
    ...diskAttributes(disk),
    sourceSnapshotId: disk.sourceSnapshotId,
    instanceId: disk.instanceId,
    everAttached: disk.everAttached,
    hasContent: runtime.world.contents.has(disk.diskId),
    createdAt: isoSeconds(disk.createdAt),
  };
}

export function compactSnapshot(runtime: EmulatorRuntime, snapshot: SnapshotRecord): Record<string, unknown> {
  const state = snapshotState(snapshot, runtime.clock.now());
  return {
    snapshotId: snapshot.snapshotId,
    sourceDiskId: snapshot.sourceDiskId,
    sourceDiskSize: snapshot.sourceDiskSize,
    sourceDiskCategory: snapshot.sourceDiskCategory,
    sourceZoneId: snapshot.sourceZoneId,
    status: state.status,
    progress: state.progress,
    available: state.available,
    encrypted: snapshot.encrypted ?? false,
    retentionDays: snapshot.retentionDays,
    expiresAt: snapshot.expiresAt === null ? null : isoSeconds(snapshot.expiresAt),
    tags: tagMap(snapshot.tags),
    usedByDisks: snapshot.usedByDisks,
    hasContent: runtime.world.contents.has(snapshot.snapshotId),
    createdAt: isoSeconds(snapshot.createdAt),
  };
}

export function inventory(runtime: EmulatorRuntime): { disks: unknown[]; snapshots: unknown[] } {
  const byAge = <T extends { readonly seq: number }>(records: Iterable<T>): T[] => [...records].sort((left, right) => left.seq - right.seq);
  return {
    disks: byAge(runtime.world.disks.values()).map((disk) => compactDisk(runtime, disk)),
    snapshots: byAge(runtime.world.snapshots.values()).map((snapshot) => compactSnapshot(runtime, snapshot)),
  };
}

type Json = Record<string, unknown>;

function text(body: Json, name: string): string | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") throw new ControlError(400, `${name} must be a non-empty string`);
  return value;
}

function seedTags(value: unknown): Tag[] {
  if (value === undefined) return [];
  if (typeof value !== "object" || value === null || Array.isArray(value) || !Object.values(value).every((tag) => typeof tag === "string")) {
    throw new ControlError(400, "tags must be an object of strings, e.g. {\"app\":\"db\"}");
  }
  return Object.entries(value as Record<string, string>).map(([key, tagValue]) => ({ key, value: tagValue }));
}

function seedShape(runtime: EmulatorRuntime, body: Json): { zoneId: string; category: string; performanceLevel: string; size: number } {
  const zoneId = text(body, "zoneId") ?? "";
  if (!runtime.config.zones.some((zone) => zone.zoneId === zoneId)) throw new ControlError(400, `zoneId must be one of the configured zones: ${runtime.config.zones.map((zone) => zone.zoneId).join(", ")}`);
  const category = text(body, "category") ?? "";
  if (!isKnownCategory(category)) throw new ControlError(400, `category ${category} is not an ECS disk category`);
  const size = body.size;
  if (typeof size !== "number" || !Number.isInteger(size)) throw new ControlError(400, "size must be an integer number of GiB");
  const level = text(body, "performanceLevel");
  const performanceLevel = takesPerformanceLevel(category) ? (level ?? DEFAULT_PERFORMANCE_LEVEL) : "";
  if (performanceLevel !== "" && !PERFORMANCE_LEVELS.includes(performanceLevel)) throw new ControlError(400, `performanceLevel must be one of ${PERFORMANCE_LEVELS.join(", ")}`);
  try {
    checkDiskSize(category, performanceLevel, size);
  } catch (error) {
    if (error instanceof EcsError) throw new ControlError(400, error.message);
    throw error;
  }
  return { zoneId, category, performanceLevel, size };
}

const optionalBoolean = (body: Json, name: string): boolean | undefined => {
  const value = body[name];
  if (value !== undefined && typeof value !== "boolean") throw new ControlError(400, `${name} must be true or false`);
  return value;
};

/** The attributes of a planted disk, under CreateDisk's rules (and the ECS names in camelCase). */
function seedAttributes(body: Json, category: string, size: number): ResolvedAttributes & { autoSnapshotPolicyId?: string } {
  const provisionedIops = body.provisionedIops;
  if (provisionedIops !== undefined && (typeof provisionedIops !== "number" || !Number.isInteger(provisionedIops))) throw new ControlError(400, "provisionedIops must be an integer");
  const autoSnapshotPolicyId = text(body, "autoSnapshotPolicyId");
  try {
    const attributes = resolveAttributes(
      {
        encrypted: optionalBoolean(body, "encrypted"),
        kmsKeyId: text(body, "kmsKeyId"),
        provisionedIops,
        burstingEnabled: optionalBoolean(body, "burstingEnabled"),
        multiAttach: text(body, "multiAttach"),
        resourceGroupId: text(body, "resourceGroupId"),
      },
      category,
      size,
    );
    return { ...attributes, ...(autoSnapshotPolicyId === undefined ? {} : { autoSnapshotPolicyId }) };
  } catch (error) {
    if (error instanceof EcsError) throw new ControlError(400, error.message);
    throw error;
  }
}

/** Plants a disk as it would be after a while in the cloud: Available, or In_use by an instance. */
export function seedDisk(runtime: EmulatorRuntime, body: Json): DiskRecord {
  const { world, clock, config } = runtime;
  const shape = seedShape(runtime, body);
  const status = body.status ?? "Available";
  if (status !== "Available" && status !== "In_use") throw new ControlError(400, 'status must be "Available" or "In_use"');
  const diskId = text(body, "diskId") ?? resourceId("d", config.regionId);
  if (!/^d-[A-Za-z0-9]+$/.test(diskId)) throw new ControlError(400, "diskId must look like d-xxxx");
  if (world.disks.has(diskId)) throw new ControlError(409, `disk ${diskId} already exists`);
  if (body.content !== undefined && typeof body.content !== "string") throw new ControlError(400, "content must be a string");
  const inUse = status === "In_use";
  const attachedOnce = inUse || body.attachedOnce === true;
  const now = clock.now();
  const disk: DiskRecord = {
    ...shape,
    diskId,
    seq: world.nextSeq(),
    diskName: text(body, "diskName") ?? "",
    description: "",
    tags: seedTags(body.tags),
    sourceSnapshotId: "",
    ...seedAttributes(body, shape.category, shape.size),
    createdAt: now,
    readyAt: now,
    initializedUntil: now,
    instanceId: inUse ? (text(body, "instanceId") ?? resourceId("i", config.regionId)) : "",
    attachedAt: attachedOnce ? now : null,
    detachedAt: attachedOnce && !inUse ? now : null,
    everAttached: attachedOnce,
  };
  const content = typeof body.content === "string" ? { contentType: "text/plain;charset=utf-8", data: Buffer.from(body.content) } : undefined;
  world.addDisk(disk, content);
  return disk;
}

export function diskOrFail(runtime: EmulatorRuntime, diskId: string): DiskRecord {
  const disk = runtime.world.disks.get(diskId);
  if (disk === undefined) throw new ControlError(404, `no disk ${diskId}`);
  return disk;
}

/** Attaches an Available disk to an instance (the node a pod runs on), marking it attached once; it is Attaching for `transitions.attach`. */
export function attachDisk(runtime: EmulatorRuntime, diskId: string, instanceId: unknown): DiskRecord {
  const disk = diskOrFail(runtime, diskId);
  const status = diskStatus(disk, runtime.clock.now());
  if (status !== "Available") throw new ControlError(409, `disk ${diskId} is ${status}; only an Available disk can be attached`);
  if (instanceId !== undefined && (typeof instanceId !== "string" || instanceId === "")) throw new ControlError(400, "instanceId must be a non-empty string");
  disk.instanceId = instanceId ?? resourceId("i", runtime.config.regionId);
  disk.attachedAt = runtime.clock.now();
  disk.attachingUntil = disk.attachedAt + runtime.clock.scaled(runtime.config.transitions.attach.baseMs);
  disk.everAttached = true;
  runtime.world.touch();
  return disk;
}

/** Detaches an In_use disk; it is Detaching for `transitions.detach`, then Available. */
export function detachDisk(runtime: EmulatorRuntime, diskId: string): DiskRecord {
  const disk = diskOrFail(runtime, diskId);
  const status = diskStatus(disk, runtime.clock.now());
  if (status !== "In_use") throw new ControlError(409, `disk ${diskId} is ${status}; only an In_use disk can be detached`);
  disk.instanceId = "";
  disk.detachedAt = runtime.clock.now();
  disk.detachingUntil = disk.detachedAt + runtime.clock.scaled(runtime.config.transitions.detach.baseMs);
  runtime.world.touch();
  return disk;
}
