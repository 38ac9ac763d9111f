/**
 * The ZoneMigration custom resource (group zoneferry.io), the durable journal of a migration
 * (contract §3). Only the fields the webhook reads are typed here; the runner owns the full shape.
 */
import type { V1ObjectMeta } from "@kubernetes/client-node";
import { ACTIVE_STATUSES } from "./annotations.ts";

export const ZONE_MIGRATION_GROUP = "zoneferry.io";
export const ZONE_MIGRATION_VERSION = "v1alpha1";
export const ZONE_MIGRATION_PLURAL = "zonemigrations";

export interface ZoneMigration {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec?: {
    statefulSet?: string;
    migrationId?: string;
    targetZones?: string[];
  };
  status?: {
    phase?: string;
    step?: string;
    message?: string;
  };
}

/** The journal of a StatefulSet's migration that is still Pending, Running or RollingBack. */
export function activeZoneMigration(migrations: readonly ZoneMigration[], statefulSet: string): ZoneMigration | undefined {
  return migrations.find(
    (migration) => migration.spec?.statefulSet === statefulSet && ACTIVE_STATUSES.has(migration.status?.phase ?? "Pending"),
  );
}
