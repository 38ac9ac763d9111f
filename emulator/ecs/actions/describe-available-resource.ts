/**
 * DescribeAvailableResource: what a zone sells now. For DataDisk/SystemDisk every category the
 * zone sells is listed with its stock: Available/WithStock, or SoldOut/WithoutStock for the
 * zone's `soldOut` ones; DataDiskCategory/SystemDiskCategory narrow the list, and a zone with
 * nothing left to list is left out (as ECS does). For Zone, the zones themselves. The emulator
 * models no instance types, so instance-bound destinations list nothing.
 */
import { performanceLevelSizes, sizeRange } from "../categories.ts";
import type { ZoneConfig } from "../config.ts";
import { ecsError } from "../errors.ts";
import type { ActionContext, ActionResult, ActionSpec } from "./context.ts";
import { REGION_ERRORS, requireRegion } from "./region.ts";

const DESTINATIONS = ["Zone", "IoOptimized", "InstanceType", "Network", "ddh", "SystemDisk", "DataDisk"];
const RESOURCE_TYPES = ["instance", "disk", "reservedinstance", "ddh"];

/** cloud_essd is offered at its default level, PL1, so from 20 GiB. */
function offeredSizes(category: string): { readonly min: number; readonly max: number } {
  return category === "cloud_essd" ? performanceLevelSizes("PL1") : sizeRange(category);
}

function diskResources(zone: ZoneConfig, type: "DataDisk" | "SystemDisk", only: string | undefined): Array<Record<string, unknown>> {
  const categories = zone.categories.filter((category) => only === undefined || category === only);
  if (categories.length === 0) return [];
  const supported = categories.map((category) => {
    const soldOut = zone.soldOut?.includes(category) === true;
    const { min, max } = offeredSizes(category);
    return { Value: category, Status: soldOut ? "SoldOut" : "Available", StatusCategory: soldOut ? "WithoutStock" : "WithStock", Min: min, Max: max, Unit: "GiB" };
  });
  return [{ Type: type, SupportedResources: { SupportedResource: supported } }];
}

function resourcesOf(context: ActionContext, zone: ZoneConfig, destination: string): Array<Record<string, unknown>> {
  const { params } = context;
  if (destination === "DataDisk") return diskResources(zone, "DataDisk", params.optional("DataDiskCategory"));
  if (destination === "SystemDisk") return diskResources(zone, "SystemDisk", params.optional("SystemDiskCategory"));
  if (destination === "Zone") return [{ Type: "Zone", SupportedResources: { SupportedResource: [{ Value: zone.zoneId, Status: "Available", StatusCategory: "WithStock" }] } }];
  return [];
}

function handle(context: ActionContext): ActionResult {
  requireRegion(context, REGION_ERRORS.availableResource);
  const { params, config } = context;
  const destination = params.required("DestinationResource", ecsError("Invalid.Param"));
  if (!DESTINATIONS.includes(destination)) throw ecsError("Invalid.DestinationResource");
  const resourceType = params.optional("ResourceType");
  if (resourceType !== undefined && !RESOURCE_TYPES.includes(resourceType)) throw ecsError("Invalid.ResourceType");
  const zoneId = params.optional("ZoneId");
  const zones = config.zones
    .filter((zone) => zoneId === undefined || zone.zoneId === zoneId)
    .map((zone) => ({ zone, resources: resourcesOf(context, zone, destination) }))
    .filter(({ resources }) => resources.length > 0)
    .map(({ zone, resources }) => ({
      ZoneId: zone.zoneId,
      RegionId: config.regionId,
      Status: "Available",
      StatusCategory: "WithStock",
      AvailableResources: { AvailableResource: resources },
    }));
  return { AvailableZones: { AvailableZone: zones } };
}

export const describeAvailableResource: ActionSpec = { name: "DescribeAvailableResource", idempotent: false, handle };
