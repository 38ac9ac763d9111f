/**
 * The saga engine in real BullMQ workers on a real Redis, when its own calls fail: a step's report,
 * the result's report, the checkpoint's save. None of them may end the migration: a transient
 * fault delays the job and tries again, a report refused for good is passed over.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Job, Queue, Worker } from "bullmq";
import type { DurableCheckpoint, SagaResult } from "../../runner/saga/checkpoint.ts";
import { runSaga, type CheckpointStore, type SagaData, type SagaOptions } from "../../runner/saga/run-saga.ts";
import { done, type Step } from "../../runner/saga/step.ts";
import { waitFor } from "../../sandbox/processes.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";

/** An API server's refusal as @kubernetes/client-node throws it: `code` is the HTTP status. */
function apiError(code: number, message: string): Error {
  return Object.assign(new Error(`HTTP-Code: ${code} Message: ${message}`), { code, body: JSON.stringify({ message }) });
}

/** Throws the errors given, one per call, then succeeds. */
function failing(errors: Error[], call: () => void = () => undefined): () => Promise<void> {
  return () => {
    call();
    const error = errors.shift();
    return error === undefined ? Promise.resolve() : Promise.reject(error);
  };
}

function step(name: string, log: string[]): Step<unknown> {
  return { name, run: () => { log.push(name); return Promise.resolve(done); }, compensate: () => { log.push(`undo-${name}`); return Promise.resolve(done); } };
}

interface Fault { readonly step: string | undefined; readonly retryInMs: number | undefined }

describe("the saga when its reports or its checkpoint meet API faults", () => {
  let redis: RedisServer;
  const workers: Worker[] = [];
  before(async () => { redis = await startRedis(); });
  after(async () => {
    await Promise.all(workers.map((worker) => worker.close(true)));
    await redis.stop();
  });

  async function settle(steps: Step<unknown>[], options: Partial<SagaOptions<unknown>>): Promise<{ state: string; job: Job<SagaData> }> {
    const name = `saga-faults-${randomUUID()}`;
    const connection = { url: redis.url };
    workers.push(new Worker<SagaData>(name, (job: Job<SagaData>, token) => runSaga(job, token, undefined, { steps, retryBaseMs: 20, ...options }), { connection }));
    const queue = new Queue(name, { connection });
    try {
      const added = await queue.add("migrate", {}, { jobId: "m1" });
      let current: Job<SagaData> | undefined;
      let state = "";
      await waitFor(async () => {
        current = await Job.fromId<SagaData>(queue, added.id!);
        state = await current!.getState();
        return state === "completed" || state === "failed";
      }, 20_000, () => `the saga never settled (state ${state})`);
      // Read again: the job read before its state was asked may predate its failedReason.
      return { state, job: (await Job.fromId<SagaData>(queue, added.id!)) ?? current! };
    } finally {
      await queue.close();
    }
  }

  it("goes on with the migration once a step's report that met a transient fault lands on a later try", async () => {
    const log: string[] = [];
    const reports: string[] = [];
    const faults: Fault[] = [];
    const onStep = failing([apiError(503, "etcdserver: request timed out"), apiError(429, "too many requests")]);
    const { state, job } = await settle([step("a", log), step("b", log), step("c", log)], {
      onStep: (name) => { reports.push(name); return onStep(); },
      onReportFault: ({ step: at, retryInMs }) => { faults.push({ step: at, retryInMs }); },
    });
    assert.equal(state, "completed", job.failedReason);
    assert.deepEqual(log, ["a", "b", "c"], "every step ran once");
    assert.deepEqual(reports, ["a", "a", "a", "b", "c"], "the report of a was tried again until it landed");
    assert.equal(faults.length, 2);
    assert.ok(faults.every((fault) => fault.step === "a" && fault.retryInMs !== undefined), "both faults were retried, none given up");
    assert.equal(job.data.saga?.retries, 0, "the report's retries spent none of the step's");
  });

  it("completes the migration when a report is refused for good, at every step and at the result", async () => {
    const log: string[] = [];
    const faults: Fault[] = [];
    const refused = (): Promise<void> => Promise.reject(apiError(422, "events is forbidden: ValidatingAdmissionPolicy 'refuse-events' denied request"));
    const { state, job } = await settle([step("a", log), step("b", log)], {
      onStep: refused,
      onFinished: refused,
      onReportFault: ({ step: at, retryInMs }) => { faults.push({ step: at, retryInMs }); },
    });
    assert.equal(state, "completed", job.failedReason);
    assert.deepEqual(log, ["a", "b"]);
    assert.deepEqual(job.returnvalue, { status: "Succeeded", message: "all steps done" });
    assert.deepEqual(faults, [{ step: "a", retryInMs: undefined }, { step: "b", retryInMs: undefined }, { step: undefined, retryInMs: undefined }], "each report given up at once, none retried");
  });

  it("goes on, unreported, with a step whose report still fails transiently after its retries", async () => {
    const log: string[] = [];
    const faults: Fault[] = [];
    const { state } = await settle([step("a", log), step("b", log)], {
      maxRetries: 2,
      onStep: (name) => (name === "a" ? Promise.reject(apiError(500, "internal error")) : Promise.resolve()),
      onReportFault: ({ step: at, retryInMs }) => { faults.push({ step: at, retryInMs }); },
    });
    assert.equal(state, "completed");
    assert.deepEqual(log, ["a", "b"]);
    assert.deepEqual(faults.map((fault) => fault.retryInMs === undefined ? "given up" : "retried"), ["retried", "retried", "given up"]);
  });

  it("reports the result again after a transient fault, and the job ends as the saga did", async () => {
    const log: string[] = [];
    const finished: SagaResult[] = [];
    const report = failing([apiError(503, "the server is currently unable to handle the request")]);
    const { state } = await settle([step("a", log)], { onFinished: (result) => { finished.push(result); return report(); } });
    assert.equal(state, "completed");
    assert.deepEqual(log, ["a"]);
    assert.equal(finished.length, 2, "the result was reported twice: the failed try and the one that landed");
  });

  it("saves the checkpoint again after a transient fault in the store, re-running only the step whose save failed", async () => {
    const log: string[] = [];
    const saves: DurableCheckpoint[] = [];
    const retried: number[] = [];
    let stored: DurableCheckpoint | undefined;
    const errors = [undefined, apiError(500, "etcdserver: leader changed"), apiError(409, "the object has been modified")];
    const store: CheckpointStore = {
      load: () => Promise.resolve(stored),
      save: (checkpoint) => {
        const error = errors.shift();
        if (error !== undefined) return Promise.reject(error);
        saves.push(checkpoint);
        stored = checkpoint;
        return Promise.resolve();
      },
    };
    const { state, job } = await settle([step("a", log), step("b", log), step("c", log)], { store, onSaveFault: ({ retryInMs }) => { retried.push(retryInMs); } });
    assert.equal(state, "completed", job.failedReason);
    // a's checkpoint landed; b's save failed twice, so b ran three times; c once.
    assert.deepEqual(log, ["a", "b", "b", "b", "c"]);
    assert.equal(retried.length, 2);
    assert.equal(stored?.phase, "finished");
    assert.deepEqual(stored.result, { status: "Succeeded", message: "all steps done" });
    assert.equal(job.data.saga?.saveRetries, undefined, "the failed saves are forgotten once one lands");
  });

  it("fails the job on a permanent fault of the store, for the reconciler to queue it again", async () => {
    const log: string[] = [];
    const store: CheckpointStore = { load: () => Promise.resolve(undefined), save: () => Promise.reject(apiError(422, "status.checkpoint: Invalid value")) };
    const { state, job } = await settle([step("a", log), step("b", log)], { store });
    assert.equal(state, "failed");
    assert.match(job.failedReason, /Invalid value/);
    assert.deepEqual(log, ["a"]);
  });
});
