/**
 * The saga's progress, kept in the job's data and saved before anything relies on it: which step
 * runs next, which compensations are registered (a step's, only after it succeeded), which have
 * run, and how often the current step has met a transient fault. Pure transitions.
 */

export type SagaStatus = "Succeeded" | "Failed" | "RollbackFailed";

export interface SagaResult {
  readonly status: SagaStatus;
  readonly message: string;
  /** Succeeded, but a step past the point of no return left work for a human (the message says what). */
  readonly leftovers?: boolean;
}

export interface SagaCheckpoint {
  readonly phase: "forward" | "compensating" | "finished";
  /** Index of the next step to run forward. */
  readonly next: number;
  /** Steps whose compensation is registered, in the order they succeeded. */
  readonly registered: readonly string[];
  readonly compensated: readonly string[];
  readonly compensationFailures: readonly { readonly step: string; readonly message: string }[];
  /** Transient faults met by the step now running (forward or compensating). */
  readonly retries: number;
  /** Re-checks the step now running has asked for (absent in checkpoints saved before it was kept). */
  readonly waits?: number;
  /** When the step now running first asked to wait, epoch ms. */
  readonly waitingSince?: number | undefined;
  /** Transient faults met by the report of the step now entered, or of the result (they spend no step retry). */
  readonly reportRetries?: number;
  /** Saves of the checkpoint that met a transient fault in a row (the job is delayed and the step re-run). */
  readonly saveRetries?: number;
  /** Why the saga rolls back; `cancelled` when the user asked it to (not a fault of the step). */
  readonly failure?: { readonly step: string; readonly message: string; readonly cancelled?: boolean };
  /** What compensations kept on purpose, for the result's message (a disk a pod wrote to). */
  readonly kept?: readonly string[];
  readonly result?: SagaResult;
}

/**
 * What of a checkpoint must survive the queue's loss (it goes to the journal): where the saga is,
 * what is registered and undone, why it failed, its result. Retry and re-check counters restart
 * harmlessly (a new retry budget, quick first re-checks), so they live in the job only, and a
 * re-check writes nothing to the API server.
 */
export type DurableCheckpoint = Omit<SagaCheckpoint, "retries" | "waits" | "waitingSince" | "reportRetries" | "saveRetries">;

const COUNTERS: ReadonlySet<string> = new Set(["retries", "waits", "waitingSince", "reportRetries", "saveRetries"]);

export function durable(checkpoint: SagaCheckpoint): DurableCheckpoint {
  // As it reads back from JSON (no undefined members), so a stored copy compares equal.
  return JSON.parse(JSON.stringify(checkpoint, (key, value: unknown) => (COUNTERS.has(key) ? undefined : value))) as DurableCheckpoint;
}

/** A checkpoint resumed from its durable part: counters restart. */
export function resumed(saved: DurableCheckpoint): SagaCheckpoint {
  return { ...saved, retries: 0 };
}

export const INITIAL_CHECKPOINT: SagaCheckpoint = { phase: "forward", next: 0, registered: [], compensated: [], compensationFailures: [], retries: 0 };

/** `settles`: the prefix of the steps whose compensations this success makes void (runner/saga/step.ts). */
export function stepSucceeded(checkpoint: SagaCheckpoint, step: string, hasCompensation: boolean, settles?: string): SagaCheckpoint {
  const registered = hasCompensation ? [...checkpoint.registered, step] : checkpoint.registered;
  return {
    ...checkpoint,
    next: checkpoint.next + 1,
    retries: 0,
    waits: 0,
    waitingSince: undefined,
    registered: settles === undefined ? registered : registered.filter((name) => !name.startsWith(settles)),
  };
}

export function waited(checkpoint: SagaCheckpoint, now: number): SagaCheckpoint {
  return { ...checkpoint, waits: (checkpoint.waits ?? 0) + 1, waitingSince: checkpoint.waitingSince ?? now };
}

export function retried(checkpoint: SagaCheckpoint): SagaCheckpoint {
  return { ...checkpoint, retries: checkpoint.retries + 1 };
}

export function reportRetried(checkpoint: SagaCheckpoint): SagaCheckpoint {
  return { ...checkpoint, reportRetries: (checkpoint.reportRetries ?? 0) + 1 };
}

/** A report landed or was given up: the next report starts a fresh budget. */
export function reported(checkpoint: SagaCheckpoint): SagaCheckpoint {
  return withoutCounter(checkpoint, "reportRetries");
}

/** The job's copy of the last saved checkpoint, counting one more save that failed after it. */
export function saveRetried(checkpoint: SagaCheckpoint): SagaCheckpoint {
  return { ...checkpoint, saveRetries: (checkpoint.saveRetries ?? 0) + 1 };
}

/** A save went through: the failed saves before it are forgotten. */
export function saved(checkpoint: SagaCheckpoint): SagaCheckpoint {
  return withoutCounter(checkpoint, "saveRetries");
}

/** Without the counter, rather than with it at 0: the job's data keeps the shape it had before it was counted. */
function withoutCounter(checkpoint: SagaCheckpoint, counter: "reportRetries" | "saveRetries"): SagaCheckpoint {
  if (checkpoint[counter] === undefined) return checkpoint;
  const copy: { -readonly [K in keyof SagaCheckpoint]: SagaCheckpoint[K] } = { ...checkpoint };
  if (counter === "reportRetries") delete copy.reportRetries;
  else delete copy.saveRetries;
  return copy;
}

/** Starts the rollback; `compensateFailed` registers the failed step's own compensation first. */
export function beginRollback(checkpoint: SagaCheckpoint, step: string, message: string, compensateFailed = false): SagaCheckpoint {
  const registered = compensateFailed && !checkpoint.registered.includes(step) ? [...checkpoint.registered, step] : checkpoint.registered;
  return { ...checkpoint, phase: "compensating", retries: 0, waits: 0, waitingSince: undefined, registered, failure: { step, message } };
}

/** The user cancelled before `step` ran (again): the rollback as after its failure, said as a cancel. */
export function cancelAt(checkpoint: SagaCheckpoint, step: string, reason: string, compensateStep: boolean): SagaCheckpoint {
  return { ...beginRollback(checkpoint, step, reason, compensateStep), failure: { step, message: reason, cancelled: true } };
}

/**
 * The next compensation to run: the latest registered one not yet run or given up; those in
 * `deferred` only once no other is left.
 */
export function nextCompensation(checkpoint: SagaCheckpoint, deferred: ReadonlySet<string> = new Set()): string | undefined {
  const settled = new Set([...checkpoint.compensated, ...checkpoint.compensationFailures.map((failure) => failure.step)]);
  const pending = [...checkpoint.registered].reverse().filter((step) => !settled.has(step));
  return pending.find((step) => !deferred.has(step)) ?? pending[0];
}

export function compensated(checkpoint: SagaCheckpoint, step: string, kept?: string): SagaCheckpoint {
  const withKept = kept === undefined ? {} : { kept: [...(checkpoint.kept ?? []), kept] };
  return { ...checkpoint, retries: 0, waits: 0, waitingSince: undefined, compensated: [...checkpoint.compensated, step], ...withKept };
}

export function compensationFailed(checkpoint: SagaCheckpoint, step: string, message: string): SagaCheckpoint {
  return { ...checkpoint, retries: 0, waits: 0, waitingSince: undefined, compensationFailures: [...checkpoint.compensationFailures, { step, message }] };
}

export function finished(checkpoint: SagaCheckpoint, result: SagaResult): SagaCheckpoint {
  return { ...checkpoint, phase: "finished", result };
}

/** A step past the point of no return could not finish: the saga ends without a rollback. */
export function unfinished(checkpoint: SagaCheckpoint, step: string, message: string): SagaCheckpoint {
  return finished(checkpoint, { status: "Succeeded", message: `all steps done but ${step}, which could not finish: ${message}`, leftovers: true });
}

/** The outcome once forward steps ran out, or compensation did. */
export function outcomeOf(checkpoint: SagaCheckpoint): SagaResult {
  if (checkpoint.failure === undefined) return { status: "Succeeded", message: "all steps done" };
  const cause = checkpoint.failure.cancelled === true ? `cancelled at step ${checkpoint.failure.step}: ${checkpoint.failure.message}` : `step ${checkpoint.failure.step} failed: ${checkpoint.failure.message}`;
  const kept = (checkpoint.kept ?? []).length === 0 ? "" : `; kept: ${(checkpoint.kept ?? []).join("; ")}`;
  if (checkpoint.compensationFailures.length === 0) return { status: "Failed", message: `${cause}; rolled back${kept}` };
  const left = checkpoint.compensationFailures.map((failure) => `${failure.step} (${failure.message})`).join("; ");
  return { status: "RollbackFailed", message: `${cause}; rollback could not undo: ${left}${kept}` };
}
