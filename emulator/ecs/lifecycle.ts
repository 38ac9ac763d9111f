/**
 * What a disk or snapshot looks like at a moment, derived from its timestamps. Disks go
 * Creating → Available ⇄ In_use; snapshots go progressing → accomplished, ESSD-family ones being
 * usable from the start (instant access) while their Progress still climbs.
 */
import type { DiskRecord, SnapshotRecord, World } from "./world.ts";

export type DiskStatus = "Creating" | "Available" | "In_use";
export type SnapshotStatus = "progressing" | "accomplished";

export function diskStatus(disk: DiskRecord, now: number): DiskStatus {
  if (now < disk.readyAt) return "Creating";
  return disk.instanceId === "" ? "Available" : "In_use";
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

/** Snapshots of `diskId` still being made. */
export function progressingSnapshotsOf(world: World, diskId: string, now: number): SnapshotRecord[] {
  return [...world.snapshots.values()].filter((snapshot) => snapshot.sourceDiskId === diskId && now < snapshot.accomplishedAt);
}
