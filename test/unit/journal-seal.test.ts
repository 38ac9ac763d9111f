/**
 * The runner's seal on the journals it creates (runner/journal/seal.ts): only its key makes one,
 * and a seal is good for exactly the journal it was made for.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { JournalSeal, SEAL_ANNOTATION } from "../../runner/journal/seal.ts";
import type { ZoneMigrationResource } from "../../runner/journal/types.ts";

const IDENTITY = { namespace: "shop", name: "db-0a1b2c3d4e5f", statefulSet: "db", statefulSetUid: "uid-1", migrationId: "0a1b2c3d4e5f" };

function journal(seal: string | undefined, change: Partial<typeof IDENTITY> = {}): ZoneMigrationResource {
  const at = { ...IDENTITY, ...change };
  return {
    apiVersion: "zoneferry.io/v1alpha1",
    kind: "ZoneMigration",
    metadata: { namespace: at.namespace, name: at.name, ...(seal === undefined ? {} : { annotations: { [SEAL_ANNOTATION]: seal } }) },
    spec: { statefulSet: at.statefulSet, migrationId: at.migrationId, targetZones: ["cn-shanghai-g"] },
  };
}

describe("the runner's seal on its journals", () => {
  const key = new JournalSeal(randomBytes(32));

  it("accepts a journal it sealed, for the StatefulSet it was sealed for", () => {
    assert.equal(key.verify(journal(key.seal(IDENTITY)), "uid-1"), true);
  });

  it("refuses a journal with no seal, a seal of another key, or a garbled one", () => {
    assert.equal(key.verify(journal(undefined), "uid-1"), false);
    assert.equal(key.verify(journal(new JournalSeal(randomBytes(32)).seal(IDENTITY)), "uid-1"), false);
    assert.equal(key.verify(journal("v1.abc"), "uid-1"), false);
    assert.equal(key.verify(journal(`${key.seal(IDENTITY)}.extra`), "uid-1"), false);
  });

  it("refuses a seal moved to another journal, namespace, StatefulSet or migration, or to a StatefulSet made again", () => {
    const sealed = key.seal(IDENTITY);
    for (const change of [{ name: "db-ffffffffffff" }, { namespace: "other" }, { statefulSet: "web" }, { migrationId: "ffffffffffff" }]) {
      assert.equal(key.verify(journal(sealed, change), "uid-1"), false, JSON.stringify(change));
    }
    assert.equal(key.verify(journal(sealed), "uid-2"), false, "another StatefulSet uid");
    assert.equal(key.verify(journal(sealed), undefined), false, "no StatefulSet uid");
  });

  it("refuses a key shorter than 32 bytes, saying how to make one", () => {
    assert.throws(() => new JournalSeal(randomBytes(16)), /the journal key has 16 bytes; it needs at least 32/);
  });
});
