import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import request from "supertest";
import { SnapshotClusterView } from "../../core/cluster-view.ts";
import { JOB_RETENTION, addMigrationJob, queueMigration, type MigrationJobData } from "../../core/migration-queue.ts";
import { ENQUEUE_LIMITED_WARNING } from "../../webhook/admission/transport.ts";
import { queueEnqueuer } from "../../webhook/enqueuer.ts";
import { connectMigrationQueue, type MigrationQueueClient } from "../../webhook/migration-queue-client.ts";
import { limitedPerNamespace } from "../../webhook/namespace-rate-limit.ts";
import { reviewBody, update } from "../support/admission.ts";
import { clusterWithDisks, statefulSet } from "../support/cluster-fixtures.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";
import { testApp } from "../support/webhook-app.ts";

const G = "cn-shanghai-g";
const M = "cn-shanghai-m";

/** A StatefulSet of namespace "other" with no replicas: nothing to move, admitted and queued. */
const OTHER = { ...statefulSet({ name: "web", replicas: 0 }), metadata: { name: "web", namespace: "other", uid: "uid-web", annotations: {} } };

/** A webhook app queueing into a fresh queue of the given Redis, as `main` wires it (with a per-namespace rate when given). */
function webhookOn(redisUrl: string, timeoutMs = 1_000, perMinute?: number) {
  const queueName = `test-${randomUUID()}`;
  let client: MigrationQueueClient | undefined;
  const old = statefulSet({ replicas: 2 });
  const cluster = clusterWithDisks(old, [M, M]);
  const parts = testApp({
    view: new SnapshotClusterView({ ...cluster, statefulSets: [old, OTHER] }),
    makeEnqueuer: ({ logger, metrics }) => {
      client = connectMigrationQueue(redisUrl, logger, queueName);
      const queued = queueEnqueuer({ queue: client.queue, timeoutMs, metrics, logger });
      return perMinute === undefined ? queued : limitedPerNamespace(queued, { perMinute, metrics, logger });
    },
  });
  const move = (zones = G, options: { dryRun?: boolean; retry?: string } = {}) =>
    update(old, (next) => {
      next.metadata!.annotations!["zoneferry.io/target-zones"] = zones;
      if (options.retry !== undefined) next.metadata!.annotations!["zoneferry.io/retry"] = options.retry;
    }, { dryRun: options.dryRun ?? false });
  return { ...parts, queueName, move, close: () => client?.close() ?? Promise.resolve() };
}

async function jobsIn(redisUrl: string, queueName: string) {
  const queue = new Queue(queueName, { connection: { url: redisUrl } });
  try {
    return await queue.getJobs(["waiting", "delayed", "active", "completed", "failed", "prioritized"]);
  } finally {
    await queue.close();
  }
}

async function admit(app: ReturnType<typeof testApp>["app"], admission: ReturnType<typeof update>) {
  const response = await request(app).post("/validate").set("Content-Type", "application/json").send(JSON.stringify(reviewBody(admission)));
  return (JSON.parse(response.text) as { response: { allowed: boolean; warnings?: string[] } }).response;
}

describe("queueing admitted migrations in Redis", () => {
  let redis: RedisServer;
  before(async () => { redis = await startRedis(); });
  after(async () => { await redis.stop(); });

  it("queues one job per new request, its id the migration id", async () => {
    const webhook = webhookOn(redis.url);
    try {
      const response = await admit(webhook.app, webhook.move());
      assert.equal(response.allowed, true);
      const jobs = await jobsIn(redis.url, webhook.queueName);
      assert.equal(jobs.length, 1);
      const job = jobs[0]!;
      assert.match(job.id!, /^[0-9a-f]{12}$/);
      assert.deepEqual(job.data, { migrationId: job.id, namespace: "shop", statefulSet: "db", apiVersion: "apps/v1", targetZones: [G], retry: "", requestedBy: "alice@example.com" });
    } finally {
      await webhook.close();
    }
  });

  it("never queues on dry run", async () => {
    const webhook = webhookOn(redis.url);
    try {
      assert.equal((await admit(webhook.app, webhook.move(G, { dryRun: true }))).allowed, true);
      assert.equal((await jobsIn(redis.url, webhook.queueName)).length, 0);
    } finally {
      await webhook.close();
    }
  });

  it("queues a request admitted twice (a retried apply) only once", async () => {
    const webhook = webhookOn(redis.url);
    try {
      await admit(webhook.app, webhook.move());
      await admit(webhook.app, webhook.move());
      assert.equal((await jobsIn(redis.url, webhook.queueName)).length, 1);
    } finally {
      await webhook.close();
    }
  });

  it("never queues for a re-sync of the same annotations", async () => {
    const webhook = webhookOn(redis.url);
    try {
      const resync = webhook.move();
      resync.oldObject!.metadata!.annotations = { ...resync.object!.metadata!.annotations };
      assert.equal((await admit(webhook.app, resync)).allowed, true);
      assert.equal((await jobsIn(redis.url, webhook.queueName)).length, 0);
    } finally {
      await webhook.close();
    }
  });

  it("queues a separate job for a retry of the same zones", async () => {
    const webhook = webhookOn(redis.url);
    try {
      await admit(webhook.app, webhook.move());
      await admit(webhook.app, webhook.move(G, { retry: "2" }));
      const ids = new Set((await jobsIn(redis.url, webhook.queueName)).map((job) => job.id));
      assert.equal(ids.size, 2);
    } finally {
      await webhook.close();
    }
  });
});

describe("bounding what Redis holds: enqueues per namespace, finished jobs kept", () => {
  let redis: RedisServer;
  before(async () => { redis = await startRedis(); });
  after(async () => { await redis.stop(); });

  it("queues a namespace's first requests, admits the rest with a warning and queues them not, and never limits another namespace", async () => {
    const webhook = webhookOn(redis.url, 1_000, 3);
    try {
      const answers = [];
      for (let retry = 1; retry <= 5; retry++) answers.push(await admit(webhook.app, webhook.move(G, { retry: String(retry) })));
      assert.ok(answers.every((answer) => answer.allowed), "admission answers as it would");
      assert.deepEqual(answers.map((answer) => answer.warnings?.includes(ENQUEUE_LIMITED_WARNING) === true), [false, false, false, true, true]);
      const other = update(OTHER, (next) => { next.metadata!.annotations = { "zoneferry.io/target-zones": G }; });
      assert.equal((await admit(webhook.app, other)).warnings?.includes(ENQUEUE_LIMITED_WARNING), false);
      const jobs = await jobsIn(redis.url, webhook.queueName);
      assert.deepEqual(jobs.map((job) => (job.data as MigrationJobData).namespace).sort(), ["other", "shop", "shop", "shop"]);
      assert.match(await webhook.metrics.registry.getSingleMetricAsString("zoneferry_webhook_enqueue_failures_total"), /reason="limited"\} 2/);
    } finally {
      await webhook.close();
    }
  });

  /** Runs every job of `queueName` to its end: ids starting with "f" fail, the others complete. */
  async function runAll(queueName: string, count: number): Promise<void> {
    const worker = new Worker(queueName, (job) => (job.id!.startsWith("f") ? Promise.reject(new Error("failed on purpose")) : Promise.resolve()), { connection: { url: redis.url } });
    let ended = 0;
    const done = new Promise<void>((resolve) => {
      const end = (): void => { if (++ended === count) resolve(); };
      worker.on("completed", end);
      worker.on("failed", end);
    });
    try {
      await done;
    } finally {
      await worker.close();
    }
  }

  const data = (migrationId: string): MigrationJobData => ({ migrationId, namespace: "shop", statefulSet: "db", targetZones: [G], retry: migrationId, requestedBy: "alice" });

  it("adds each job with the retention of finished and failed jobs: a day and 1000 completed, a week and 1000 failed", async () => {
    const webhook = webhookOn(redis.url);
    try {
      await admit(webhook.app, webhook.move());
      const [job] = await jobsIn(redis.url, webhook.queueName);
      assert.deepEqual(job!.opts.removeOnComplete, { age: 86_400, count: 1000 });
      assert.deepEqual(job!.opts.removeOnFail, { age: 604_800, count: 1000 });
      assert.deepEqual([job!.opts.removeOnComplete, job!.opts.removeOnFail], [JOB_RETENTION.completed, JOB_RETENTION.failed]);
    } finally {
      await webhook.close();
    }
  });

  /** A fresh queue for one test, closed after it. */
  async function withQueue(use: (queue: Queue<MigrationJobData>) => Promise<void>): Promise<void> {
    const queue = new Queue<MigrationJobData>(`test-${randomUUID()}`, { connection: { url: redis.url } });
    try {
      await use(queue);
    } finally {
      await queue.close();
    }
  }

  it("keeps no more finished jobs than the retention's count, completed and failed alike", () => withQueue(async (queue) => {
    const retention = { completed: { age: 3_600, count: 2 }, failed: { age: 3_600, count: 1 } };
    for (const id of ["c1", "c2", "c3", "c4", "f1", "f2", "f3"]) await addMigrationJob(queue, data(id), retention);
    await runAll(queue.name, 7);
    assert.deepEqual(await queue.getJobCounts("completed", "failed"), { completed: 2, failed: 1 });
  }));

  it("queues a request again once its finished job is gone, as when the finished job was still there", () => withQueue(async (queue) => {
    await addMigrationJob(queue, data("c1"), { completed: { age: 3_600, count: 0 }, failed: { age: 3_600, count: 0 } });
    await runAll(queue.name, 1);
    assert.equal(await queue.getJob("c1"), undefined, "the finished job was removed");
    await queueMigration(queue, data("c1"));
    assert.equal(await (await queue.getJob("c1"))?.getState(), "waiting");
  }));
});

describe("admitting while Redis cannot take the job", () => {
  it("admits when Redis is down, counts the failure and logs it", async () => {
    const redis = await startRedis();
    await redis.stop();
    const webhook = webhookOn(redis.url);
    try {
      const response = await admit(webhook.app, webhook.move());
      assert.equal(response.allowed, true);
      assert.ok(response.warnings?.includes("zoneferry could not queue this migration right now; the runner's reconciler queues it shortly"));
      const metrics = await webhook.metrics.registry.getSingleMetricAsString("zoneferry_webhook_enqueue_failures_total");
      // BullMQ waits for a connection it never had, so this is spent as a timeout; a dropped one errors at once.
      assert.match(metrics, /zoneferry_webhook_enqueue_failures_total\{reason="(error|timeout)"\} 1/);
      assert.ok(webhook.logs.some((line) => line["level"] === 40 && typeof line["migrationId"] === "string" && /queue/.test(String(line["msg"]))));
    } finally {
      await webhook.close();
    }
  });

  it("admits without waiting for a Redis that stopped answering, once the budget is spent", async () => {
    const redis = await startRedis();
    const webhook = webhookOn(redis.url, 300);
    const admin = new Redis(redis.url);
    try {
      // Warm the connection, then freeze Redis for longer than any admission may take.
      await admit(webhook.app, webhook.move("cn-shanghai-b"));
      const pausedUntil = Date.now() + 6_000;
      await admin.call("CLIENT", "PAUSE", "6000", "ALL");
      const response = await admit(webhook.app, webhook.move());
      assert.ok(Date.now() < pausedUntil, "answered while Redis was still frozen");
      assert.equal(response.allowed, true);
      const metrics = await webhook.metrics.registry.getSingleMetricAsString("zoneferry_webhook_enqueue_failures_total");
      assert.match(metrics, /reason="timeout"\} 1/);
      assert.ok(webhook.logs.some((line) => line["timeoutMs"] === 300));
      await admin.call("CLIENT", "UNPAUSE");
    } finally {
      admin.disconnect();
      await webhook.close();
      await redis.stop();
    }
  });
});
