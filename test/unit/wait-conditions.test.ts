import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MigrationContext } from "../../runner/context.ts";
import { checkpointMovedOn, endWaits, setCondition } from "../../runner/journal/conditions.ts";
import type { ZoneMigrationResource, ZoneMigrationStatus } from "../../runner/journal/types.ts";
import { durable, INITIAL_CHECKPOINT } from "../../runner/saga/checkpoint.ts";
import { waitStartedAt } from "../../runner/waits.ts";

const T0 = new Date("2026-12-01T08:00:00Z");
const later = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);
const NOW = T0.getTime() + 3_600_000;
const context = { now: () => NOW } as unknown as MigrationContext;
const journalOf = (status: ZoneMigrationStatus): ZoneMigrationResource => ({ apiVersion: "zoneferry.io/v1alpha1", kind: "ZoneMigration", metadata: {}, spec: { statefulSet: "db", migrationId: "m", targetZones: ["g"] }, status });

describe("journal conditions of waits", () => {
  it("ends every open wait: False, reason Done, its message kept, its time the end", () => {
    const status: ZoneMigrationStatus = {};
    setCondition(status, { type: "PodsStopping", status: "True", reason: "Waiting", message: "waiting for pod(s) db-0 to go" }, T0);
    setCondition(status, { type: "Other", status: "True", reason: "Something", message: "not a wait" }, T0);
    endWaits(status, later(30));
    assert.deepEqual(status.conditions, [
      { type: "PodsStopping", status: "False", reason: "Done", message: "waiting for pod(s) db-0 to go", lastTransitionTime: "2026-12-01T08:00:30Z" },
      { type: "Other", status: "True", reason: "Something", message: "not a wait", lastTransitionTime: "2026-12-01T08:00:00Z" },
    ]);
    endWaits(status, later(90));
    assert.equal(status.conditions[0]?.lastTransitionTime, "2026-12-01T08:00:30Z", "an ended wait keeps when it ended");
  });

  it("does not count a False condition as a begun wait: a later wait of that type starts its own clock", () => {
    const status: ZoneMigrationStatus = {};
    setCondition(status, { type: "PodsStopping", status: "True", reason: "Waiting", message: "w" }, T0);
    assert.equal(waitStartedAt(context, journalOf(status), "PodsStopping"), T0.getTime());
    endWaits(status, later(30));
    assert.equal(waitStartedAt(context, journalOf(status), "PodsStopping"), NOW, "ended: no wait under way");
    setCondition(status, { type: "PodsStopping", status: "True", reason: "Waiting", message: "w" }, later(600));
    assert.equal(waitStartedAt(context, journalOf(status), "PodsStopping"), later(600).getTime(), "the second wait's clock, not the first's");
  });

  it("tells a saga that moved on from one re-checking or retrying the same step", () => {
    const start = durable(INITIAL_CHECKPOINT);
    assert.equal(checkpointMovedOn(undefined, start), true);
    assert.equal(checkpointMovedOn(start, { ...start }), false, "a re-check saves the same place");
    assert.equal(checkpointMovedOn(start, { ...start, next: 1, registered: ["protect"] }), true);
    assert.equal(checkpointMovedOn(start, { ...start, phase: "compensating", failure: { step: "snapshot", message: "x" } }), true);
    const back = { ...start, phase: "compensating" as const, registered: ["protect", "scale-to-zero"] };
    assert.equal(checkpointMovedOn(back, { ...back, compensated: ["scale-to-zero"] }), true);
    assert.equal(checkpointMovedOn(back, { ...back, compensationFailures: [{ step: "scale-to-zero", message: "x" }] }), true);
  });
});
