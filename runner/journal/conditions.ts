/** metav1.Condition bookkeeping for the journal's status, as apimachinery's meta.SetStatusCondition does it. */
import type { DurableCheckpoint } from "../saga/checkpoint.ts";
import type { JournalCondition, ZoneMigrationStatus } from "./types.ts";

/**
 * Adds or updates the condition of `condition.type`. lastTransitionTime moves only when the
 * status flips, so it tells when the condition became what it is, not when it was last written.
 */
export function setCondition(status: ZoneMigrationStatus, condition: Omit<JournalCondition, "lastTransitionTime">, now: Date = new Date()): void {
  const conditions = (status.conditions ??= []);
  const existing = conditions.find((candidate) => candidate.type === condition.type);
  if (existing === undefined) {
    conditions.push({ ...condition, lastTransitionTime: `${now.toISOString().slice(0, 19)}Z` });
    return;
  }
  if (existing.status !== condition.status) existing.lastTransitionTime = `${now.toISOString().slice(0, 19)}Z`;
  Object.assign(existing, { ...condition, lastTransitionTime: existing.lastTransitionTime });
}

/** The reason of a wait's condition while it lasts (runner/waits.ts beginWait), and once it ended. */
export const WAITING_REASON = "Waiting";
export const WAIT_DONE_REASON = "Done";

/**
 * Ends every wait still open in `status`: each condition True for a wait (reason Waiting) is set
 * False with reason Done, its message kept, so the journal shows what was waited for and, by its
 * lastTransitionTime, when the wait ended. A False condition is not a begun wait
 * (runner/waits.ts): a later wait of the same type starts its own clock.
 */
export function endWaits(status: ZoneMigrationStatus, now: Date = new Date()): void {
  for (const condition of status.conditions ?? []) {
    if (condition.status !== "True" || condition.reason !== WAITING_REASON) continue;
    setCondition(status, { type: condition.type, status: "False", reason: WAIT_DONE_REASON, message: condition.message, ...(condition.observedGeneration === undefined ? {} : { observedGeneration: condition.observedGeneration }) }, now);
  }
}

/**
 * Whether the saga has gone past the step it was in: the next step forward, a compensation done,
 * the rollback begun, or the end. A re-check or a retry of the same step saves the same place,
 * and its waits go on.
 */
export function checkpointMovedOn(before: DurableCheckpoint | undefined, after: DurableCheckpoint): boolean {
  if (before === undefined) return true;
  return before.phase !== after.phase || before.next !== after.next || before.compensated.length !== after.compensated.length || before.compensationFailures.length !== after.compensationFailures.length;
}
