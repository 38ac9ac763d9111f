/**
 * DeleteSnapshot: releases a snapshot, or cancels one still progressing. While disks made from it
 * exist, ECS wants Force=true (SnapshotCreatedDisk otherwise). An unknown id is answered 200 with
 * nothing done, as the SDK documents ("If the specified snapshot ID does not exist, the request is
 * ignored"). A snapshot in one of the caller's resource shares cannot be deleted until unshared,
 * and a snapshot another account shares with the caller is not the caller's to delete (the codes
 * are the emulator's choice: OperationDenied.SnapshotShared, OperationDenied.SharedSnapshot).
 */
import { ecsError, invalidParameter } from "../errors.ts";
import type { ActionContext, ActionResult, ActionSpec } from "./context.ts";

function handle(context: ActionContext): ActionResult {
  const { params, world } = context;
  const snapshotId = params.required("SnapshotId", ecsError("MissingParameter", "The input parameter SnapshotId that is mandatory for processing this request is not supplied."));
  const force = params.boolean("Force", () => invalidParameter("Force")) ?? false;
  const snapshot = world.snapshots.get(snapshotId);
  if (snapshot === undefined) return {};
  if (snapshot.sharedFrom !== undefined) throw ecsError("OperationDenied.SharedSnapshot", "The snapshot is shared with this account by another; only its owner can delete it.", 403);
  if (context.isShared?.(snapshotId) === true) throw ecsError("OperationDenied.SnapshotShared", "The snapshot is shared with other accounts through Resource Sharing; stop sharing it first.", 403);
  if (!force && snapshot.usedByDisks.some((diskId) => world.disks.has(diskId))) throw ecsError("SnapshotCreatedDisk");
  world.removeSnapshot(snapshotId);
  return {};
}

export const deleteSnapshot: ActionSpec = { name: "DeleteSnapshot", idempotent: false, handle };
