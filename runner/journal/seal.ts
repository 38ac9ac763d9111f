/**
 * The runner's seal on the journals it creates. A ZoneMigration is the runner's memory of which
 * disk, snapshot and PV belong to a claim; anyone who may write ZoneMigrations in a namespace (a
 * tenant with a Role) could otherwise hand the runner a journal naming another tenant's disk. The
 * chart's admission policy refuses such writes in the API server; the seal is what still holds when
 * that policy is absent or bypassed (docs/security.md).
 *
 * At creation the runner puts `zoneferry.io/seal: v1.<nonce>.<mac>` on the journal: an HMAC-SHA256,
 * with a key only the runner holds (RUNNER_JOURNAL_KEY_FILE), over the journal's namespace and name,
 * the StatefulSet's name and uid and the migration id. Nobody without the key can make a journal
 * the runner accepts, nor move a seal to another journal or StatefulSet. What the seal does not
 * cover (a sealed journal's status edited by hand) is checked against the live objects before each
 * side effect (runner/provenance.ts).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ZoneMigrationResource } from "./types.ts";

export const SEAL_ANNOTATION = "zoneferry.io/seal";

/** 32 bytes: HMAC-SHA256's block of security; a shorter key is a configuration mistake. */
const MIN_KEY_BYTES = 32;

/** What a seal binds a journal to. */
export interface SealedIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly statefulSet: string;
  readonly statefulSetUid: string;
  readonly migrationId: string;
}

export class JournalSeal {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length < MIN_KEY_BYTES) throw new Error(`the journal key has ${key.length} bytes; it needs at least ${MIN_KEY_BYTES} (e.g. head -c 48 /dev/urandom | base64)`);
    this.#key = key;
  }

  /** A fresh seal for a journal about to be created. */
  seal(identity: SealedIdentity): string {
    const nonce = randomBytes(12).toString("hex");
    return `v1.${nonce}.${this.#mac(identity, nonce)}`;
  }

  /** Whether the journal carries a seal this key made for exactly its namespace, name, StatefulSet and migration. */
  verify(journal: ZoneMigrationResource, statefulSetUid: string | undefined): boolean {
    const [version, nonce, mac, ...rest] = (journal.metadata.annotations?.[SEAL_ANNOTATION] ?? "").split(".");
    if (version !== "v1" || nonce === undefined || mac === undefined || rest.length > 0 || statefulSetUid === undefined) return false;
    const expected = Buffer.from(this.#mac({
      namespace: journal.metadata.namespace ?? "",
      name: journal.metadata.name ?? "",
      statefulSet: journal.spec.statefulSet,
      statefulSetUid,
      migrationId: journal.spec.migrationId,
    }, nonce), "hex");
    const given = Buffer.from(mac, "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  #mac(identity: SealedIdentity, nonce: string): string {
    // A JSON array: no field's value can be mistaken for another's boundary.
    const material = JSON.stringify([identity.namespace, identity.name, identity.statefulSet, identity.statefulSetUid, identity.migrationId, nonce]);
    return createHmac("sha256", this.#key).update(material).digest("hex");
  }
}

/** The seal of the key in `file` (its bytes as they are; a trailing newline is dropped). */
export function journalSealFromFile(file: string): JournalSeal {
  const text = readFileSync(file);
  const trimmed = text.at(-1) === 0x0a ? text.subarray(0, -1) : text;
  return new JournalSeal(trimmed);
}
