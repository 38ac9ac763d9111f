/**
 * RegionId checks. Each ECS action words a missing or unknown region its own way (DescribeDisks
 * really does answer "MissingParamter.RegionId"; TagResources answers 404), so actions pick the
 * variant their API reference documents.
 */
import { ecsError, missingParameter, type EcsError } from "../errors.ts";
import type { ZoneConfig } from "../config.ts";
import type { ActionContext } from "./context.ts";

export interface RegionErrors {
  readonly missing: () => EcsError;
  readonly unknown: () => EcsError;
}

const standard: RegionErrors = {
  missing: () => missingParameter("RegionId", "MissingParameter.RegionId"),
  unknown: () => ecsError("InvalidRegionId.NotFound"),
};

export const REGION_ERRORS = {
  standard,
  describeDisks: { missing: () => ecsError("MissingParamter.RegionId"), unknown: () => ecsError("InvalidRegion.NotFound") },
  tagResources: { missing: () => ecsError("MissingParameter.RegionId", "The parameter - RegionId should not be null", 404), unknown: standard.unknown },
  availableResource: { missing: standard.missing, unknown: () => ecsError("Invalid.RegionId") },
} satisfies Record<string, RegionErrors>;

/** Throws unless RegionId names the emulated region. */
export function requireRegion(context: ActionContext, errors: RegionErrors = standard): void {
  const regionId = context.params.optional("RegionId");
  if (regionId === undefined) throw errors.missing();
  if (regionId !== context.config.regionId) throw errors.unknown();
}

export function zoneOf(context: ActionContext, zoneId: string): ZoneConfig | undefined {
  return context.config.zones.find((zone) => zone.zoneId === zoneId);
}
