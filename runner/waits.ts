/**
 * Bounded waits. A wait's start is a journal condition set once (its transition time survives a
 * runner restart, so a crash never restarts the clock); past its bound the step fails for good and
 * the migration rolls back.
 */
import { formatDuration } from "../core/duration.ts";
import { journalNameOf, readJournal, type MigrationContext } from "./context.ts";
import { PermanentMigrationError } from "./faults.ts";
import { WAITING_REASON, setCondition } from "./journal/conditions.ts";
import type { ZoneMigrationResource } from "./journal/types.ts";
import { waitAndRecheck, type StepOutcome } from "./saga/step.ts";
import { withinPart } from "./saga/step-scope.ts";

/**
 * The journal condition of a wait: under strategy Rolling each replica's waits have their own
 * (`ClaimsRebinding.2`), or the second replica's wait would start on the first one's clock.
 */
export function waitCondition(context: MigrationContext, type: string): string {
  return context.replica === undefined ? type : `${type}.${context.replica.ordinal}`;
}

/** The journal, with the condition `type` set True the first time this wait is seen. */
export async function beginWait(context: MigrationContext, wait: string, message: string): Promise<ZoneMigrationResource> {
  const type = waitCondition(context, wait);
  const journal = await readJournal(context);
  if (journal.status?.conditions?.some((condition) => condition.type === type && condition.status === "True") === true) return journal;
  return withinPart("wait", () => context.journal.updateStatus(context.job.namespace, journalNameOf(context), (status) => {
    setCondition(status, { type, status: "True", reason: WAITING_REASON, message });
  }));
}

/**
 * When the wait of condition `type` began, in epoch ms (now, if it was never recorded). Only a
 * True condition is a begun wait: once a step passed it, the condition is False (reason Done,
 * runner/journal/conditions.ts endWaits), and a later wait of the same type starts anew.
 */
export function waitStartedAt(context: MigrationContext, journal: ZoneMigrationResource, wait: string): number {
  const type = waitCondition(context, wait);
  const since = journal.status?.conditions?.find((condition) => condition.type === type && condition.status === "True")?.lastTransitionTime;
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

export interface BoundedWait {
  /** The journal condition that records when this wait began (one per wait, per phase). */
  readonly type: string;
  readonly limitMs: number;
  /** What is awaited, for the re-check's reason: "pod(s) db-0 (Terminating) to go". */
  readonly awaited: string;
  /** What is still not there past the bound, for the failure: "pod(s) db-0 (Terminating) still there". */
  readonly overdue: string;
  readonly pollMs: number;
}

/**
 * One more look at a wait that has not ended: its start is journaled the first time, and past its
 * bound the step fails for good with `overdue` (the migration rolls back, or a compensation is
 * recorded as not done); otherwise the step is re-checked after `pollMs`.
 */
export async function waitWithin(context: MigrationContext, wait: BoundedWait): Promise<StepOutcome> {
  const journal = await beginWait(context, wait.type, `waiting for ${wait.awaited}`);
  failIfOverdue(context, journal, { type: wait.type, limitMs: wait.limitMs, what: () => wait.overdue });
  return waitAndRecheck(wait.pollMs, `waiting for ${wait.awaited}`);
}

/** How long a step waits on the cluster (pods going, claims binding): the request's ready-timeout. */
export function clusterWaitMs(journal: ZoneMigrationResource): number {
  return journal.spec.request?.readyTimeoutMs ?? 900_000;
}
