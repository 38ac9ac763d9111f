import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { ServerError, ThrottlingError } from "@alicloud/openapi-core";
import * as $dara from "@darabonba/typescript";
import { Ecs, REGION, rejectsWithCode, sdkError, startTestEmulator, type TestEmulator } from "./helpers.ts";

describe("ECS emulator: injected faults, latency and flow control", () => {
  let world: TestEmulator;
  const zones = () => world.ecs.describeZones(new Ecs.DescribeZonesRequest({ regionId: REGION }));
  const outcomes = async (action = "DescribeZones") => (await world.control.requests()).filter((request) => request.action === action).map((request) => request.code ?? request.status);

  before(async () => {
    world = await startTestEmulator();
  });
  after(async () => {
    await world.close();
  });
  beforeEach(async () => {
    await world.control.ok("POST", "/reset");
  });

  it("fails the next N matching calls, then lets calls through, and the SDK makes exactly one request per call", async () => {
    await world.control.inject({ action: "DescribeZones", code: "InternalError", times: 2 });
    const first = await sdkError(zones());
    assert.ok(first instanceof ServerError);
    assert.equal(first.statusCode, 500);
    await rejectsWithCode(zones(), "InternalError", 500);
    assert.equal((await zones()).statusCode, 200);
    assert.deepEqual(await outcomes(), ["InternalError", "InternalError", 200]);
  });

  it("lets the first M matching calls through, then fails", async () => {
    await world.control.inject({ action: "DescribeZones", code: "ServiceUnavailable", after: 2, times: 1 });
    await zones();
    await zones();
    await rejectsWithCode(zones(), "ServiceUnavailable", 503);
    await zones();
    assert.deepEqual(await outcomes(), [200, 200, "ServiceUnavailable", 200]);
  });

  it("fails every matching call with probability 1, none with probability 0, and leaves other actions alone", async () => {
    await world.control.inject({ action: "DescribeZones", code: "InternalError", probability: 1 });
    await world.control.inject({ action: "DescribeDisks", code: "InternalError", probability: 0 });
    for (let index = 0; index < 3; index++) await rejectsWithCode(zones(), "InternalError", 500);
    assert.equal((await world.ecs.describeDisks(new Ecs.DescribeDisksRequest({ regionId: REGION }))).statusCode, 200);
  });

  it("applies a \"*\" fault to every action", async () => {
    await world.control.inject({ action: "*", code: "Throttling.Api", times: 2 });
    await rejectsWithCode(zones(), "Throttling.Api", 400);
    await rejectsWithCode(world.ecs.describeDisks(new Ecs.DescribeDisksRequest({ regionId: REGION })), "Throttling.Api", 400);
  });

  it("turns a throttling fault into the SDK's ThrottlingError with retryAfter from x-acs-retry-after", async () => {
    await world.control.inject({ action: "DescribeZones", code: "Throttling.User", times: 1, retryAfterMs: 1_500 });
    const error = await sdkError(zones());
    assert.ok(error instanceof ThrottlingError);
    assert.equal(error.code, "Throttling.User");
    assert.equal(error.statusCode, 400);
    assert.equal(error.retryAfter, 1_500);
  });

  it("lets an SDK configured to retry throttling wait the retry-after and succeed, with every attempt in the log", async () => {
    await world.control.inject({ action: "DescribeZones", code: "Throttling.User", times: 2, retryAfterMs: 50 });
    const patient = world.client({
      retryOptions: new $dara.RetryOptions({
        retryable: true,
        retryCondition: [new $dara.RetryCondition({ maxAttempts: 3, exception: ["ThrottlingError"], errorCode: ["Throttling.User"], backoff: $dara.BackoffPolicy.newBackoffPolicy({ policy: "Fixed", period: 1_000 }), maxDelay: 1_000 })],
        noRetryCondition: [],
      }),
    });
    const started = Date.now();
    assert.equal((await patient.describeZones(new Ecs.DescribeZonesRequest({ regionId: REGION }))).statusCode, 200);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 100 && elapsed < 1_000, `waited the retry-after twice, not the backoff (${elapsed} ms)`);
    assert.deepEqual(await outcomes(), ["Throttling.User", "Throttling.User", 200]);
  });

  it("answers a custom code with the status and message given", async () => {
    await world.control.inject({ action: "DescribeZones", code: "Account.Arrearage", httpStatus: 400, message: "Your account has an outstanding payment.", times: 1 });
    const error = await rejectsWithCode(zones(), "Account.Arrearage", 400);
    assert.match(error.message, /Your account has an outstanding payment\./);
  });

  it("leaves a hanging call unanswered until the SDK gives up with a timeout", async () => {
    await world.control.inject({ action: "DescribeZones", hang: true, times: 1 });
    const impatient = world.client({ readTimeout: 300, connectTimeout: 300 });
    const started = Date.now();
    const error = await sdkError(impatient.describeZones(new Ecs.DescribeZonesRequest({ regionId: REGION })));
    assert.equal(error.name, "RequestTimeoutError");
    assert.ok(Date.now() - started >= 250);
    const [logged] = await world.control.requests();
    assert.equal(logged?.hung, true);
    assert.equal((await zones()).statusCode, 200, "the next call is answered");
  });

  it("slows a call by delayMs without failing it", async () => {
    await world.control.inject({ action: "DescribeZones", delayMs: 150, times: 1 });
    const started = Date.now();
    await zones();
    assert.ok(Date.now() - started >= 140);
  });

  it("lists faults with their counters, and removes one or all of them", async () => {
    const kept = await world.control.inject({ action: "DescribeZones", code: "InternalError", after: 5 });
    const removed = await world.control.inject({ action: "CreateDisk", code: "InternalError" });
    await zones();
    const faults = await world.control.ok<Array<{ id: string; matched: number; fired: number }>>("GET", "/faults");
    assert.deepEqual(faults.map((fault) => [fault.id, fault.matched, fault.fired]), [[kept, 1, 0], [removed, 0, 0]]);
    await world.control.ok("DELETE", `/faults/${removed}`);
    assert.deepEqual((await world.control.ok<Array<{ id: string }>>("GET", "/faults")).map((fault) => fault.id), [kept]);
    assert.equal((await world.control.call("DELETE", `/faults/${removed}`)).status, 404);
    await world.control.ok("DELETE", "/faults");
    assert.deepEqual(await world.control.ok("GET", "/faults"), []);
  });

  it("makes a snapshot fail after instant access: usable at first, then failed, no longer usable and no longer progressing", async () => {
    // A 40 GiB snapshot takes 70 s of cloud time (700 ms here); it fails 30 s (300 ms) after it was usable.
    const slow = await startTestEmulator({ timeScale: 0.01 });
    try {
      await slow.control.inject({ action: "CreateSnapshot", failSnapshotAfterMs: 30_000, times: 1 });
      const snapshotOf = async (diskId: string) => (await slow.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId }))).body?.snapshotId ?? "";
      const read = async (snapshotId: string) => (await slow.ecs.describeSnapshots(new Ecs.DescribeSnapshotsRequest({ regionId: REGION, snapshotIds: JSON.stringify([snapshotId]) }))).body?.snapshots?.snapshot?.[0];
      const diskId = await slow.control.seedDisk({ status: "In_use" });
      const snapshotId = await snapshotOf(diskId);
      const fresh = await read(snapshotId);
      assert.deepEqual([fresh?.status, fresh?.available], ["progressing", true]);
      await slow.control.ok("POST", "/clock", { advanceMs: 350 });
      const failed = await read(snapshotId);
      assert.deepEqual([failed?.status, failed?.available, failed?.remainTime], ["failed", false, 0]);
      assert.ok(Number.parseInt(failed?.progress ?? "", 10) < 100, "its progress stops where it failed");
      await rejectsWithCode(slow.ecs.createDisk(new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: "cn-shanghai-m", diskCategory: "cloud_essd", snapshotId })), "InvalidSnapshotId.NotReady", 403);
      await slow.control.ok("POST", `/disks/${diskId}/detach`);
      await slow.ecs.deleteDisk(new Ecs.DeleteDiskRequest({ diskId }));
      const second = await snapshotOf(await slow.control.seedDisk({ status: "In_use" }));
      await slow.control.ok("POST", "/clock", { advanceMs: 1_000 });
      assert.equal((await read(second))?.status, "accomplished", "the fault fired once");
    } finally {
      await slow.close();
    }
  });

  it("refuses a snapshot failure fault on another action than CreateSnapshot", async () => {
    const answer = await world.control.call("POST", "/faults", { action: "CreateDisk", failSnapshotAfterMs: 10 });
    assert.equal(answer.status, 400);
    assert.match(answer.text, /failSnapshotAfterMs needs action \\"CreateSnapshot\\"/);
  });

  it("refuses a fault it cannot apply, saying why", async () => {
    const answer = await world.control.call("POST", "/faults", { action: "CreateDisk", times: 0, colour: "red" });
    assert.equal(answer.status, 400);
    assert.match(answer.text, /unknown field \\"colour\\"/);
    assert.match(answer.text, /times must be a positive integer/);
    assert.match(answer.text, /a fault needs a code, a delayMs, hang: true or failSnapshotAfterMs/);
  });

  describe("configured latency and flow control", () => {
    it("waits the configured latency of an action before answering", async () => {
      const slow = await startTestEmulator({ latency: { default: 0, DescribeZones: 120 } });
      try {
        const started = Date.now();
        await slow.ecs.describeZones(new Ecs.DescribeZonesRequest({ regionId: REGION }));
        assert.ok(Date.now() - started >= 110);
      } finally {
        await slow.close();
      }
    });

    it("answers calls beyond requestsPerSecond with Throttling.User and a retry-after", async () => {
      const limited = await startTestEmulator({ throttle: { requestsPerSecond: 3 } });
      try {
        const results = await Promise.allSettled(Array.from({ length: 5 }, () => limited.ecs.describeZones(new Ecs.DescribeZonesRequest({ regionId: REGION }))));
        const throttled = results.flatMap((result) => (result.status === "rejected" && result.reason instanceof ThrottlingError ? [result.reason] : []));
        assert.equal(throttled.length, 2, "a burst of 3 passes, the rest is throttled");
        assert.equal(throttled[0]?.code, "Throttling.User");
        assert.ok((throttled[0].retryAfter ?? 0) > 0);
      } finally {
        await limited.close();
      }
    });
  });
});
