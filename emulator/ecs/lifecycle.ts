/**
 * What a disk or snapshot looks like at a moment, derived from its timestamps. Disks go
 * Creating → Available → Attaching → In_use → Detaching → Available; snapshots go progressing →
 * accomplished, ESSD-family ones being usable from the start (instant access) while their
 * Progress still climbs, or, under an injected fault, failed after having been usable.
 */
import type { DiskRecord, SnapshotRecord, World } from "./world.ts";

export type DiskStatus = "Creating" | "Available" | "Attaching" | "In_use" | "Detaching";
export type SnapshotStatus = "progressing" | "accomplished" | "failed";

export function diskStatus(disk: DiskRecord, now: number): DiskStatus {
  if (now < disk.readyAt) return "Creating";
  if (disk.instanceId !== "") return now < (disk.attachingUntil ?? 0) ? "Attaching" : "In_use";
  return now < (disk.detachingUntil ?? 0) ? "Detaching" : "Available";
}

/** A disk's attributes with ECS's defaults for those a record saved before they were modelled lacks. */
export interface DiskAttributes {
  readonly kmsKeyId: string;
  readonly provisionedIops: number;
  readonly burstingEnabled: boolean;
  readonly multiAttach: "Enabled" | "Disabled";
  readonly resourceGroupId: string;
  readonly autoSnapshotPolicyId: string;
}

export function diskAttributes(disk: DiskRecord): DiskAttributes {
  return {
    kmsKeyId: disk.kmsKeyId ?? "",
    provisionedIops: disk.provisionedIops ?? 0,
    burstingEnabled: disk.burstingEnabled ?? false,
    multiAttach: disk.multiAttach ?? "Disabled",
    resourceGroupId: disk.resourceGroupId ?? "",
    autoSnapshotPolicyId: disk.autoSnapshotPolicyId ?? "",
  };
}

/** A disk made from a snapshot is still pulling its data in. */
export function isInitializing(disk: DiskRecord, now: number): boolean {
  return disk.sourceSnapshotId !== "" && now < disk.initializedUntil;
}

export interface SnapshotState {
  readonly status: SnapshotStatus;
  /** Whole percent, 0..100. */
  readonly progress: number;
  /** Usable to create disks. */
  readonly available: boolean;
  /** Seconds until accomplished, rounded up. */
  readonly remainSeconds: number;
}

export function snapshotState(snapshot: SnapshotRecord, now: number): SnapshotState {
  // A fault due before the snapshot is accomplished freezes it where it was when it failed.
  const failsAt = snapshot.failsAt;
  if (failsAt !== undefined && failsAt < snapshot.accomplishedAt && now >= failsAt) {
    return { ...healthyState(snapshot, failsAt), status: "failed", available: false, remainSeconds: 0 };
  }
  return healthyState(snapshot, now);
}

function healthyState(snapshot: SnapshotRecord, now: number): SnapshotState {
  const done = now >= snapshot.accomplishedAt;
  const span = snapshot.accomplishedAt - snapshot.createdAt;
  const progress = done ? 100 : Math.min(99, Math.floor(((now - snapshot.createdAt) / span) * 100));
  return {
    status: done ? "accomplished" : "progressing",
    progress: Math.max(0, progress),
    available: done || (snapshot.instantAccess && now >= (snapshot.availableAt ?? snapshot.createdAt)),
    remainSeconds: done ? 0 : Math.ceil((snapshot.accomplishedAt - now) / 1000),
  };
}

/** Snapshots of `diskId` still being made (a failed one no longer is). */
export function progressingSnapshotsOf(world: World, diskId: string, now: number): SnapshotRecord[] {
  return [...world.snapshots.values()].filter((snapshot) => snapshot.sourceDiskId === diskId && snapshotState(snapshot, now).status === "progressing");
}
