/**
 * Bounded waits. A wait's start is a journal condition set once (its transition time survives a
 * runner restart, so a crash never restarts the clock); past its bound the step fails for good and
 * the migration rolls back.
 */
import { formatDuration } from "../core/duration.ts";
import { journalNameOf, readJournal, type MigrationContext } from "./context.ts";
import { PermanentMigrationError } from "./faults.ts";
import { setCondition } from "./journal/conditions.ts";
import type { ZoneMigrationResource } from "./journal/types.ts";

/** The journal, with the condition `type` set True the first time this wait is seen. */
export async function beginWait(context: MigrationContext, type: string, message: string): Promise<ZoneMigrationResource> {
  const journal = await readJournal(context);
  if (journal.status?.conditions?.some((condition) => condition.type === type && condition.status === "True") === true) return journal;
  return context.journal.updateStatus(context.job.namespace, journalNameOf(context), (status) => {
    setCondition(status, { type, status: "True", reason: "Waiting", message });
  });
}

/** When the wait of condition `type` began, in epoch ms (now, if it was never recorded). */
export function waitStartedAt(context: MigrationContext, journal: ZoneMigrationResource, type: string): number {
  const since = journal.status?.conditions?.find((condition) => condition.type === type)?.lastTransitionTime;
  return since === undefined ? context.now() : Date.parse(since);
}

export interface WaitBound {
  /** The condition that records the wait's start. */
  readonly type: string;
  readonly limitMs: number;
  /** What is still not there, for the message. */
  readonly what: () => string;
}

/** Throws a permanent fault once the wait has lasted longer than its bound. */
export function failIfOverdue(context: MigrationContext, journal: ZoneMigrationResource, bound: WaitBound): void {
  if (context.now() - waitStartedAt(context, journal, bound.type) <= bound.limitMs) return;
  throw new PermanentMigrationError(`${bound.what()} after ${formatDuration(bound.limitMs)}`);
}
