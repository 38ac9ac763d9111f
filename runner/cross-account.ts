/**
 * What the export and restore steps share: the request's operation (from the job, which the gate
 * checked against its journal and its migration id) and the Resource Sharing client, both refused
 * with a message when absent.
 */
import type { RequestOperation } from "../core/cross-account-request.ts";
import type { SnapshotSharing } from "../core/snapshot-sharing.ts";
import type { MigrationContext } from "./context.ts";
import { PermanentMigrationError } from "./faults.ts";

export function exportOf(context: MigrationContext): Extract<RequestOperation, { kind: "export" }> {
  const operation = context.job.operation;
  if (operation?.kind !== "export") throw new PermanentMigrationError(`job ${context.job.migrationId} is not an export`);
  return operation;
}

export function restoreOf(context: MigrationContext): Extract<RequestOperation, { kind: "restore" }> {
  const operation = context.job.operation;
  if (operation?.kind !== "restore") throw new PermanentMigrationError(`job ${context.job.migrationId} is not a restore`);
  return operation;
}

export function sharingOf(context: MigrationContext): SnapshotSharing {
  if (context.sharing !== undefined) return context.sharing;
  throw new PermanentMigrationError(`this zoneferry has no Resource Sharing endpoint (RESOURCE_SHARING_ENDPOINT, Helm ecs.resourceSharingEndpoint), so it cannot ${context.job.operation?.kind ?? "share"} snapshots across accounts; nothing was changed`);
}
