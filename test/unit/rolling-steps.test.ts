import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { INITIAL_CHECKPOINT, beginRollback, nextCompensation, stepSucceeded } from "../../runner/saga/checkpoint.ts";
import { shownStep, shownSteps } from "../../runner/report.ts";
import { movingReplicas, rollingSteps } from "../../runner/steps/rolling/index.ts";
import { stepsFor } from "../../runner/steps/index.ts";
import type { JournalPlan, ZoneMigrationResource } from "../../runner/journal/types.ts";

/** Three replicas in cn-shanghai-b; 0 and 2 move to g, 1 already sits in its planned zone m. */
const PLAN: JournalPlan = {
  ordinals: [
    { ordinal: 0, zone: "cn-shanghai-g", volumes: [{ claim: "data-db-0", fromZone: "cn-shanghai-b", toZone: "cn-shanghai-g", move: true }] },
    { ordinal: 1, zone: "cn-shanghai-m", volumes: [{ claim: "data-db-1", fromZone: "cn-shanghai-m", toZone: "cn-shanghai-m", move: false }] },
    { ordinal: 2, zone: "cn-shanghai-g", volumes: [{ claim: "data-db-2", fromZone: "cn-shanghai-b", toZone: "cn-shanghai-g", move: true }, { claim: "logs-db-2", fromZone: "cn-shanghai-b", toZone: "cn-shanghai-g", move: true }] },
  ],
};

function journal(strategy: "Rolling" | "Recreate", plan?: JournalPlan): ZoneMigrationResource {
  return {
    apiVersion: "zoneferry.io/v1alpha1",
    kind: "ZoneMigration",
    metadata: { name: "db-abc" },
    spec: { statefulSet: "db", migrationId: "abc", targetZones: ["cn-shanghai-g"], request: { checkIntervalMs: 1000, readyTimeoutMs: 60_000, healthDurationMs: 0, snapshotRetentionDays: 1, retainSource: false, strategy, retry: "" }, ...(plan === undefined ? {} : { plan }) },
  };
}

describe("the steps of strategy Rolling", () => {
  it("moves only the ordinals whose disks move, highest ordinal first, each with its own claims", () => {
    assert.deepEqual(movingReplicas(PLAN).map((scope) => [scope.ordinal, [...scope.claims]]), [[2, ["data-db-2", "logs-db-2"]], [0, ["data-db-0"]]]);
  });

  it("runs five steps per moving replica between protect and the set's verification, and finishes last", () => {
    assert.deepEqual(rollingSteps(PLAN).map((step) => step.name), [
      "precheck", "protect",
      "replica-2/take-down", "replica-2/snapshot", "replica-2/create-disks", "replica-2/rebind", "replica-2/bring-up",
      "replica-0/take-down", "replica-0/snapshot", "replica-0/create-disks", "replica-0/rebind", "replica-0/bring-up",
      "verify", "finish",
    ]);
  });

  it("keeps precheck and protect at their places before the plan is known, so a checkpoint counted then stays true", () => {
    assert.deepEqual(rollingSteps(undefined).slice(0, 2).map((step) => step.name), ["precheck", "protect"]);
    assert.deepEqual(stepsFor(undefined).slice(0, 2).map((step) => step.name), ["precheck", "protect"]);
    assert.equal(stepsFor(journal("Rolling", PLAN)).length, 14);
    assert.equal(stepsFor(journal("Recreate", PLAN)).length, 8);
  });

  it("settles a replica once it is up on its new disks: a later replica's failure undoes only that replica", () => {
    const steps = rollingSteps(PLAN);
    let checkpoint = INITIAL_CHECKPOINT;
    // Replica 2 moves; replica 0 gets as far as its rebind, then its bring-up fails.
    for (const step of steps.slice(0, 11)) checkpoint = stepSucceeded(checkpoint, step.name, step.compensate !== undefined, step.settles);
    assert.deepEqual(checkpoint.registered, ["protect", "replica-0/take-down", "replica-0/create-disks", "replica-0/rebind"]);
    checkpoint = beginRollback(checkpoint, "replica-0/bring-up", "not Ready within ready-timeout", true);
    const deferred = new Set(steps.filter((step) => step.compensateLast === true).map((step) => step.name));
    const order: string[] = [];
    for (let next = nextCompensation(checkpoint, deferred); next !== undefined; next = nextCompensation(checkpoint, deferred)) {
      order.push(next);
      checkpoint = { ...checkpoint, compensated: [...checkpoint.compensated, next] };
    }
    assert.deepEqual(order, ["replica-0/bring-up", "replica-0/rebind", "replica-0/take-down", "protect", "replica-0/create-disks"]);
  });

  it("names the ordinal among the replicas where a user reads the step", () => {
    assert.equal(shownStep("replica-2/rebind", 3), "replica 2/3: rebind");
    assert.equal(shownStep("rebind", 3), "rebind");
    assert.equal(shownSteps("step replica-1/snapshot failed: no stock; rolled back", 3), "step replica 1/3: snapshot failed: no stock; rolled back");
  });
});
