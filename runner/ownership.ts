/**
 * Whose StatefulSet a job may write to. A job in Redis is only a claim that work is due (anyone who
 * reaches the webhook's port, or Redis, can make one); the live StatefulSet says whether it is: the
 * runner writes to it (scales it, annotates it, records Events on it) only while it carries the
 * job's migration id, which the mutating webhook stamps on an admitted request and the guard keeps
 * during the migration (the chart's runner-writes policy refuses the runner's writes to any other,
 * docs/security.md). A cancel removes target-zones but leaves the stamp, so a cancelled migration
 * still reports its rollback.
 */
import type { V1StatefulSet } from "@kubernetes/client-node";
import { OWNED_ANNOTATIONS } from "../core/annotations.ts";
import type { MigrationJobData } from "../core/migration-queue.ts";
import { PermanentMigrationError } from "./faults.ts";

export function carriesMigration(sts: V1StatefulSet, job: Pick<MigrationJobData, "migrationId">): boolean {
  return sts.metadata?.annotations?.[OWNED_ANNOTATIONS.migrationId] === job.migrationId;
}

/** Refuses a write to a StatefulSet that carries another migration (a newer request, or none). */
export function assertCarriesMigration(sts: V1StatefulSet, job: Pick<MigrationJobData, "migrationId" | "namespace" | "statefulSet">): void {
  if (carriesMigration(sts, job)) return;
  const stamped = sts.metadata?.annotations?.[OWNED_ANNOTATIONS.migrationId];
  throw new PermanentMigrationError(`StatefulSet ${job.namespace}/${job.statefulSet} no longer carries migration ${job.migrationId} (${stamped === undefined ? "it carries none" : `it carries ${stamped}`}): zoneferry does not write to it for this migration`);
}
