import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { eventMessage, eventMigrationId, eventName } from "../../runner/journal/events.ts";
import { statefulSet } from "../support/cluster-fixtures.ts";

const stamped = statefulSet({ annotations: { "zoneferry.io/migration-id": "0123456789ab" } });

describe("Events carry the migration id", () => {
  it("prefixes the message with the StatefulSet's migration id, unless the message names it", () => {
    assert.equal(eventMigrationId(stamped, {}), "0123456789ab");
    assert.equal(eventMessage(stamped, { message: "step snapshot" }), "migration 0123456789ab: step snapshot");
    assert.equal(eventMessage(stamped, { message: "migration 0123456789ab: ready timeout" }), "migration 0123456789ab: ready timeout");
    assert.equal(eventMessage(stamped, { message: "step snapshot", migrationId: "ffffffffffff" }), "migration ffffffffffff: step snapshot");
    assert.equal(eventMessage(statefulSet(), { message: "step  snapshot\n" }), "step snapshot", "unstamped: the message alone");
  });

  it("names the same step of two migrations as two Events", () => {
    const again = statefulSet({ annotations: { "zoneferry.io/migration-id": "ffffffffffff" } });
    const step = { reason: "ZoneferryStep", message: "step snapshot" } as const;
    assert.notEqual(eventName(stamped, step), eventName(again, step));
    assert.equal(eventName(stamped, step), eventName(stamped, { ...step }));
  });
});
