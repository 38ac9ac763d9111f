/**
 * The ZoneMigration custom resource (group zoneferry.io), the durable journal of a migration
 * (contract §3). The fields the webhook reads are declared here, once; the runner's full type
 * (runner/journal/types.ts) extends these, so the two cannot drift apart.
 */
import type { V1ObjectMeta } from "@kubernetes/client-node";
import { ACTIVE_STATUSES, type MigrationStatus } from "./annotations.ts";

export const ZONE_MIGRATION_GROUP = "zoneferry.io";
export const ZONE_MIGRATION_VERSION = "v1alpha1";
export const ZONE_MIGRATION_PLURAL = "zonemigrations";

/** Which StatefulSet moves where: the part of the spec admission knows (the runner adds the plan). */
export interface ZoneMigrationTarget {
  statefulSet: string;
  /** The StatefulSet's API: absent for apps/v1, else apps.kruise.io/v1beta1 (core/workload/kinds.ts). */
  workloadApiVersion?: string;
  migrationId: string;
  targetZones: string[];
}

/** Where a migration is, for a human and for the guard: the part of the status the webhook reads. */
export interface ZoneMigrationProgress {
  phase?: MigrationStatus;
  /** The step now running, or the last one. */
  step?: string;
  /** One line for a human: what happened, or why it failed. */
  message?: string;
}

/** A ZoneMigration as the webhook reads it: any field may be missing (a journal being written). */
export interface ZoneMigration {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec?: Partial<ZoneMigrationTarget>;
  status?: ZoneMigrationProgress;
}

/** The journal of a StatefulSet's migration that is still Pending, Running or RollingBack. */
export function activeZoneMigration(migrations: readonly ZoneMigration[], statefulSet: string): ZoneMigration | undefined {
  return migrations.find(
    (migration) => migration.spec?.statefulSet === statefulSet && ACTIVE_STATUSES.has(migration.status?.phase ?? "Pending"),
  );
}

/**
 * The finished journal of this very request (same migration id), if there is one: a repeat of a
 * request that ran needs a new zoneferry.io/retry value (contract §2), since its journal is the
 * record of that run and is never replaced.
 */
export function endedZoneMigration(migrations: readonly ZoneMigration[], statefulSet: string, migrationId: string): ZoneMigration | undefined {
  return migrations.find(
    (migration) => migration.spec?.statefulSet === statefulSet && migration.spec.migrationId === migrationId && migration.status?.phase !== undefined && !ACTIVE_STATUSES.has(migration.status.phase),
  );
}
