/**
 * The saga engine inside real BullMQ workers on a real Redis. The steps here are scripted: they
 * stand for migration steps, whose own behaviour is tested on the sandbox.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Job, Queue, Worker } from "bullmq";
import { TransientCloudError } from "../../core/cloud-errors.ts";
import { PermanentMigrationError } from "../../runner/faults.ts";
import type { SagaResult } from "../../runner/saga/checkpoint.ts";
import { runSaga, type SagaData, type SagaOptions } from "../../runner/saga/run-saga.ts";
import { complete, done, waitAndRecheck, type Step, type StepOutcome } from "../../runner/saga/step.ts";
import { waitFor } from "../../sandbox/processes.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";

type Script = (StepOutcome | Error | "hang")[];

/** A step answering from a script, one entry per call (the last entry repeats), logging its calls. */
function scripted(name: string, log: string[], run: Script, undo?: Script): Step<unknown> {
  const play = async (script: Script, label: string): Promise<StepOutcome> => {
    log.push(label);
    const entry = script.length > 1 ? script.shift()! : script[0]!;
    if (entry === "hang") return new Promise<never>(() => undefined);
    if (entry instanceof Error) throw entry;
    return entry;
  };
  return { name, run: () => play(run, name), ...(undo === undefined ? {} : { compensate: () => play(undo, `undo-${name}`) }) };
}

describe("the saga engine in BullMQ workers", () => {
  let redis: RedisServer;
  const workers: Worker[] = [];
  before(async () => { redis = await startRedis(); });
  after(async () => {
    await Promise.all(workers.map((worker) => worker.close(true)));
    await redis.stop();
  });

  async function saga(steps: Step<unknown>[], options: Partial<SagaOptions<unknown>> = {}, workerOptions: { lockDuration?: number; stalledInterval?: number } = {}) {
    const name = `saga-${randomUUID()}`;
    const connection = { url: redis.url };
    const finishedWith: SagaResult[] = [];
    const startWorker = (): Worker => {
      const worker = new Worker<SagaData>(name, (job: Job<SagaData>, token) => runSaga(job, token, undefined, { steps, retryBaseMs: 20, onFinished: (result) => { finishedWith.push(result); return Promise.resolve(); }, ...options }), { connection, ...workerOptions });
      workers.push(worker);
      return worker;
    };
    const worker = startWorker();
    const queue = new Queue(name, { connection });
    const job = await queue.add("migrate", {}, { jobId: "m1" });
    const settle = async (): Promise<{ state: string; job: Job<SagaData> }> => {
      let current: Job<SagaData> | undefined;
      let state = "";
      await waitFor(async () => {
        current = await Job.fromId<SagaData>(queue, job.id!);
        state = await current!.getState();
        return state === "completed" || state === "failed";
      }, 20_000, () => `the saga never settled (state ${state})`);
      // Read again: the job read before its state was asked may predate its result.
      const settled = (await Job.fromId<SagaData>(queue, job.id!)) ?? current!;
      await queue.close();
      return { state, job: settled };
    };
    return { worker, startWorker, queue, settle, finishedWith };
  }

  it("runs every step once, in order, and succeeds", async () => {
    const log: string[] = [];
    const { settle, finishedWith } = await saga([scripted("a", log, [done], [done]), scripted("b", log, [done]), scripted("c", log, [done])]);
    const { state, job } = await settle();
    assert.equal(state, "completed");
    assert.deepEqual(log, ["a", "b", "c"]);
    assert.deepEqual(job.returnvalue, { status: "Succeeded", message: "all steps done" });
    assert.deepEqual(finishedWith, [{ status: "Succeeded", message: "all steps done" }]);
  });

  it("ends early, successfully, when a step finds nothing left to do", async () => {
    const log: string[] = [];
    const { settle } = await saga([scripted("a", log, [complete("nothing to migrate: all 2 disks already in target zones")]), scripted("b", log, [done])]);
    const { state, job } = await settle();
    assert.equal(state, "completed");
    assert.deepEqual(log, ["a"]);
    assert.deepEqual(job.returnvalue, { status: "Succeeded", message: "nothing to migrate: all 2 disks already in target zones" });
  });

  it("re-checks a waiting step later, with the job delayed meanwhile, and never re-runs earlier steps", async () => {
    const log: string[] = [];
    const { queue, settle } = await saga([scripted("a", log, [done]), scripted("b", log, [waitAndRecheck(300, "pods still running"), done]), scripted("c", log, [done])]);
    await waitFor(async () => (await queue.getJobState("m1")) === "delayed", 5_000, () => "the job was never delayed");
    const { state } = await settle();
    assert.equal(state, "completed");
    assert.deepEqual(log, ["a", "b", "b", "c"]);
  });

  it("retries a transient fault at the same step, no sooner than the cloud's retry-after", async () => {
    const log: string[] = [];
    const times: number[] = [];
    const throttled = new TransientCloudError("Throttling.User", { code: "Throttling.User", action: "CreateSnapshot", retryAfterMs: 300 });
    const b = scripted("b", log, [throttled, throttled, done]);
    const timed: Step<unknown> = { name: "b", run: (context) => { times.push(Date.now()); return b.run(context); } };
    const { settle } = await saga([scripted("a", log, [done]), timed, scripted("c", log, [done])]);
    assert.equal((await settle()).state, "completed");
    assert.deepEqual(log, ["a", "b", "b", "b", "c"]);
    assert.ok(times[1]! - times[0]! >= 290 && times[2]! - times[1]! >= 290, `retries at ${times.map((time) => time - times[0]!).join(", ")} ms`);
  });

  it("rolls back on a permanent fault: the compensations of the steps that succeeded, latest first", async () => {
    const log: string[] = [];
    const { settle, finishedWith } = await saga([
      scripted("a", log, [done], [done]),
      scripted("b", log, [done], [done]),
      scripted("c", log, [new PermanentMigrationError("no stock in cn-shanghai-g")], [done]),
    ]);
    const { state, job } = await settle();
    assert.equal(state, "failed");
    assert.deepEqual(log, ["a", "b", "c", "undo-b", "undo-a"]);
    assert.equal(job.failedReason, "Failed: step c failed: no stock in cn-shanghai-g; rolled back");
    assert.deepEqual(finishedWith.at(-1), { status: "Failed", message: "step c failed: no stock in cn-shanghai-g; rolled back" });
  });

  it("removes what a step that creates in parallel left behind when it fails for good, before the earlier steps' undo", async () => {
    const log: string[] = [];
    const parallel = { ...scripted("b", log, [new PermanentMigrationError("disk d-2 never became Available")], [done]), compensateOnFailure: true };
    const { settle, finishedWith } = await saga([scripted("a", log, [done], [done]), parallel]);
    await settle();
    assert.deepEqual(log, ["a", "b", "undo-b", "undo-a"]);
    assert.deepEqual(finishedWith.at(-1), { status: "Failed", message: "step b failed: disk d-2 never became Available; rolled back" });
  });

  it("never rolls back from past the point of no return: it ends Succeeded and says what was left", async () => {
    const log: string[] = [];
    const cleanup = { ...scripted("finish", log, [new PermanentMigrationError("source disk d-1 kept: DeleteDisk refused")]), pastPointOfNoReturn: true };
    const { settle, finishedWith } = await saga([scripted("a", log, [done], [done]), cleanup]);
    const { state } = await settle();
    assert.equal(state, "completed");
    assert.deepEqual(log, ["a", "finish"], "no compensation ran");
    assert.deepEqual(finishedWith.at(-1), { status: "Succeeded", message: "all steps done but finish, which could not finish: source disk d-1 kept: DeleteDisk refused", leftovers: true });
  });

  it("counts a step still failing after its retries as permanent and rolls back", async () => {
    const log: string[] = [];
    const flaky = new TransientCloudError("InternalError", { code: "InternalError", action: "CreateDisk" });
    const { settle } = await saga([scripted("a", log, [done], [done]), scripted("b", log, [flaky])], { maxRetries: 2 });
    const { job } = await settle();
    assert.deepEqual(log, ["a", "b", "b", "b", "undo-a"]);
    assert.match(job.failedReason, /step b failed: InternalError \(still failing after 2 retries\); rolled back/);
  });

  it("keeps rolling back past a compensation that cannot finish, and ends RollbackFailed naming it", async () => {
    const log: string[] = [];
    const { settle } = await saga([
      scripted("a", log, [done], [waitAndRecheck(100, "pods not gone yet"), done]),
      scripted("b", log, [done], [new PermanentMigrationError("disk d-1 is still attached")]),
      scripted("c", log, [new PermanentMigrationError("ready timeout")]),
    ]);
    const { job } = await settle();
    assert.deepEqual(log, ["a", "b", "c", "undo-b", "undo-a", "undo-a"]);
    assert.equal(job.failedReason, "RollbackFailed: step c failed: ready timeout; rollback could not undo: b (disk d-1 is still attached)");
  });

  it("resumes at the saved step when its worker dies half-way, without re-running finished steps", async () => {
    const log: string[] = [];
    const attempts = { b: 0 };
    const b: Step<unknown> = {
      name: "b",
      run: async () => {
        log.push("b");
        attempts.b++;
        // The first worker dies inside b: its run never returns.
        return attempts.b === 1 ? new Promise<never>(() => undefined) : done;
      },
    };
    const { worker, startWorker, settle } = await saga([scripted("a", log, [done]), b, scripted("c", log, [done])], {}, { lockDuration: 1_000, stalledInterval: 500 });
    await waitFor(() => Promise.resolve(attempts.b === 1), 5_000, () => "b never started");
    await worker.close(true);
    startWorker();
    const { state } = await settle();
    assert.equal(state, "completed");
    assert.deepEqual(log, ["a", "b", "b", "c"]);
  });
});
