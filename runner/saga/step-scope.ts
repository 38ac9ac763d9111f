/**
 * Which step (and whether forward or compensating) the code now running belongs to, carried
 * through every await of the step's run, its report and its checkpoint writes. The saga opens the
 * scope; whoever needs to label a side effect (the write seam) reads it, without each step passing
 * its own name down to every client call.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export interface StepScope {
  readonly step: string;
  readonly phase: "forward" | "compensating";
  /**
   * Reporting the step's start, the step's own work, recording when one of its waits began (apart
   * from the work: whether a step waits depends on the cluster's pace, not on the step), or saving
   * the saga's checkpoint after it.
   */
  readonly part: "report" | "work" | "wait" | "checkpoint";
  /**
   * What this run of the step has read or written already (the journal: runner/journal/memoized-journal.ts),
   * shared by its parts and forgotten when the run ends: a re-check is a new run and reads afresh.
   */
  readonly memo: Map<string, unknown>;
}

const scope = new AsyncLocalStorage<StepScope>();

export function withinStep<T>(where: Omit<StepScope, "memo">, action: () => Promise<T>): Promise<T> {
  return scope.run({ ...where, memo: new Map() }, action);
}

/** The same step, another part of it. */
export function withinPart<T>(part: StepScope["part"], action: () => Promise<T>): Promise<T> {
  const where = scope.getStore();
  return where === undefined ? action() : scope.run({ ...where, part }, action);
}

/** The step the caller runs in; undefined outside any (e.g. the final report). */
export function currentStep(): StepScope | undefined {
  return scope.getStore();
}
