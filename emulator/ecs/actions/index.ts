/** Every ECS action the emulator answers, by name. */
import type { EcsAction } from "../action-names.ts";
import type { ActionSpec } from "./context.ts";
import { createDisk } from "./create-disk.ts";
import { createSnapshot } from "./create-snapshot.ts";
import { deleteDisk } from "./delete-disk.ts";
import { deleteSnapshot } from "./delete-snapshot.ts";
import { describeAvailableResource } from "./describe-available-resource.ts";
import { describeDisks } from "./describe-disks.ts";
import { describeSnapshots } from "./describe-snapshots.ts";
import { describeZones } from "./describe-zones.ts";
import { tagResources } from "./tag-resources.ts";

export const ACTIONS: Readonly<Record<EcsAction, ActionSpec>> = {
  CreateDisk: createDisk,
  DescribeDisks: describeDisks,
  DeleteDisk: deleteDisk,
  CreateSnapshot: createSnapshot,
  DescribeSnapshots: describeSnapshots,
  DeleteSnapshot: deleteSnapshot,
  DescribeAvailableResource: describeAvailableResource,
  DescribeZones: describeZones,
  TagResources: tagResources,
};

export type { ActionContext, ActionResult, ActionSpec } from "./context.ts";
