/**
 * The annotation vocabulary of the contract (§2 and §3): what users write in Git and what zoneferry
 * writes back. Every module names annotations through these constants, never by literal.
 */

export const ANNOTATION_PREFIX = "zoneferry.io/";

/** Annotations a user writes (in Git). */
export const USER_ANNOTATIONS = {
  targetZones: "zoneferry.io/target-zones",
  checkInterval: "zoneferry.io/check-interval",
  readyTimeout: "zoneferry.io/ready-timeout",
  healthDuration: "zoneferry.io/health-duration",
  snapshotRetentionDays: "zoneferry.io/snapshot-retention-days",
  retainSource: "zoneferry.io/retain-source",
  strategy: "zoneferry.io/strategy",
  retry: "zoneferry.io/retry",
  /** An export: snapshots shared with these Alibaba Cloud accounts (docs/cross-account.md). */
  exportToAccounts: "zoneferry.io/export-to-accounts",
  /** A restore, read when the StatefulSet is created: `<source account>/<export id>`. */
  restoreFrom: "zoneferry.io/restore-from",
} as const;

/**
 * The annotations that each make a request: a move, an export, a restore. A StatefulSet carries
 * at most one; removing it cancels the request (runner/cancel.ts).
 */
export const REQUEST_ANNOTATIONS: readonly string[] = [USER_ANNOTATIONS.targetZones, USER_ANNOTATIONS.exportToAccounts, USER_ANNOTATIONS.restoreFrom];

/** The request annotations the object carries, in REQUEST_ANNOTATIONS' order. */
export function requestAnnotationsOf(annotations: Readonly<Record<string, string>> | undefined): string[] {
  return REQUEST_ANNOTATIONS.filter((key) => annotations?.[key] !== undefined);
}

/** Annotations zoneferry owns: stamped by the mutating webhook or written by the runner. */
export const OWNED_ANNOTATIONS = {
  migrationId: "zoneferry.io/migration-id",
  status: "zoneferry.io/status",
  step: "zoneferry.io/step",
  message: "zoneferry.io/message",
  /**
   * A restore: the replicas Git asks for, stamped by the mutating webhook when it holds
   * spec.replicas at 0 until the claims are restored (the runner scales to it then).
   */
  restoreReplicas: "zoneferry.io/restore-replicas",
} as const;

export const KNOWN_ANNOTATIONS: ReadonlySet<string> = new Set([
  ...Object.values(USER_ANNOTATIONS),
  ...Object.values(OWNED_ANNOTATIONS),
]);

export const MIGRATION_STATUSES = ["Pending", "Running", "RollingBack", "Succeeded", "Failed", "RollbackFailed"] as const;
export type MigrationStatus = (typeof MIGRATION_STATUSES)[number];

/** A migration in one of these states holds its StatefulSet: the guard denies changes to it. */
export const ACTIVE_STATUSES: ReadonlySet<string> = new Set<MigrationStatus>(["Pending", "Running", "RollingBack"]);

/** Every zoneferry.io/ annotation of an object, keys in a stable order. */
export function zoneferryAnnotations(annotations: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(annotations ?? {}).sort()) {
    if (key.startsWith(ANNOTATION_PREFIX)) picked[key] = annotations![key]!;
  }
  return picked;
}
