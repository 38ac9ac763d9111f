/**
 * The deterministic migration id (contract §3): the same request always gets the same id, so the
 * webhook can enqueue it any number of times (the BullMQ job id is the migration id) and the
 * mutating webhook always yields the same patch.
 */
import { createHash } from "node:crypto";

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
