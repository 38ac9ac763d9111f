/** metav1.Condition bookkeeping for the journal's status, as apimachinery's meta.SetStatusCondition does it. */
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
