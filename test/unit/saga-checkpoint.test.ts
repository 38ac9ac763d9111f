import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UnrecoverableError } from "bullmq";
import { NotFoundCloudError, TransientCloudError } from "../../core/cloud-errors.ts";
import { describeFault, faultKind } from "../../runner/faults.ts";
import { INITIAL_CHECKPOINT, beginRollback, compensated, compensationFailed, durable, nextCompensation, outcomeOf, resumed, retried, stepSucceeded, waited } from "../../runner/saga/checkpoint.ts";
import { recheckDelay, retryDelay } from "../../runner/saga/run-saga.ts";

describe("the saga's checkpoint", () => {
  it("registers a step's compensation only once the step has succeeded", () => {
    const afterA = stepSucceeded(INITIAL_CHECKPOINT, "a", true);
    const afterB = stepSucceeded(afterA, "b", false);
    assert.deepEqual(afterB.registered, ["a"]);
    assert.equal(afterB.next, 2);
  });

  it("unwinds compensations latest first, skipping those run or given up", () => {
    let checkpoint = ["a", "b", "c"].reduce((current, step) => stepSucceeded(current, step, true), INITIAL_CHECKPOINT);
    checkpoint = beginRollback(checkpoint, "d", "no stock");
    assert.equal(nextCompensation(checkpoint), "c");
    checkpoint = compensated(checkpoint, "c");
    checkpoint = compensationFailed(checkpoint, "b", "disk still attached");
    assert.equal(nextCompensation(checkpoint), "a");
    checkpoint = compensated(checkpoint, "a");
    assert.equal(nextCompensation(checkpoint), undefined);
  });

  it("registers a failed step's own compensation first when it asks to clean up after a failure", () => {
    const checkpoint = beginRollback(stepSucceeded(INITIAL_CHECKPOINT, "snapshot", true), "create-disks", "disk stuck Creating", true);
    assert.deepEqual(checkpoint.registered, ["snapshot", "create-disks"]);
    assert.equal(nextCompensation(checkpoint), "create-disks");
    assert.deepEqual(beginRollback(checkpoint, "create-disks", "again", true).registered, ["snapshot", "create-disks"], "registered once");
  });

  it("leaves a compensation marked to run last until every other one is settled", () => {
    let checkpoint = ["protect", "scale-to-zero", "create-disks", "rebind"].reduce((current, step) => stepSucceeded(current, step, true), INITIAL_CHECKPOINT);
    checkpoint = beginRollback(checkpoint, "restore-replicas", "ready-timeout");
    const last = new Set(["create-disks"]);
    const order: string[] = [];
    for (let step = nextCompensation(checkpoint, last); step !== undefined; step = nextCompensation(checkpoint, last)) {
      order.push(step);
      checkpoint = compensated(checkpoint, step);
    }
    assert.deepEqual(order, ["rebind", "scale-to-zero", "protect", "create-disks"]);
  });

  it("says what failed and what the rollback could not undo", () => {
    let checkpoint = beginRollback(stepSucceeded(INITIAL_CHECKPOINT, "snapshot", true), "create-disks", "OperationDenied.NoStock");
    assert.deepEqual(outcomeOf(compensated(checkpoint, "snapshot")), { status: "Failed", message: "step create-disks failed: OperationDenied.NoStock; rolled back" });
    checkpoint = compensationFailed(checkpoint, "snapshot", "InternalError");
    assert.deepEqual(outcomeOf(checkpoint), { status: "RollbackFailed", message: "step create-disks failed: OperationDenied.NoStock; rollback could not undo: snapshot (InternalError)" });
  });
});

describe("re-checking a waiting step", () => {
  it("re-checks soon at first, then a fifth of the wait so far later, never later than the step asked", () => {
    assert.deepEqual([0, 300, 1_000, 4_000, 30_000].map((waited) => recheckDelay(waited, 1_000, {})), [100, 100, 200, 800, 1_000]);
    assert.equal(recheckDelay(0, 50, {}), 50);
    assert.equal(recheckDelay(600_000, 60_000, {}), 60_000);
    assert.equal(recheckDelay(2_000, 60_000, { firstRecheckMs: 1_000 }), 1_000);
  });
});

describe("retrying transient faults", () => {
  it("backs off exponentially with jitter, up to a ceiling", () => {
    const options = { retryBaseMs: 1_000, retryMaxMs: 8_000 };
    assert.equal(retryDelay(1, new Error("x"), { ...options, random: () => 0 }), 500);
    assert.equal(retryDelay(3, new Error("x"), { ...options, random: () => 1 }), 4_000);
    assert.equal(retryDelay(10, new Error("x"), { ...options, random: () => 1 }), 8_000);
  });

  it("never retries sooner than the cloud's retry-after", () => {
    const throttled = new TransientCloudError("throttled", { code: "Throttling.User", action: "CreateSnapshot", retryAfterMs: 5_000 });
    assert.equal(retryDelay(1, throttled, { retryBaseMs: 100, random: () => 0 }), 5_000);
  });

  it("tells transient faults from permanent ones", () => {
    assert.equal(faultKind(new TransientCloudError("x", { code: "InternalError", action: "CreateDisk" })), "transient");
    assert.equal(faultKind(new NotFoundCloudError("x", { code: "InvalidDiskId.NotFound", action: "CreateSnapshot" })), "permanent");
    assert.equal(faultKind(new UnrecoverableError("precondition")), "permanent");
    assert.equal(faultKind(Object.assign(new Error("conflict"), { code: 409 })), "transient");
    assert.equal(faultKind(Object.assign(new Error("forbidden"), { code: 403 })), "permanent");
    assert.equal(faultKind(Object.assign(new Error("reset"), { code: "ECONNRESET" })), "transient");
    assert.equal(faultKind(new TypeError("undefined is not a function")), "permanent");
  });
});

describe("the checkpoint's durable part, kept in the journal", () => {
  it("leaves out the retry and re-check counters, so a re-check writes nothing to the journal", () => {
    const waiting = waited(retried(stepSucceeded(INITIAL_CHECKPOINT, "precheck", false)), 1_000);
    assert.deepEqual(durable(waiting), durable(stepSucceeded(INITIAL_CHECKPOINT, "precheck", false)));
    assert.equal("retries" in durable(waiting), false);
  });

  it("resumes with a fresh retry budget at the step it recorded", () => {
    const rolling = beginRollback(stepSucceeded(INITIAL_CHECKPOINT, "protect", true), "snapshot", "refused");
    const again = resumed(durable(rolling));
    assert.equal(again.phase, "compensating");
    assert.equal(again.retries, 0);
    assert.equal(nextCompensation(again), "protect");
  });

  it("names in the result what a compensation kept on purpose", () => {
    const rolling = beginRollback(stepSucceeded(INITIAL_CHECKPOINT, "create-disks", true), "restore-replicas", "not healthy");
    const result = outcomeOf(compensated(rolling, "create-disks", "new disk d-1 of PVC data-db-0 (the app ran on it after the move), snapshot s-1"));
    assert.equal(result.status, "Failed");
    assert.equal(result.message, "step restore-replicas failed: not healthy; rolled back; kept: new disk d-1 of PVC data-db-0 (the app ran on it after the move), snapshot s-1");
  });
});

describe("a fault's one-line description", () => {
  it("gives an API server refusal as its HTTP code and Status message, without the client's headers", () => {
    const refusal = Object.assign(new Error("HTTP-Code: 422\nMessage: Unknown API Status Code!\nBody: ...\nHeaders: {...}"), {
      code: 422,
      body: JSON.stringify({ kind: "Status", message: "persistentvolumeclaims \"data-db-0\" is forbidden: PVC creation refused by policy", code: 422 }),
    });
    assert.equal(describeFault(refusal), "HTTP 422: persistentvolumeclaims \"data-db-0\" is forbidden: PVC creation refused by policy");
    assert.equal(describeFault(new Error("no stock")), "no stock");
  });
});
