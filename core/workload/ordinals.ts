/**
 * Which ordinals a StatefulSet runs. apps/v1 runs `replicas` ordinals from `spec.ordinals.start`;
 * an OpenKruise Advanced StatefulSet also skips its `reserveOrdinals` (numbers, or ranges written
 * "3-5"), so replicas=3 with reserveOrdinals [1] runs 0, 2 and 3. One function for the planner,
 * the runner and the sandbox's stand-in controller, so they cannot disagree on a pod's name.
 */

export interface OrdinalSpec {
  readonly replicas?: number;
  readonly ordinals?: { readonly start?: number };
  readonly reserveOrdinals?: readonly (number | string)[];
}

/** A range written "a-b" or a single ordinal; anything else is not an ordinal and reserves nothing. */
const RANGE = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/;

interface Interval {
  readonly from: number;
  readonly to: number;
}

/**
 * The reserved ordinals as sorted, merged intervals; malformed entries are ignored. Ranges are
 * never expanded: "0-99999" costs one interval, so a hostile spec cannot make the webhook count.
 */
export function reservedIntervals(reserve: OrdinalSpec["reserveOrdinals"]): Interval[] {
  const intervals: Interval[] = [];
  for (const entry of reserve ?? []) {
    if (typeof entry === "number") {
      if (Number.isInteger(entry) && entry >= 0) intervals.push({ from: entry, to: entry });
      continue;
    }
    const match = RANGE.exec(entry);
    if (match === null) continue;
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to >= from) intervals.push({ from, to });
  }
  intervals.sort((a, b) => a.from - b.from);
  const merged: Interval[] = [];
  for (const interval of intervals) {
    const last = merged.at(-1);
    if (last !== undefined && interval.from <= last.to + 1) merged[merged.length - 1] = { from: last.from, to: Math.max(last.to, interval.to) };
    else merged.push(interval);
  }
  return merged;
}

/**
 * The ordinals of `replicas` pods, lazily: upward from `ordinals.start`, skipping the reserved
 * ones. A caller that stops early (a bounded message) pays for what it took, never for `replicas`.
 */
export function* ordinalSequence(spec: OrdinalSpec | undefined): Generator<number, void, undefined> {
  const replicas = Math.max(0, spec?.replicas ?? 1);
  const reserved = reservedIntervals(spec?.reserveOrdinals);
  let next = 0;
  let count = 0;
  for (let ordinal = Math.max(0, spec?.ordinals?.start ?? 0); count < replicas; ordinal += 1) {
    while (next < reserved.length && reserved[next]!.to < ordinal) next += 1;
    const interval = reserved[next];
    if (interval !== undefined && interval.from <= ordinal) {
      ordinal = interval.to;
      continue;
    }
    count += 1;
    yield ordinal;
  }
}

/** Every live ordinal (callers bound `replicas` first: core/size-limits.ts). */
export function liveOrdinals(spec: OrdinalSpec | undefined): number[] {
  return [...ordinalSequence(spec)];
}

/** Whether `ordinal` is one of the reserved ones. */
export function isReserved(spec: OrdinalSpec | undefined, ordinal: number): boolean {
  return reservedIntervals(spec?.reserveOrdinals).some((interval) => interval.from <= ordinal && ordinal <= interval.to);
}

/**
 * Whether a pod of `ordinal` is one the spec runs, in time linear in the reserved intervals (not
 * in `replicas`): at or past the start, not reserved, and fewer than `replicas` live ones before it.
 */
export function isLiveOrdinal(spec: OrdinalSpec | undefined, ordinal: number): boolean {
  const start = Math.max(0, spec?.ordinals?.start ?? 0);
  if (!Number.isInteger(ordinal) || ordinal < start || isReserved(spec, ordinal)) return false;
  const reservedBefore = reservedIntervals(spec?.reserveOrdinals)
    .map((interval) => Math.max(0, Math.min(interval.to, ordinal - 1) - Math.max(interval.from, start) + 1))
    .reduce((sum, count) => sum + count, 0);
  return ordinal - start - reservedBefore < Math.max(0, spec?.replicas ?? 1);
}
