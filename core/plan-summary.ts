/**
 * A placement plan (core/planner.ts) told in one bounded line: the admission warning of a
 * server-side dry run and `kubectl zoneferry plan` say it the same way.
 */
import { MAX_LISTED_ITEMS, listWithin } from "./bounded-text.ts";
import type { PlacementPlan } from "./planner.ts";

/** Volumes of one ordinal named before the rest are counted. */
const MAX_VOLUMES_PER_ORDINAL = 3;

/** Longest summary: well inside the webhook's 1 KiB per warning (webhook/admission/response.ts). */
export const MAX_PLAN_SUMMARY_LENGTH = 900;

/** One ordinal: `db-0 → cn-shanghai-g (moves data-db-0 from cn-shanghai-b)`, or `db-1 stays in cn-shanghai-m`. */
export function ordinalSummary(statefulSet: string, ordinal: PlacementPlan["ordinals"][number]): string {
  const moving = ordinal.volumes.filter((volume) => volume.move);
  if (moving.length === 0) return `${statefulSet}-${ordinal.ordinal} stays in ${ordinal.zone}`;
  const named = moving.map((volume) => `${volume.claim} from ${volume.fromZone}`);
  return `${statefulSet}-${ordinal.ordinal} → ${ordinal.zone} (moves ${listWithin(named, MAX_VOLUMES_PER_ORDINAL)})`;
}

/**
 * The plan in one line: `plan for db to cn-shanghai-g,cn-shanghai-m: db-0 → cn-shanghai-g (moves
 * data-db-0 from cn-shanghai-b), db-1 stays in cn-shanghai-m; 1 of 2 volumes move`. At most
 * MAX_LISTED_ITEMS ordinals are named and the line is cut at MAX_PLAN_SUMMARY_LENGTH, whatever
 * the StatefulSet's size.
 */
export function planSummary(statefulSet: string, targetZones: readonly string[], plan: PlacementPlan): string {
  const volumes = plan.ordinals.reduce((sum, ordinal) => sum + ordinal.volumes.length, 0);
  const head = `plan for ${statefulSet} to ${targetZones.join(",")}`;
  if (plan.ordinals.length === 0) return `${head}: no disk volumes, nothing to move`;
  // Moving ordinals first: they are what the reader looks for when the list is cut.
  const ordered = [...plan.ordinals.filter((ordinal) => ordinal.volumes.some((volume) => volume.move)), ...plan.ordinals.filter((ordinal) => !ordinal.volumes.some((volume) => volume.move))];
  const line = `${head}: ${listWithin(ordered.map((ordinal) => ordinalSummary(statefulSet, ordinal)), MAX_LISTED_ITEMS)}; ${plan.moves.length} of ${volumes} volumes move`;
  return line.length <= MAX_PLAN_SUMMARY_LENGTH ? line : `${line.slice(0, MAX_PLAN_SUMMARY_LENGTH - 1)}…`;
}
