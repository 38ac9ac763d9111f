/**
 * TagResources: sets tags on disks or snapshots (ResourceType disk|snapshot, ResourceId.N, up to
 * 50, Tag.N, up to 20). A tag key already on a resource takes the new value. All named resources
 * must exist, or nothing is tagged. Its error codes and statuses are the tag service's own (a
 * missing parameter is 404 there).
 */
import { ecsError, missingParameter } from "../errors.ts";
import type { Tag } from "../world.ts";
import type { ActionContext, ActionResult, ActionSpec } from "./context.ts";
import { REGION_ERRORS, requireRegion } from "./region.ts";
import { MAX_TAGS, mergeTags, readTags } from "./tags.ts";

/** ECS resource types TagResources knows; the emulator holds only disks and snapshots. */
const RESOURCE_TYPES = ["instance", "disk", "snapshot", "image", "securitygroup", "volume", "eni", "ddh", "keypair", "launchtemplate", "reservedinstance", "snapshotpolicy", "elasticityassurance", "capacityreservation", "command", "invocation", "activation", "managedinstance"];

const MAX_RESOURCES = 50;

function handle(context: ActionContext): ActionResult {
  requireRegion(context, REGION_ERRORS.tagResources);
  const { params, world } = context;
  const resourceType = params.required("ResourceType", ecsError("MissingParameter.ResourceType")).toLowerCase();
  if (!RESOURCE_TYPES.includes(resourceType)) throw ecsError("InvalidResourceType.NotFound");
  const resourceIds = params.list("ResourceId");
  if (resourceIds.length === 0) throw missingParameter("ResourceId.N");
  if (resourceIds.length > MAX_RESOURCES) throw ecsError("NumberExceed.ResourceIds");
  const tags = readTags(params, () => ecsError("NumberExceed.Tags"));
  if (tags.length === 0) throw ecsError("MissingParameter.Tags");
  const records: Array<{ tags: Tag[] }> = resourceIds.map((id) => {
    const record = resourceType === "disk" ? world.disks.get(id) : resourceType === "snapshot" ? world.snapshots.get(id) : undefined;
    if (record === undefined) throw ecsError("InvalidResourceId.NotFound");
    return record;
  });
  const merged = records.map((record) => mergeTags(record.tags, tags));
  if (merged.some((list) => list.length > MAX_TAGS)) throw ecsError("OperationDenied.QuotaExceed");
  records.forEach((record, index) => {
    record.tags = merged[index]!;
  });
  world.touch();
  return {};
}

export const tagResources: ActionSpec = { name: "TagResources", idempotent: false, handle };
