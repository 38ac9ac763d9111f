/**
 * Filter.N.Key = CreationStartTime | CreationEndTime with Filter.N.Value in "yyyy-MM-ddTHH:mmZ":
 * the creation-time window DescribeDisks and DescribeSnapshots take.
 */
import { ecsError, invalidParameter } from "../errors.ts";
import type { Params } from "../params.ts";

export interface CreationWindow {
  readonly from: number | undefined;
  readonly to: number | undefined;
}

export function readCreationWindow(params: Params): CreationWindow {
  let from: number | undefined;
  let to: number | undefined;
  for (const index of params.indexes("Filter")) {
    const key = params.optional(`Filter.${index}.Key`);
    const value = params.optional(`Filter.${index}.Value`);
    if (key !== "CreationStartTime" && key !== "CreationEndTime") throw ecsError("InvalidFilterKey.NotFound", "The specified filter key is not found.", 404);
    const at = value === undefined ? Number.NaN : Date.parse(value);
    if (Number.isNaN(at)) throw invalidParameter(`Filter.${index}.Value`);
    if (key === "CreationStartTime") from = at;
    else to = at;
  }
  return { from, to };
}

export function inWindow(createdAt: number, window: CreationWindow): boolean {
  return (window.from === undefined || createdAt >= window.from) && (window.to === undefined || createdAt <= window.to);
}
