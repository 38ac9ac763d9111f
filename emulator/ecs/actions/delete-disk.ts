/**
 * DeleteDisk: releases an Available disk. A disk still Creating, Attaching, In_use, Detaching, initializing from its
 * snapshot, or with a snapshot in progress is refused with ECS's code for each. An unknown id is
 * answered 200 with nothing done: the SDK's documentation says "If the disk with the specified ID
 * does not exist, the request is ignored", and that is what the emulator does. Manual snapshots of
 * the disk stay.
 */
import { ecsError } from "../errors.ts";
import { diskStatus, isInitializing, progressingSnapshotsOf } from "../lifecycle.ts";
import type { ActionContext, ActionResult, ActionSpec } from "./context.ts";

function handle(context: ActionContext): ActionResult {
  const { params, world, now } = context;
  const diskId = params.required("DiskId");
  const disk = world.disks.get(diskId);
  if (disk === undefined) return {};
  const status = diskStatus(disk, now);
  if (status === "In_use") throw ecsError("DiskStillAttached");
  // Still being made, attached or detached.
  if (status !== "Available") throw ecsError("IncorrectDiskStatus");
  if (isInitializing(disk, now)) throw ecsError("IncorrectDiskStatus.Initializing");
  if (progressingSnapshotsOf(world, diskId, now).length > 0) throw ecsError("DiskCreatingSnapshot");
  world.removeDisk(diskId);
  return {};
}

export const deleteDisk: ActionSpec = { name: "DeleteDisk", idempotent: false, handle };
