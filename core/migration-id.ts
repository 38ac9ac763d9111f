/**
 * The deterministic migration id (contract §3): the same request always gets the same id, so the
 * webhook can enqueue it any number of times (the BullMQ job id is the migration id) and the
 * mutating webhook always yields the same patch.
 */
import { createHash } from "node:crypto";
import { USER_ANNOTATIONS } from "./annotations.ts";
import { parseMigrationRequest, type MigrationRequest } from "./migration-request.ts";

/** Hex characters kept: 48 bits make a collision between two requests of one StatefulSet negligible. */
const ID_LENGTH = 12;

export interface MigrationIdentity {
  readonly namespace: string;
  readonly name: string;
  /** Normalized target zones, in the user's order. */
  readonly targetZones: readonly string[];
  readonly retry: string;
}

/** Lower-case hex, so it is valid in Kubernetes names, label values and BullMQ job ids (no ':'). */
export function migrationId(identity: MigrationIdentity): string {
  // NUL separates fields: no namespace, name, zone or retry value can contain it.
  const material = [identity.namespace, identity.name, identity.targetZones.join(","), identity.retry].join("\u0000");
  return createHash("sha256").update(material).digest("hex").slice(0, ID_LENGTH);
}

/** The StatefulSet's current request, read from its annotations, and the id it has. */
export interface CurrentRequest {
  readonly request: MigrationRequest;
  readonly migrationId: string;
}

/** The id of a request of the StatefulSet `namespace`/`name`: what identifies it is its zones and its retry. */
export function requestMigrationId(namespace: string, name: string, request: Pick<MigrationRequest, "targetZones" | "retry">): string {
  return migrationId({ namespace, name, targetZones: request.targetZones, retry: request.retry });
}

/**
 * The request the StatefulSet's annotations make now and its id; undefined when they make none
 * (no target-zones) or an invalid one. The webhook, the runner's precheck and its reconciler all
 * ask this question; they ask it here.
 */
export function currentRequest(namespace: string, name: string, annotations: Readonly<Record<string, string>>): CurrentRequest | undefined {
  if (annotations[USER_ANNOTATIONS.targetZones] === undefined) return undefined;
  const parsed = parseMigrationRequest(annotations);
  if (!parsed.ok) return undefined;
  return { request: parsed.request, migrationId: requestMigrationId(namespace, name, parsed.request) };
}
