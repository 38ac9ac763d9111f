/**
 * The two cross-account requests (docs/cross-account.md, decision record 15): an export
 * (`zoneferry.io/export-to-accounts`: snapshot every claim and share the snapshots with these
 * accounts) and a restore (`zoneferry.io/restore-from: <source account>/<export id>`: make every
 * claim of a new StatefulSet from the export's shared snapshots). Parsed here into the request's
 * `operation`; the move's own annotations that mean nothing to them are refused, not ignored.
 */
import { USER_ANNOTATIONS } from "./annotations.ts";
import { listWithin, quoted } from "./bounded-text.ts";

/** What a request does besides a move (absent: a move to its target zones). */
export type RequestOperation =
  | { readonly kind: "export"; readonly accounts: readonly string[] }
  | { readonly kind: "restore"; readonly sourceAccount: string; readonly exportId: string };

export interface OperationProblem {
  readonly annotation: string;
  readonly value: string;
  readonly message: string;
}

/** Resource Sharing shares one snapshot with at most 64 accounts. */
export const MAX_EXPORT_ACCOUNTS = 64;
/** An Alibaba Cloud account id (UID): 16 digits. */
const ACCOUNT_ID = /^\d{16}$/;
/** An export id is the export request's migration id (core/migration-id.ts): 12 lower-case hex digits. */
const EXPORT_ID = /^[0-9a-f]{12}$/;
export const MAX_EXPORT_ACCOUNTS_LENGTH = MAX_EXPORT_ACCOUNTS * 18;

/** The move's annotations; an export reads snapshot-retention-days, check-interval, ready-timeout and retry besides its own. */
const MOVE_ONLY = [USER_ANNOTATIONS.strategy, USER_ANNOTATIONS.retainSource, USER_ANNOTATIONS.healthDuration];

function problem(annotation: string, value: string, allowed: string): OperationProblem {
  return { annotation, value, message: `annotation ${annotation}: ${quoted(value)} ${allowed}` };
}

export function parseExportAccounts(value: string): RequestOperation | OperationProblem {
  const key = USER_ANNOTATIONS.exportToAccounts;
  const accounts = value.split(",").map((account) => account.trim());
  const allowed = `comma-separated Alibaba Cloud account ids (16 digits each) such as "1234567890123456,6543210987654321"`;
  if (accounts.some((account) => account === "")) return problem(key, value, `has an empty item; expected ${allowed}`);
  const invalid = accounts.filter((account) => !ACCOUNT_ID.test(account));
  if (invalid.length > 0) return problem(key, value, `has invalid account ids ${listWithin(invalid.map((account) => quoted(account)))}; expected ${allowed}`);
  const repeated = [...new Set(accounts.filter((account, index) => accounts.indexOf(account) !== index))];
  if (repeated.length > 0) return problem(key, value, `lists ${listWithin(repeated)} more than once; list each account once`);
  if (accounts.length > MAX_EXPORT_ACCOUNTS) return problem(key, value, `lists ${accounts.length} accounts; a snapshot can be shared with at most ${MAX_EXPORT_ACCOUNTS}`);
  return { kind: "export", accounts };
}

export function parseRestoreFrom(value: string): RequestOperation | OperationProblem {
  const match = /^(\d+)\/([0-9a-zA-Z]+)$/.exec(value.trim());
  const allowed = `is not a restore source; write "<source account id>/<export id>" as the export's ConfigMap (zoneferry-export-<name>-<export id>) gives it, such as "1234567890123456/0f3c5a9b2e71"`;
  if (match === null || !ACCOUNT_ID.test(match[1]!) || !EXPORT_ID.test(match[2]!)) return problem(USER_ANNOTATIONS.restoreFrom, value, allowed);
  return { kind: "restore", sourceAccount: match[1]!, exportId: match[2]! };
}

/** The move's annotations set on an export or a restore, and snapshot-retention-days on a restore: refused, each named. */
export function inapplicableAnnotations(operation: RequestOperation, annotations: Readonly<Record<string, string>>): OperationProblem[] {
  const keys = operation.kind === "export" ? MOVE_ONLY : [...MOVE_ONLY, USER_ANNOTATIONS.snapshotRetentionDays];
  const what = operation.kind === "export" ? `an export (${USER_ANNOTATIONS.exportToAccounts})` : `a restore (${USER_ANNOTATIONS.restoreFrom})`;
  return keys.filter((key) => annotations[key] !== undefined).map((key) => ({
    annotation: key,
    value: annotations[key]!,
    message: `annotation ${key} means nothing to ${what}; remove it`,
  }));
}

/** What an operation adds to its request's migration id (none for a move: ids of moves are as they were). */
export function operationMaterial(operation: RequestOperation | undefined): string | undefined {
  if (operation === undefined) return undefined;
  return operation.kind === "export" ? `export:${operation.accounts.join(",")}` : `restore:${operation.sourceAccount}/${operation.exportId}`;
}

/**
 * The name of one claim's snapshot in an export: the source namespace, the claim and the export
 * id. ECS keeps a shared snapshot's name (not its id) in the receiving account, so the restore
 * finds each claim's snapshot by this name alone. At most 128 characters (ECS's limit).
 */
export function exportSnapshotName(namespace: string, claim: string, exportId: string): string {
  return `zf-${namespace}-${claim}-${exportId}`;
}

export const MAX_SNAPSHOT_NAME_LENGTH = 128;

/** The share of an export: Resource Sharing names are at most 50 characters, so the export id alone. */
export function exportShareName(exportId: string): string {
  return `zf-export-${exportId}`;
}

/** The ConfigMap an export publishes its mapping and restore annotation in, in the StatefulSet's namespace. */
export function exportConfigMapName(statefulSet: string, exportId: string): string {
  return `zoneferry-export-${statefulSet}-${exportId}`;
}
