/**
 * DescribeZones: the region's zones with the disk categories each sells (sold-out ones included:
 * stock is DescribeAvailableResource's business). With Verbose=false only the zone ids and names.
 */
import { ecsError } from "../errors.ts";
import type { ZoneConfig } from "../config.ts";
import type { ActionContext, ActionResult, ActionSpec } from "./context.ts";
import { requireRegion } from "./region.ts";

const LANGUAGES = ["zh-CN", "en-US", "ja"];

/** "cn-shanghai-b" → "Zone B": the part after the region id, as the console names zones. */
function localName(zoneId: string, regionId: string): string {
  const suffix = zoneId.startsWith(`${regionId}-`) ? zoneId.slice(regionId.length + 1) : zoneId;
  return `Zone ${suffix.toUpperCase()}`;
}

function zoneView(zone: ZoneConfig, regionId: string, verbose: boolean): Record<string, unknown> {
  const brief = { ZoneId: zone.zoneId, LocalName: localName(zone.zoneId, regionId), ZoneType: "AvailabilityZone" };
  if (!verbose) return brief;
  return {
    ...brief,
    AvailableResourceCreation: { ResourceTypes: ["VSwitch", "IoOptimized", "Instance", "Disk"] },
    AvailableDiskCategories: { DiskCategories: [...zone.categories] },
    AvailableVolumeCategories: { VolumeCategories: [] },
    AvailableInstanceTypes: { InstanceTypes: [] },
    AvailableDedicatedHostTypes: { DedicatedHostType: [] },
    AvailableResources: {
      ResourcesInfo: [
        {
          IoOptimized: true,
          DataDiskCategories: { supportedDataDiskCategory: [...zone.categories] },
          SystemDiskCategories: { supportedSystemDiskCategory: [...zone.categories] },
          InstanceTypes: { supportedInstanceType: [] },
          InstanceTypeFamilies: { supportedInstanceTypeFamily: [] },
          InstanceGenerations: { supportedInstanceGeneration: [] },
          NetworkTypes: { supportedNetworkCategory: ["vpc"] },
        },
      ],
    },
  };
}

function handle(context: ActionContext): ActionResult {
  requireRegion(context);
  const { params, config } = context;
  const language = params.optional("AcceptLanguage");
  if (language !== undefined && !LANGUAGES.includes(language)) throw ecsError("InvalidAcceptLanguage.NotFound", "Only Chinese (zh-CN), English (en-US), and Japanese (ja) are allowed.", 404);
  const chargeType = params.optional("InstanceChargeType");
  if (chargeType !== undefined && chargeType !== "PrePaid" && chargeType !== "PostPaid") throw ecsError("InvalidInstanceChargeType.NotFound", "The InstanceChargeType does not exist in our records", 404);
  const verbose = params.optional("Verbose")?.toLowerCase() !== "false";
  return { Zones: { Zone: config.zones.map((zone) => zoneView(zone, config.regionId, verbose)) } };
}

export const describeZones: ActionSpec = { name: "DescribeZones", idempotent: false, handle };
