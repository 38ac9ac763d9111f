/**
 * Runs a saga inside a BullMQ job with the step-job pattern: the checkpoint is saved with
 * `job.updateData` after every transition; a step that waits, or meets a transient fault, moves
 * the job to delayed and throws `DelayedError`, so no worker slot or lock is held meanwhile and a
 * crashed worker's successor resumes at the saved step. A permanent fault (or a step out of
 * retries) unwinds the registered compensations in reverse (Temporal's saga sample); a
 * compensation that cannot finish is recorded and the next still runs.
 */
import { DelayedError, UnrecoverableError, type Job } from "bullmq";
import { describeFault, faultKind, retryAfterMs } from "../faults.ts";
import { isDeepStrictEqual } from "node:util";
import {
  INITIAL_CHECKPOINT,
  beginRollback,
  compensated,
  compensationFailed,
  durable,
  finished,
  nextCompensation,
  outcomeOf,
  resumed,
  retried,
  stepSucceeded,
  unfinished,
  waited,
  type DurableCheckpoint,
  type SagaCheckpoint,
  type SagaResult,
} from "./checkpoint.ts";
import type { Step, StepOutcome } from "./step.ts";
import { withinPart, withinStep } from "./step-scope.ts";

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
  /** The checkpoint's durable home; without one, the job's data is the only record. */
  readonly store?: CheckpointStore;
  /** The steps, in order. */
  readonly steps: readonly Step<C>[];
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
  readonly #steps: readonly Step<C>[];
  readonly #options: SagaOptions<C>;
  #checkpoint: SagaCheckpoint;
  #stored: DurableCheckpoint | undefined;
  readonly #deferred: ReadonlySet<string>;

  constructor(job: Job<D>, token: string | undefined, options: SagaOptions<C>) {
    this.#job = job;
    this.#token = token;
    this.#steps = options.steps;
    this.#options = options;
    this.#checkpoint = job.data.saga ?? INITIAL_CHECKPOINT;
    this.#deferred = new Set(options.steps.filter((step) => step.compensateLast === true).map((step) => step.name));
  }

  async run(context: C): Promise<SagaResult> {
    const stored = await this.#options.store?.load();
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

  async #forward(context: C): Promise<void> {
    const step = this.#steps[this.#checkpoint.next];
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
    const outcome = await this.#attempt(() => step.run(context), onPermanent);
    if (outcome === undefined) return;
    if (outcome.kind === "wait") this.#options.onWait?.(step.name, outcome.reason, outcome.delayMs);
    await this.#afterOutcome(outcome, stepSucceeded(this.#checkpoint, step.name, step.compensate !== undefined));
  }

  async #compensate(context: C): Promise<void> {
    const name = nextCompensation(this.#checkpoint, this.#deferred);
    const step = this.#steps.find((candidate) => candidate.name === name);
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

  /** Reports a step's start: on its first run in this process (re-checks of a step run here). */
  async #entering(step: string, phase: "forward" | "compensating"): Promise<void> {
    const key = `${phase}/${step}`;
    if (this.#options.entered?.has(key) === true) return;
    await withinPart("report", async () => this.#options.onStep?.(step, phase));
    this.#options.entered?.add(key);
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
    await this.#save(whenDone);
  }

  /** Saves the checkpoint and hands the job back to BullMQ until `delayMs` from now. */
  async #delay(checkpoint: SagaCheckpoint, delayMs: number): Promise<never> {
    await this.#save(checkpoint);
    await this.#job.moveToDelayed((this.#options.now ?? Date.now)() + delayMs, this.#token);
    throw new DelayedError();
  }

  async #finish(): Promise<void> {
    await this.#save(finished(this.#checkpoint, outcomeOf(this.#checkpoint)));
  }

  /** The store first (only when a durable field changed: a re-check writes nothing there), then the job. */
  async #save(checkpoint: SagaCheckpoint): Promise<void> {
    await withinPart("checkpoint", () => this.#saveNow(checkpoint));
  }

  async #saveNow(checkpoint: SagaCheckpoint): Promise<void> {
    this.#options.fence?.check();
    const lasting = durable(checkpoint);
    if (this.#options.store !== undefined && !isDeepStrictEqual(lasting, this.#stored)) {
      await this.#options.store.save(lasting);
      this.#stored = lasting;
    }
    this.#checkpoint = checkpoint;
    await this.#job.updateData({ ...this.#job.data, saga: checkpoint });
  }

  /** Reports the result; a rolled-back migration ends as a failed job, so queue tools show it as such. */
  async #conclude(result: SagaResult): Promise<SagaResult> {
    await this.#options.onFinished?.(result);
    if (result.status !== "Succeeded") throw new UnrecoverableError(`${result.status}: ${result.message}`);
    return result;
  }
}
