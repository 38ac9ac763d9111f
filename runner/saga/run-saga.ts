/**
 * Runs a saga inside a BullMQ job with the step-job pattern: the checkpoint is saved with
 * `job.updateData` after every transition; a step that waits, or meets a transient fault, moves
 * the job to delayed and throws `DelayedError`, so no worker slot or lock is held meanwhile and a
 * crashed worker's successor resumes at the saved step. A permanent fault (or a step out of
 * retries) unwinds the registered compensations in reverse (Temporal's saga sample); a
 * compensation that cannot finish is recorded and the next still runs.
 *
 * The saga's own calls never end a migration on a fault of the API server or Redis: a report (the
 * step's start, the result) or a checkpoint save that meets a transient fault delays the job and is
 * tried again; a report refused for good is given up, since reports are not the migration's work.
 */
import { DelayedError, UnrecoverableError, type Job } from "bullmq";
import { describeFault, faultKind, retryAfterMs } from "../faults.ts";
import { isDeepStrictEqual } from "node:util";
import {
  INITIAL_CHECKPOINT,
  beginRollback,
  cancelAt,
  compensated,
  compensationFailed,
  durable,
  finished,
  nextCompensation,
  outcomeOf,
  reportRetried,
  reported,
  resumed,
  retried,
  saveRetried,
  saved,
  stepSucceeded,
  unfinished,
  waited,
  type DurableCheckpoint,
  type SagaCheckpoint,
  type SagaResult,
} from "./checkpoint.ts";
import type { Step, StepOutcome } from "./step.ts";
import { withinPart, withinStep } from "./step-scope.ts";
import { withRedisRetry } from "./redis-retry.ts";

export interface SagaData {
  readonly saga?: SagaCheckpoint;
}

/**
 * Where the saga's durable checkpoint lives besides the job (the ZoneMigration journal): the job
 * carries the work, the store the truth, so a queue that lost its data resumes where it was.
 */
export interface CheckpointStore {
  /** The stored checkpoint, or undefined when there is none yet (or it belongs to an earlier run). */
  load(): Promise<DurableCheckpoint | undefined>;
  /** Stores it; called before the job's data is updated, so the store is never behind the job. */
  save(checkpoint: DurableCheckpoint): Promise<void>;
}

export interface SagaOptions<C> {
  /**
   * Checked before the checkpoint is saved; what it throws (a lost Lease) leaves the saga at
   * once, neither counted as a fault nor saved: this worker is no longer the one to act.
   */
  readonly fence?: { check(): void };
  /** Errors that mean "stop, it is not yours": rethrown as they are, never retried or rolled back. */
  readonly isFenced?: (error: unknown) => boolean;
  /**
   * Asked before each run of a forward step (the saga's safe points): a reason means the user
   * cancelled, and the saga rolls back instead of running the step. Not asked at or past the point
   * of no return, where the move stands.
   */
  readonly interrupt?: () => Promise<string | undefined>;
  /** The checkpoint's durable home; without one, the job's data is the only record. */
  readonly store?: CheckpointStore;
  /**
   * The steps, in order; or how to find them from the context, asked before each step (strategy
   * Rolling has steps per replica, known once precheck has journaled the plan). Whatever it
   * answers must keep the steps already run at their places: the checkpoint counts positions.
   */
  readonly steps: readonly Step<C>[] | ((context: C) => Promise<readonly Step<C>[]>);
  /** Transient faults one step may meet before it counts as permanent. @defaultValue 8 */
  readonly maxRetries?: number;
  /** First retry delay; doubles per retry, with jitter. @defaultValue 1000 */
  readonly retryBaseMs?: number;
  /** @defaultValue 60000 */
  readonly retryMaxMs?: number;
  /**
   * A step's re-checks come a fifth of its wait so far after the last, at least this soon and at
   * most as late as the step asked: a wait is overshot by about 20% at worst, not by the step's
   * whole polling interval (each such second is the application's downtime), while a long wait is
   * polled ever more rarely. @defaultValue 100
   */
  readonly firstRecheckMs?: number;
  /**
   * Called when the saga enters a step (forward or compensating), to journal it; not again for the
   * step's own re-checks and retries (each report is several API calls, paid in downtime), but
   * again after a crash, since the report may not have landed.
   */
  readonly onStep?: (step: string, phase: "forward" | "compensating") => Promise<void>;
  /** Called when a step asks to be re-checked later, with its reason and the delay chosen. */
  readonly onWait?: (step: string, reason: string, delayMs: number) => void;
  /** Called whenever the saga concludes (again after a retried job): it must be idempotent. */
  readonly onFinished?: (result: SagaResult) => Promise<void>;
  /**
   * A report (`onStep`, `onFinished`) failed: `retryInMs` when the job is delayed to try it again,
   * undefined when it was given up (refused for good, or a step's report out of retries) and the
   * saga goes on without it.
   */
  readonly onReportFault?: (fault: { readonly step: string | undefined; readonly error: unknown; readonly retryInMs: number | undefined }) => void;
  /** Saving the checkpoint met a transient fault: the job is delayed by `retryInMs` and the step runs again. */
  readonly onSaveFault?: (fault: { readonly error: unknown; readonly retryInMs: number }) => void;
  readonly random?: () => number;
  readonly now?: () => number;
  /**
   * Steps this process has reported entering, kept by the worker across a job's runs; without it
   * every run reports.
   */
  readonly entered?: Set<string>;
}

/** Exponential backoff with jitter (half fixed, half random), never below the source's retry-after. */
export function retryDelay(retries: number, error: unknown, options: Omit<SagaOptions<never>, "steps">): number {
  const base = options.retryBaseMs ?? 1_000;
  const ceiling = options.retryMaxMs ?? 60_000;
  const exponential = Math.min(ceiling, base * 2 ** Math.max(0, retries - 1));
  const jittered = exponential / 2 + (options.random ?? Math.random)() * (exponential / 2);
  return Math.max(Math.round(jittered), retryAfterMs(error) ?? 0);
}

/** The delay before the next re-check of a step that has waited `waitedMs` and asked to wait `askedMs`. */
export function recheckDelay(waitedMs: number, askedMs: number, options: Omit<SagaOptions<never>, "steps">): number {
  return Math.min(askedMs, Math.max(options.firstRecheckMs ?? 100, Math.round(waitedMs / 5)));
}

export async function runSaga<C, D extends SagaData>(job: Job<D>, token: string | undefined, context: C, saga: SagaOptions<C>): Promise<SagaResult> {
  return new SagaRunner(job, token, saga).run(context);
}

class SagaRunner<C, D extends SagaData> {
  readonly #job: Job<D>;
  readonly #token: string | undefined;
  readonly #options: SagaOptions<C>;
  #checkpoint: SagaCheckpoint;
  #stored: DurableCheckpoint | undefined;

  constructor(job: Job<D>, token: string | undefined, options: SagaOptions<C>) {
    this.#job = job;
    this.#token = token;
    this.#options = options;
    this.#checkpoint = job.data.saga ?? INITIAL_CHECKPOINT;
  }

  /** The steps as they stand now; a fault finding them is the next step's (it is retried or delays the job). */
  async #steps(context: C): Promise<readonly Step<C>[]> {
    const { steps } = this.#options;
    return typeof steps === "function" ? steps(context) : steps;
  }

  async run(context: C): Promise<SagaResult> {
    const stored = await this.#load();
    // The job's copy also holds the counters; it is used while it agrees with the store.
    if (stored !== undefined && !isDeepStrictEqual(durable(this.#checkpoint), stored)) this.#checkpoint = resumed(stored);
    this.#stored = stored;
    for (;;) {
      const checkpoint = this.#checkpoint;
      if (checkpoint.phase === "finished") return this.#conclude(checkpoint.result ?? outcomeOf(checkpoint));
      if (checkpoint.phase === "forward") await this.#forward(context);
      else await this.#compensate(context);
    }
  }

  /** The stored checkpoint; a transient fault reading it delays the job, as a failed save does. */
  async #load(): Promise<DurableCheckpoint | undefined> {
    try {
      return await withinPart("checkpoint", async () => this.#options.store?.load());
    } catch (error) {
      if (this.#options.isFenced?.(error) === true || faultKind(error) !== "transient") throw error;
      return this.#retrySave(error);
    }
  }

  async #forward(context: C): Promise<void> {
    const step = (await this.#stepsOrDelay(context))[this.#checkpoint.next];
    if (step === undefined) {
      await this.#finish();
      return;
    }
    await withinStep({ step: step.name, phase: "forward", part: "work" }, () => this.#runForward(step, context));
  }

  async #runForward(step: Step<C>, context: C): Promise<void> {
    await this.#entering(step.name, "forward");
    const cleanUp = step.compensateOnFailure === true && step.compensate !== undefined;
    const onPermanent = step.pastPointOfNoReturn === true
      ? (message: string): SagaCheckpoint => unfinished(this.#checkpoint, step.name, message)
      : (message: string): SagaCheckpoint => beginRollback(this.#checkpoint, step.name, message, cleanUp);
    const cancelled = step.pastPointOfNoReturn === true ? undefined : await this.#interrupted();
    if (cancelled !== undefined) {
      await this.#save(cancelAt(this.#checkpoint, step.name, cancelled, cleanUp));
      return;
    }
    const outcome = await this.#attempt(() => step.run(context), onPermanent);
    if (outcome === undefined) return;
    if (outcome.kind === "wait") this.#options.onWait?.(step.name, outcome.reason, outcome.delayMs);
    await this.#afterOutcome(outcome, stepSucceeded(this.#checkpoint, step.name, step.compensate !== undefined, step.settles));
  }

  async #compensate(context: C): Promise<void> {
    const steps = await this.#stepsOrDelay(context);
    const deferred = new Set(steps.filter((candidate) => candidate.compensateLast === true).map((candidate) => candidate.name));
    const name = nextCompensation(this.#checkpoint, deferred);
    const step = steps.find((candidate) => candidate.name === name);
    if (name === undefined || step?.compensate === undefined) {
      await this.#finish();
      return;
    }
    const undo = step.compensate.bind(step);
    await withinStep({ step: name, phase: "compensating", part: "work" }, () => this.#runCompensation(name, undo, context));
  }

  async #runCompensation(name: string, undo: (context: C) => Promise<StepOutcome>, context: C): Promise<void> {
    await this.#entering(name, "compensating");
    const outcome = await this.#attempt(() => undo(context), (message) => compensationFailed(this.#checkpoint, name, message));
    if (outcome === undefined) return;
    await this.#afterOutcome(outcome, compensated(this.#checkpoint, name, outcome.kind === "done" ? outcome.kept : undefined));
  }

  /** The steps; a transient fault finding them delays the job as a failed step would (within the step's retries). */
  async #stepsOrDelay(context: C): Promise<readonly Step<C>[]> {
    try {
      return await this.#steps(context);
    } catch (error) {
      if (this.#options.isFenced?.(error) === true || faultKind(error) !== "transient" || this.#checkpoint.retries >= (this.#options.maxRetries ?? 8)) throw error;
      const next = retried(this.#checkpoint);
      return this.#delay(next, retryDelay(next.retries, error, this.#options));
    }
  }

  /**
   * The user's cancel, if any. A fault while asking is no cancel: the step runs and meets the same
   * fault through its own retries, and the question is asked again at the next safe point.
   */
  async #interrupted(): Promise<string | undefined> {
    try {
      return await this.#options.interrupt?.();
    } catch (error) {
      if (this.#options.isFenced?.(error) === true) throw error;
      return undefined;
    }
  }

  /**
   * Reports a step's start: on its first run in this process (re-checks of a step run here). A
   * transient fault delays the job and reports again, within the retry budget (a separate one: the
   * step's own is untouched); past it, or refused for good, the step runs unreported: the journal's
   * checkpoint, not the report, is what the migration relies on, and the next report says it all again.
   */
  async #entering(step: string, phase: "forward" | "compensating"): Promise<void> {
    const key = `${phase}/${step}`;
    if (this.#options.entered?.has(key) === true) return;
    try {
      await withinPart("report", async () => this.#options.onStep?.(step, phase));
    } catch (error) {
      if (this.#options.isFenced?.(error) === true) throw error;
      if (faultKind(error) === "transient" && (this.#checkpoint.reportRetries ?? 0) < (this.#options.maxRetries ?? 8)) await this.#retryReport(step, error);
      this.#options.onReportFault?.({ step, error, retryInMs: undefined });
    }
    this.#checkpoint = reported(this.#checkpoint);
    this.#options.entered?.add(key);
  }

  async #retryReport(step: string | undefined, error: unknown): Promise<never> {
    const next = reportRetried(this.#checkpoint);
    const delayMs = retryDelay(next.reportRetries ?? 1, error, this.#options);
    this.#options.onReportFault?.({ step, error, retryInMs: delayMs });
    return this.#delay(next, delayMs);
  }

  /**
   * Runs an action; a transient fault within the retry budget is re-checked after a backoff, a
   * permanent one (or one out of retries) moves the saga on with `onPermanent`.
   */
  async #attempt(action: () => Promise<StepOutcome>, onPermanent: (message: string) => SagaCheckpoint): Promise<StepOutcome | undefined> {
    try {
      return await action();
    } catch (error) {
      if (this.#options.isFenced?.(error) === true) throw error;
      const message = describeFault(error);
      const exhausted = this.#checkpoint.retries >= (this.#options.maxRetries ?? 8);
      if (faultKind(error) === "transient" && !exhausted) {
        const next = retried(this.#checkpoint);
        await this.#delay(next, retryDelay(next.retries, error, this.#options));
      }
      await this.#save(onPermanent(exhausted ? `${message} (still failing after ${this.#checkpoint.retries} retries)` : message));
      return undefined;
    }
  }

  async #afterOutcome(outcome: StepOutcome, whenDone: SagaCheckpoint): Promise<void> {
    if (outcome.kind === "wait") {
      const now = (this.#options.now ?? Date.now)();
      const waiting = waited(this.#checkpoint, now);
      await this.#delay(waiting, recheckDelay(now - (waiting.waitingSince ?? now), outcome.delayMs, this.#options));
    }
    if (outcome.kind === "complete") {
      await this.#save(finished(whenDone, { status: "Succeeded", message: outcome.message }));
      return;
    }
    if (outcome.kind === "halt") {
      // Neither the step's success nor a rollback: the run ends here, undoing nothing.
      await this.#save(finished(this.#checkpoint, { status: "Failed", message: outcome.message }));
      return;
    }
    await this.#save(whenDone);
  }

  /** Saves the checkpoint and hands the job back to BullMQ until `delayMs` from now. */
  async #delay(checkpoint: SagaCheckpoint, delayMs: number): Promise<never> {
    await this.#save(checkpoint);
    return this.#delayed(delayMs);
  }

  /** Hands the job back to BullMQ as it is saved. */
  async #delayed(delayMs: number): Promise<never> {
    await withRedisRetry(() => this.#job.moveToDelayed((this.#options.now ?? Date.now)() + delayMs, this.#token));
    throw new DelayedError();
  }

  async #finish(): Promise<void> {
    await this.#save(finished(this.#checkpoint, outcomeOf(this.#checkpoint)));
  }

  /** The store first (only when a durable field changed: a re-check writes nothing there), then the job. */
  async #save(checkpoint: SagaCheckpoint): Promise<void> {
    try {
      await withinPart("checkpoint", () => this.#saveNow(saved(checkpoint)));
    } catch (error) {
      if (this.#options.isFenced?.(error) === true || faultKind(error) !== "transient") throw error;
      await this.#retrySave(error);
    }
  }

  /**
   * A save (or the load before the first step) that met a transient fault: the job is delayed as last saved and the step runs again
   * (steps are idempotent, and whatever it did is found by reading the actual state). Only the
   * count of failed saves is written to the job, for the backoff: never a checkpoint the store
   * may not have. Without bound: the saga cannot go on without its checkpoint, and failing the job
   * would help nobody (the reconciler would queue it again).
   */
  async #retrySave(error: unknown): Promise<never> {
    const counted = saveRetried(this.#job.data.saga ?? INITIAL_CHECKPOINT);
    const delayMs = retryDelay(counted.saveRetries ?? 1, error, this.#options);
    this.#options.onSaveFault?.({ error, retryInMs: delayMs });
    // Best effort: Redis may be what failed; the backoff then restarts from its first delay.
    await withRedisRetry(() => this.#job.updateData({ ...this.#job.data, saga: counted })).catch(() => undefined);
    return this.#delayed(delayMs);
  }

  async #saveNow(checkpoint: SagaCheckpoint): Promise<void> {
    this.#options.fence?.check();
    const lasting = durable(checkpoint);
    if (this.#options.store !== undefined && !isDeepStrictEqual(lasting, this.#stored)) {
      await this.#options.store.save(lasting);
      this.#stored = lasting;
    }
    this.#checkpoint = checkpoint;
    await withRedisRetry(() => this.#job.updateData({ ...this.#job.data, saga: checkpoint }));
  }

  /**
   * Reports the result; a rolled-back migration ends as a failed job, so queue tools show it as such.
   * The result's report is tried again on transient faults without bound (the journal's final phase
   * is what releases the StatefulSet); refused for good, it is given up and the job ends anyway.
   */
  async #conclude(result: SagaResult): Promise<SagaResult> {
    try {
      await this.#options.onFinished?.(result);
    } catch (error) {
      if (this.#options.isFenced?.(error) === true) throw error;
      if (faultKind(error) === "transient") await this.#retryReport(undefined, error);
      this.#options.onReportFault?.({ step: undefined, error, retryInMs: undefined });
    }
    this.#checkpoint = reported(this.#checkpoint);
    if (result.status !== "Succeeded") throw new UnrecoverableError(`${result.status}: ${result.message}`);
    return result;
  }
}
