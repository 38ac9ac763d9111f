/**
 * The deterministic migration id (contract §3): the same request always gets the same id, so the
 * webhook can enqueue it any number of times (the BullMQ job id is the migration id) and the
 * mutating webhook always yields the same patch.
 */
import { createHash } from "node:crypto";
import { requestAnnotationsOf } from "./annotations.ts";
import { operationMaterial, type RequestOperation } from "./cross-account-request.ts";
import { parseMigrationRequest, type MigrationRequest } from "./migration-request.ts";

/** Hex characters kept: 48 bits make a collision between two requests of one StatefulSet negligible. */
const ID_LENGTH = 12;

export interface MigrationIdentity {
  readonly namespace: string;
  readonly name: string;
  /** Normalized target zones, in the user's order. */
  readonly targetZones: readonly string[];
  readonly retry: string;
  /** An export or a restore; absent for a move. */
  readonly operation?: RequestOperation | undefined;
}

/** Lower-case hex, so it is valid in Kubernetes names, label values and BullMQ job ids (no ':'). */
export function migrationId(identity: MigrationIdentity): string {
  // NUL separates fields: no namespace, name, zone or retry value can contain it.
  // A move's material is as it always was: its ids do not change with exports and restores existing.
  const operation = operationMaterial(identity.operation);
  const material = [identity.namespace, identity.name, identity.targetZones.join(","), identity.retry, ...(operation === undefined ? [] : [operation])].join("\u0000");
  return createHash("sha256").update(material).digest("hex").slice(0, ID_LENGTH);
}

/** The StatefulSet's current request, read from its annotations, and the id it has. */
export interface CurrentRequest {
  readonly request: MigrationRequest;
  readonly migrationId: string;
}

/**
 * The id of a request of the StatefulSet `namespace`/`name`: what identifies it is its zones (an
 * export's accounts, a restore's source) and its retry.
 */
export function requestMigrationId(namespace: string, name: string, request: Pick<MigrationRequest, "targetZones" | "retry"> & { readonly operation?: MigrationRequest["operation"] | undefined }): string {
  return migrationId({ namespace, name, targetZones: request.targetZones, retry: request.retry, operation: request.operation });
}

/**
 * The request the StatefulSet's annotations make now and its id; undefined when they make none
 * (no request annotation) or an invalid one. The webhook, the runner's precheck and its reconciler all
 * ask this question; they ask it here.
 */
export function currentRequest(namespace: string, name: string, annotations: Readonly<Record<string, string>>): CurrentRequest | undefined {
  if (requestAnnotationsOf(annotations).length === 0) return undefined;
  const parsed = parseMigrationRequest(annotations);
  if (!parsed.ok) return undefined;
  return { request: parsed.request, migrationId: requestMigrationId(namespace, name, parsed.request) };
}
