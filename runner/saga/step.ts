/**
 * A migration step: one module per step (`runner/steps/NN-verb-noun.ts`) exports one. `run` and
 * `compensate` read the actual state first and act on the gap, so either may run twice, or after a
 * crash half-way, without harm. A step that must wait for the world (pods gone, a snapshot
 * Available) answers `wait`: the job is re-checked later, holding no lock meanwhile.
 */

export type StepOutcome =
  /** `kept`: a compensation left something on purpose (it holds data); the result names it. */
  | { readonly kind: "done"; readonly kept?: string }
  | { readonly kind: "wait"; readonly delayMs: number; readonly reason: string }
  /** The saga has nothing more to do (e.g. no disk to move): it ends Succeeded with this message. */
  | { readonly kind: "complete"; readonly message: string }
  /**
   * The saga must stop where it is, undoing nothing (what a rollback needs is gone, e.g. the
   * StatefulSet was deleted): it ends Failed with this message, which says where the data is.
   */
  | { readonly kind: "halt"; readonly message: string };

export const done: StepOutcome = { kind: "done" };

/** A compensation is done, and left `what` in place on purpose: the result's message names it. */
export function doneKeeping(what: string | undefined): StepOutcome {
  return what === undefined ? done : { kind: "done", kept: what };
}

export function complete(message: string): StepOutcome {
  return { kind: "complete", message };
}

export function halt(message: string): StepOutcome {
  return { kind: "halt", message };
}

export function waitAndRecheck(delayMs: number, reason: string): StepOutcome {
  return { kind: "wait", delayMs, reason };
}

export interface Step<C> {
  readonly name: string;
  run(context: C): Promise<StepOutcome>;
  /** Undoes `run`; registered only once `run` has succeeded. Absent: nothing to undo. */
  compensate?(context: C): Promise<StepOutcome>;
  /**
   * The step makes things in parallel and may fail with some made: its compensation is registered
   * when it fails for good too, so the rollback removes what it left. The compensation must then
   * cope with a run that did not finish (it reads the actual state anyway).
   */
  readonly compensateOnFailure?: boolean;
  /**
   * Its undo is not needed to bring the app back (it removes what only holds copies, such as the
   * new disks): it runs after every other compensation, so a slow cloud delays the end of the
   * rollback, not the app's return.
   */
  readonly compensateLast?: boolean;
  /**
   * The point of no return (the saga pattern's pivot): once this step starts, the migration is
   * done and is never rolled back. A fault it cannot get past ends the saga Succeeded with a
   * message that says what is left to do by hand; undoing would move the app back off disks it
   * has been verified healthy on, after the step may have deleted the way back.
   */
  readonly pastPointOfNoReturn?: boolean;
  /**
   * Once this step succeeds, the compensations registered by steps whose names start with this
   * prefix are forgotten: what they did stands (strategy Rolling: a replica moved and Ready again
   * stays moved, whatever later fails).
   */
  readonly settles?: string;
}
