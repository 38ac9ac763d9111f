/**
 * Injected faults: rules, set through the control API, that make matching ECS calls fail, slow
 * down or hang. A rule matches an action (or "*"); it lets the first `after` matching calls through,
 * then fires on the next `times` ones (all, if unset), each with `probability`. A firing rule adds
 * its delay, and answers its error code (with ECS's status for it) or leaves the call hanging.
 * A CreateSnapshot rule with `failSnapshotAfterMs` lets the call succeed instead, and the snapshot
 * it makes turns failed that long (cloud time, scaled by timeScale) after it became usable: an
 * instant-access snapshot a disk may already have been made from, failing afterwards.
 */
import { randomUUID } from "node:crypto";
import { EcsError, messageOf, statusOf } from "./errors.ts";

export interface FaultSpec {
  readonly action: string;
  readonly code?: string;
  readonly httpStatus?: number;
  readonly message?: string;
  readonly times?: number;
  readonly after?: number;
  readonly probability?: number;
  /** Sent as x-acs-retry-after (ms), which the SDK hands over as ThrottlingError.retryAfter. */
  readonly retryAfterMs?: number;
  readonly delayMs?: number;
  readonly hang?: boolean;
  /** CreateSnapshot only: the snapshot made fails this long (cloud ms) after it became usable. */
  readonly failSnapshotAfterMs?: number;
}

export interface Fault extends FaultSpec {
  readonly id: string;
  /** Matching calls seen. */
  matched: number;
  /** Calls it fired on. */
  fired: number;
}

/** What the faults decided for one call. */
export interface FaultOutcome {
  readonly delayMs: number;
  readonly hang: boolean;
  readonly error: EcsError | undefined;
  /** The snapshot the call makes fails this long after it is usable; undefined: it does not. */
  readonly snapshotFailsAfterMs: number | undefined;
}

/** A fault rule the control API cannot accept; the message says why. */
export class FaultSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FaultSpecError";
    Object.setPrototypeOf(this, new.target.prototype);
  }
}


export class FaultRegistry {
  #faults: Fault[] = [];

  /** Adds a rule from the control API's JSON; throws FaultSpecError if it is not one. */
  add(spec: unknown): Fault {
    const checked = checkSpec(spec);
    const fault: Fault = { id: randomUUID(), ...checked, matched: 0, fired: 0 };
    this.#faults.push(fault);
    return fault;
  }

  list(): readonly Fault[] {
    return this.#faults;
  }

  remove(id: string): boolean {
    const before = this.#faults.length;
    this.#faults = this.#faults.filter((fault) => fault.id !== id);
    return this.#faults.length < before;
  }

  clear(): void {
    this.#faults = [];
  }

  /** Counts the call against every matching rule and returns what the firing ones impose. */
  evaluate(action: string, random: () => number = Math.random): FaultOutcome {
    let delayMs = 0;
    let hang = false;
    let error: EcsError | undefined;
    let snapshotFailsAfterMs: number | undefined;
    for (const fault of this.#faults.filter((candidate) => candidate.action === "*" || candidate.action === action)) {
      if (!fires(fault, random)) continue;
      delayMs += fault.delayMs ?? 0;
      hang ||= fault.hang === true;
      error ??= errorOf(fault);
      snapshotFailsAfterMs ??= fault.failSnapshotAfterMs;
    }
    return { delayMs, hang, error, snapshotFailsAfterMs };
  }
}

function fires(fault: Fault, random: () => number): boolean {
  fault.matched++;
  if (fault.matched <= (fault.after ?? 0)) return false;
  if (fault.times !== undefined && fault.fired >= fault.times) return false;
  if (random() >= (fault.probability ?? 1)) return false;
  fault.fired++;
  return true;
}

function errorOf(fault: Fault): EcsError | undefined {
  if (fault.code === undefined) return undefined;
  const headers = fault.retryAfterMs === undefined ? {} : { "x-acs-retry-after": String(fault.retryAfterMs) };
  return new EcsError(fault.code, fault.httpStatus ?? statusOf(fault.code), fault.message ?? messageOf(fault.code), headers);
}

const isCount = (value: unknown): boolean => typeof value === "number" && Number.isInteger(value) && value >= 0;
const isMs = (value: unknown): boolean => typeof value === "number" && Number.isFinite(value) && value >= 0;

const OPTIONAL_FIELDS: Readonly<Record<string, { readonly valid: (value: unknown) => boolean; readonly expected: string }>> = {
  code: { valid: (value) => typeof value === "string" && value !== "", expected: "must be an ECS error code" },
  httpStatus: { valid: (value) => isCount(value) && (value as number) >= 400 && (value as number) <= 599, expected: "must be 400..599" },
  message: { valid: (value) => typeof value === "string", expected: "must be a string" },
  times: { valid: (value) => isCount(value) && (value as number) > 0, expected: "must be a positive integer" },
  after: { valid: isCount, expected: "must be an integer ≥ 0" },
  probability: { valid: (value) => typeof value === "number" && value >= 0 && value <= 1, expected: "must be between 0 and 1" },
  retryAfterMs: { valid: isMs, expected: "must be milliseconds ≥ 0" },
  delayMs: { valid: isMs, expected: "must be milliseconds ≥ 0" },
  hang: { valid: (value) => typeof value === "boolean", expected: "must be true or false" },
  failSnapshotAfterMs: { valid: isMs, expected: "must be milliseconds ≥ 0" },
};

function checkSpec(spec: unknown): FaultSpec {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) throw new FaultSpecError("a fault is a JSON object such as {\"action\":\"CreateDisk\",\"code\":\"Throttling.User\",\"times\":1}");
  const fields = spec as Record<string, unknown>;
  const problems = Object.keys(fields).filter((key) => key !== "action" && !(key in OPTIONAL_FIELDS)).map((key) => `unknown field "${key}"`);
  if (typeof fields.action !== "string" || fields.action === "") problems.push('action must name an ECS action or be "*"');
  for (const [field, rule] of Object.entries(OPTIONAL_FIELDS)) {
    const value = fields[field];
    if (value !== undefined && !rule.valid(value)) problems.push(`${field} ${rule.expected}`);
  }
  if (fields.code === undefined && fields.delayMs === undefined && fields.hang !== true && fields.failSnapshotAfterMs === undefined) {
    problems.push("a fault needs a code, a delayMs, hang: true or failSnapshotAfterMs");
  }
  if (fields.failSnapshotAfterMs !== undefined && fields.action !== "CreateSnapshot") problems.push('failSnapshotAfterMs needs action "CreateSnapshot"');
  if (problems.length > 0) throw new FaultSpecError(problems.join("; "));
  return fields as unknown as FaultSpec;
}
