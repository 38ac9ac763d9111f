/**
 * Parsing and validation of the user's annotations (contract §2) into a typed, normalized request.
 * Every problem names the annotation, the value and what is allowed, because that text is what a
 * user reads in Argo CD or Flux when a sync is denied.
 */
import { ANNOTATION_PREFIX, KNOWN_ANNOTATIONS, USER_ANNOTATIONS, requestAnnotationsOf } from "./annotations.ts";
import {
  MAX_EXPORT_ACCOUNTS_LENGTH,
  inapplicableAnnotations,
  parseExportAccounts,
  parseRestoreFrom,
  type RequestOperation,
} from "./cross-account-request.ts";
import { MAX_QUOTED_LENGTH, clipText, listWithin, quoted } from "./bounded-text.ts";
import { formatDuration, parseDuration } from "./duration.ts";

export const STRATEGIES = ["Recreate", "Rolling"] as const;
export type Strategy = (typeof STRATEGIES)[number];

/**
 * Strategies the runner carries out: both. `Recreate` stops every replica for the whole move;
 * `Rolling` moves one replica at a time, highest ordinal first (contract §6). The set stays so
 * that a strategy named in the vocabulary before it is built is denied, never run as another.
 */
export const AVAILABLE_STRATEGIES: ReadonlySet<Strategy> = new Set<Strategy>(["Recreate", "Rolling"]);

/** A validated migration request, every default applied. */
export interface MigrationRequest {
  /** Target zones in the user's order (the order breaks placement ties). */
  readonly targetZones: readonly string[];
  readonly checkIntervalMs: number;
  readonly readyTimeoutMs: number;
  readonly healthDurationMs: number;
  /** 1..65536, or -1 for "keep until deleted by hand". */
  readonly snapshotRetentionDays: number;
  readonly retainSource: boolean;
  readonly strategy: Strategy;
  /** The `retry` value, "" when absent. */
  readonly retry: string;
  /**
   * An export or a restore (core/cross-account-request.ts); absent for a move. Neither has target
   * zones (`targetZones` is empty) nor a strategy of its own.
   */
  readonly operation?: RequestOperation;
}

export interface AnnotationProblem {
  readonly annotation: string;
  readonly value: string;
  /** A whole sentence naming annotation, value and what is allowed. */
  readonly message: string;
}

export type RequestParse =
  | { readonly ok: true; readonly request: MigrationRequest }
  | { readonly ok: false; readonly problems: readonly AnnotationProblem[] };

export const MAX_TARGET_ZONES = 16;
const ZONE_ID = /^[a-z0-9]+(-[a-z0-9]+)+$/;
const MAX_ZONE_ID_LENGTH = 63;

/**
 * Longest value of each annotation, checked before any is parsed: a value is held in the job, the
 * journal and every message that quotes it, and forged 2.9 MB `retry` values filled Redis.
 * target-zones holds at most 16 zone IDs of at most 63 characters, each with a comma and a space.
 * Every other value is a short word, number or duration; 63 characters (a Kubernetes label value)
 * is far more than any of them needs, and leaves `retry` room for what people bump it with: a
 * counter, a date, a 40-character commit id.
 */
export const MAX_VALUE_LENGTH = 63;
export const MAX_TARGET_ZONES_LENGTH = MAX_TARGET_ZONES * (MAX_ZONE_ID_LENGTH + 2);

/**
 * Unknown zoneferry.io/ keys given a "did you mean" each; the rest are counted. Each suggestion
 * measures edit distances, and 3,447 forged keys cost 1.4 s of the event loop and a 1.3 MB answer.
 */
export const MAX_UNKNOWN_NAMED = 5;

/** Bounds of the duration annotations; chosen so a typo ("15h" for "15m") is caught, not obeyed. */
const LIMITS = {
  checkInterval: { min: 1_000, max: 3_600_000 },
  readyTimeout: { min: 30_000, max: 86_400_000 },
  healthDuration: { min: 0, max: 86_400_000 },
} as const;

const DEFAULTS = {
  checkIntervalMs: 60_000,
  readyTimeoutMs: 15 * 60_000,
  healthDurationMs: 0,
  snapshotRetentionDays: 1,
  retainSource: false,
  strategy: "Recreate",
} as const;

type Annotations = Readonly<Record<string, string>>;

/** Splits and trims the target-zones value; the normalized form the migration id is made from. */
export function normalizeTargetZones(value: string): string[] {
  return value.split(",").map((zone) => zone.trim());
}

/**
 * Parses the user's zoneferry annotations; call only when a request annotation (target-zones,
 * export-to-accounts or restore-from) is present. More than one is refused: one request at a time.
 */
export function parseMigrationRequest(annotations: Annotations): RequestParse {
  const requested = requestAnnotationsOf(annotations);
  if (requested.length > 1) {
    return { ok: false, problems: [{ annotation: requested[1]!, value: annotations[requested[1]!] ?? "", message: `annotations ${requested.join(" and ")} cannot be set together: a StatefulSet carries one request at a time (a move, an export or a restore); remove all but one` }] };
  }
  if (requested[0] !== undefined && requested[0] !== USER_ANNOTATIONS.targetZones) return parseCrossAccountRequest(annotations, requested[0]);
  const problems: AnnotationProblem[] = [];
  const collect = <T>(result: T | AnnotationProblem): T | undefined => {
    if (isProblem(result)) {
      problems.push(result);
      return undefined;
    }
    return result;
  };
  problems.push(...unknownAnnotations(annotations));
  const oversized = oversizedValues(annotations);
  if (oversized.length > 0) return { ok: false, problems: [...problems, ...oversized] };
  const targetZones = collect(parseTargetZones(annotations[USER_ANNOTATIONS.targetZones] ?? ""));
  const checkIntervalMs = collect(parseBoundedDuration(annotations, "checkInterval", DEFAULTS.checkIntervalMs));
  const readyTimeoutMs = collect(parseBoundedDuration(annotations, "readyTimeout", DEFAULTS.readyTimeoutMs));
  const healthDurationMs = collect(parseBoundedDuration(annotations, "healthDuration", DEFAULTS.healthDurationMs));
  const snapshotRetentionDays = collect(parseRetentionDays(annotations[USER_ANNOTATIONS.snapshotRetentionDays]));
  const retainSource = collect(parseRetainSource(annotations[USER_ANNOTATIONS.retainSource]));
  const strategy = collect(parseStrategy(annotations[USER_ANNOTATIONS.strategy]));
  if (checkIntervalMs !== undefined && readyTimeoutMs !== undefined && readyTimeoutMs < checkIntervalMs) {
    problems.push(readyTimeoutBelowInterval(annotations, checkIntervalMs));
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    request: Object.freeze({
      targetZones: Object.freeze(targetZones!),
      checkIntervalMs: checkIntervalMs!,
      readyTimeoutMs: readyTimeoutMs!,
      healthDurationMs: healthDurationMs!,
      snapshotRetentionDays: snapshotRetentionDays!,
      retainSource: retainSource!,
      strategy: strategy!,
      retry: (annotations[USER_ANNOTATIONS.retry] ?? "").trim(),
    }),
  };
}

/** An export or a restore: its own annotation, the waits, retention (export only) and retry. */
function parseCrossAccountRequest(annotations: Annotations, key: string): RequestParse {
  const problems: AnnotationProblem[] = [...unknownAnnotations(annotations)];
  const oversized = oversizedValues(annotations);
  if (oversized.length > 0) return { ok: false, problems: [...problems, ...oversized] };
  const value = annotations[key] ?? "";
  const parsed = key === USER_ANNOTATIONS.exportToAccounts ? parseExportAccounts(value) : parseRestoreFrom(value);
  const operation = "kind" in parsed ? parsed : undefined;
  if (operation === undefined) problems.push(parsed as AnnotationProblem);
  else problems.push(...inapplicableAnnotations(operation, annotations));
  const collect = <T>(result: T | AnnotationProblem): T | undefined => {
    if (!isProblem(result)) return result;
    problems.push(result);
    return undefined;
  };
  const checkIntervalMs = collect(parseBoundedDuration(annotations, "checkInterval", DEFAULTS.checkIntervalMs));
  const readyTimeoutMs = collect(parseBoundedDuration(annotations, "readyTimeout", DEFAULTS.readyTimeoutMs));
  // An export's snapshots are the restore's source: kept until deleted by hand unless asked otherwise.
  const snapshotRetentionDays = operation?.kind === "export" && annotations[USER_ANNOTATIONS.snapshotRetentionDays] !== undefined
    ? collect(parseRetentionDays(annotations[USER_ANNOTATIONS.snapshotRetentionDays]))
    : -1;
  if (checkIntervalMs !== undefined && readyTimeoutMs !== undefined && readyTimeoutMs < checkIntervalMs) problems.push(readyTimeoutBelowInterval(annotations, checkIntervalMs));
  if (problems.length > 0 || operation === undefined) return { ok: false, problems };
  return {
    ok: true,
    request: Object.freeze({
      targetZones: Object.freeze([]),
      checkIntervalMs: checkIntervalMs!,
      readyTimeoutMs: readyTimeoutMs!,
      healthDurationMs: 0,
      snapshotRetentionDays: snapshotRetentionDays!,
      // Nothing of the source is deleted by an export or a restore.
      retainSource: true,
      strategy: "Recreate",
      retry: (annotations[USER_ANNOTATIONS.retry] ?? "").trim(),
      operation,
    }),
  };
}

function isProblem(value: unknown): value is AnnotationProblem {
  return typeof value === "object" && value !== null && "annotation" in value && "message" in value;
}

function problem(annotation: string, value: string, allowed: string): AnnotationProblem {
  return { annotation, value, message: `annotation ${annotation}: ${quoted(value)} ${allowed}` };
}

/** A problem for each user annotation whose value is longer than it may be; nothing else is read of those. */
function oversizedValues(annotations: Annotations): AnnotationProblem[] {
  return Object.values(USER_ANNOTATIONS).flatMap((key) => {
    const value = annotations[key];
    const max = key === USER_ANNOTATIONS.targetZones ? MAX_TARGET_ZONES_LENGTH : key === USER_ANNOTATIONS.exportToAccounts ? MAX_EXPORT_ACCOUNTS_LENGTH : MAX_VALUE_LENGTH;
    if (value === undefined || value.length <= max) return [];
    return [problem(key, value, `is too long; it may have at most ${max} characters`)];
  });
}

function parseTargetZones(value: string): string[] | AnnotationProblem {
  const key = USER_ANNOTATIONS.targetZones;
  const allowed = `comma-separated zone IDs such as "cn-shanghai-b,cn-shanghai-g"`;
  const zones = normalizeTargetZones(value);
  if (zones.some((zone) => zone === "")) {
    return problem(key, value, `has an empty item; expected ${allowed}`);
  }
  const invalid = zones.filter((zone) => zone.length > MAX_ZONE_ID_LENGTH || !ZONE_ID.test(zone));
  if (invalid.length > 0) {
    const names = listWithin(invalid.map((zone) => quoted(zone)));
    return problem(key, value, `has invalid zone IDs ${names}; a zone ID is lower-case letters and digits in dash-separated parts (like cn-shanghai-b), at most ${MAX_ZONE_ID_LENGTH} characters`);
  }
  const duplicates = [...new Set(zones.filter((zone, index) => zones.indexOf(zone) !== index))];
  if (duplicates.length > 0) {
    return problem(key, value, `lists ${listWithin(duplicates)} more than once; list each target zone once`);
  }
  if (zones.length > MAX_TARGET_ZONES) {
    return problem(key, value, `lists ${zones.length} zones; at most ${MAX_TARGET_ZONES} are allowed`);
  }
  return zones;
}

function parseBoundedDuration(
  annotations: Annotations,
  which: keyof typeof LIMITS,
  fallback: number,
): number | AnnotationProblem {
  const key = USER_ANNOTATIONS[which];
  const value = annotations[key];
  if (value === undefined) return fallback;
  const { min, max } = LIMITS[which];
  const range = `between ${formatDuration(min)} and ${formatDuration(max)}`;
  const ms = parseDuration(value);
  if (ms === undefined) {
    return problem(key, value, `is not a duration; use minutes ("1", "0.5") or a duration ("30s", "2m", "1h30m") ${range}`);
  }
  if (ms < min || ms > max) {
    return problem(key, value, `is out of range; use a duration ${range}`);
  }
  return ms;
}

function readyTimeoutBelowInterval(annotations: Annotations, checkIntervalMs: number): AnnotationProblem {
  const key = USER_ANNOTATIONS.readyTimeout;
  return problem(
    key,
    annotations[key] ?? formatDuration(DEFAULTS.readyTimeoutMs),
    `is shorter than ${USER_ANNOTATIONS.checkInterval} (${formatDuration(checkIntervalMs)}); the readiness check would never run twice, so use a ready-timeout at least as long as the check interval`,
  );
}

function parseRetentionDays(value: string | undefined): number | AnnotationProblem {
  if (value === undefined) return DEFAULTS.snapshotRetentionDays;
  const trimmed = value.trim();
  const days = /^-?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (days === -1 || (days >= 1 && days <= 65_536)) return days;
  return problem(
    USER_ANNOTATIONS.snapshotRetentionDays,
    value,
    `is not allowed; use a whole number of days from 1 to 65536, or -1 to keep the snapshots until deleted by hand`,
  );
}

function parseRetainSource(value: string | undefined): boolean | AnnotationProblem {
  if (value === undefined) return DEFAULTS.retainSource;
  const lower = value.trim().toLowerCase();
  if (lower === "true" || lower === "false") return lower === "true";
  return problem(
    USER_ANNOTATIONS.retainSource,
    value,
    `is not allowed; use "true" (keep the source disks and PVs after success) or "false" (delete them after success)`,
  );
}

function parseStrategy(value: string | undefined): Strategy | AnnotationProblem {
  if (value === undefined) return DEFAULTS.strategy;
  const match = STRATEGIES.find((strategy) => strategy.toLowerCase() === value.trim().toLowerCase());
  return match ?? problem(USER_ANNOTATIONS.strategy, value, `is not a strategy; use "Recreate" (every replica down for the whole move) or "Rolling" (one replica at a time)`);
}

/**
 * The problem with a request for a strategy that is not available yet, else undefined (every
 * strategy of the vocabulary is available now). Kept apart from parsing, and used by admission and
 * the runner's precheck alike: a StatefulSet that already carries a strategy from an earlier
 * zoneferry must still sync; only a new request, or a change of strategy, would be denied.
 */
export function unavailableStrategy(request: MigrationRequest, annotations: Annotations): AnnotationProblem | undefined {
  if (AVAILABLE_STRATEGIES.has(request.strategy)) return undefined;
  return problem(
    USER_ANNOTATIONS.strategy,
    annotations[USER_ANNOTATIONS.strategy] ?? request.strategy,
    `is not available yet; use ${[...AVAILABLE_STRATEGIES].map((strategy) => `"${strategy}"`).join(" or ")}`,
  );
}

/**
 * A misspelt zoneferry annotation is denied rather than ignored: a silently ignored
 * `retain-sources: "true"` would delete the source disks the user meant to keep. The first
 * MAX_UNKNOWN_NAMED (in key order) are named with a suggestion; the others are counted.
 */
function unknownAnnotations(annotations: Annotations): AnnotationProblem[] {
  const unknown = Object.keys(annotations).filter((key) => key.startsWith(ANNOTATION_PREFIX) && !KNOWN_ANNOTATIONS.has(key)).sort();
  const userKeys = Object.values(USER_ANNOTATIONS).join(", ");
  // The list of what can be set is told once: five copies of it made the answer long.
  const named = unknown.slice(0, MAX_UNKNOWN_NAMED).map((key, index) => {
    const nearest = nearestKnown(key);
    const hint = nearest === undefined ? "" : `did you mean ${nearest}? `;
    const list = index === 0 ? `the annotations you can set are ${userKeys}` : "see the annotations you can set above";
    return {
      annotation: key,
      value: annotations[key] ?? "",
      message: `annotation ${clipText(key, MAX_QUOTED_LENGTH)} is not a zoneferry annotation; ${hint}${list}`,
    };
  });
  const rest = unknown.slice(MAX_UNKNOWN_NAMED);
  if (rest.length === 0) return named;
  const more = {
    annotation: rest[0]!,
    value: annotations[rest[0]!] ?? "",
    message: `${rest.length} more ${ANNOTATION_PREFIX} annotations are not zoneferry annotations either; remove them`,
  };
  return [...named, more];
}

/** The known key within 3 edits of `key`, if any. A key whose length differs by more than 3 is never measured. */
function nearestKnown(key: string): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of KNOWN_ANNOTATIONS) {
    if (Math.abs(candidate.length - key.length) > 3) continue;
    const distance = editDistance(key, candidate);
    if (distance <= 3 && (best === undefined || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
