import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import request from "supertest";
import { SnapshotClusterView } from "../../core/cluster-view.ts";
import { queueEnqueuer } from "../../webhook/enqueuer.ts";
import { connectMigrationQueue, type MigrationQueueClient } from "../../webhook/migration-queue-client.ts";
import { reviewBody, update } from "../support/admission.ts";
import { clusterWithDisks, statefulSet } from "../support/cluster-fixtures.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";
import { testApp } from "../support/webhook-app.ts";

const G = "cn-shanghai-g";
const M = "cn-shanghai-m";

/** A webhook app queueing into a fresh queue of the given Redis, as `main` wires it. */
function webhookOn(redisUrl: string, timeoutMs = 1_000) {
  const queueName = `test-${randomUUID()}`;
  let client: MigrationQueueClient | undefined;
  const old = statefulSet({ replicas: 2 });
  const parts = testApp({
    view: new SnapshotClusterView(clusterWithDisks(old, [M, M])),
    makeEnqueuer: ({ logger, metrics }) => {
      client = connectMigrationQueue(redisUrl, logger, queueName);
      return queueEnqueuer({ queue: client.queue, timeoutMs, metrics, logger });
    },
  });
  const move = (zones = G, options: { dryRun?: boolean; retry?: string } = {}) =>
    update(old, (next) => {
      next.metadata!.annotations!["zoneferry.io/target-zones"] = zones;
      if (options.retry !== undefined) next.metadata!.annotations!["zoneferry.io/retry"] = options.retry;
    }, { dryRun: options.dryRun ?? false });
  return { ...parts, queueName, move, close: () => client?.close() ?? Promise.resolve() };
}

async function admit(app: ReturnType<typeof testApp>["app"], admission: ReturnType<typeof update>) {
  const response = await request(app).post("/validate").set("Content-Type", "application/json").send(JSON.stringify(reviewBody(admission)));
  return (JSON.parse(response.text) as { response: { allowed: boolean; warnings?: string[] } }).response;
}

describe("queueing admitted migrations in Redis", () => {
  let redis: RedisServer;
  before(async () => { redis = await startRedis(); });
  after(async () => { await redis.stop(); });

  async function jobsIn(queueName: string) {
    const queue = new Queue(queueName, { connection: { url: redis.url } });
    try {
      return await queue.getJobs(["waiting", "delayed", "active", "completed", "failed", "prioritized"]);
    } finally {
      await queue.close();
    }
  }

  it("queues one job per new request, its id the migration id", async () => {
    const webhook = webhookOn(redis.url);
    try {
      const response = await admit(webhook.app, webhook.move());
      assert.equal(response.allowed, true);
      const jobs = await jobsIn(webhook.queueName);
      assert.equal(jobs.length, 1);
      const job = jobs[0]!;
      assert.match(job.id!, /^[0-9a-f]{12}$/);
      assert.deepEqual(job.data, { migrationId: job.id, namespace: "shop", statefulSet: "db", targetZones: [G], retry: "", requestedBy: "alice@example.com" });
    } finally {
      await webhook.close();
    }
  });

  it("never queues on dry run", async () => {
    const webhook = webhookOn(redis.url);
    try {
      assert.equal((await admit(webhook.app, webhook.move(G, { dryRun: true }))).allowed, true);
      assert.equal((await jobsIn(webhook.queueName)).length, 0);
    } finally {
      await webhook.close();
    }
  });

  it("queues a request admitted twice (a retried apply) only once", async () => {
    const webhook = webhookOn(redis.url);
    try {
      await admit(webhook.app, webhook.move());
      await admit(webhook.app, webhook.move());
      assert.equal((await jobsIn(webhook.queueName)).length, 1);
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
      assert.equal((await jobsIn(webhook.queueName)).length, 0);
    } finally {
      await webhook.close();
    }
  });

  it("queues a separate job for a retry of the same zones", async () => {
    const webhook = webhookOn(redis.url);
    try {
      await admit(webhook.app, webhook.move());
      await admit(webhook.app, webhook.move(G, { retry: "2" }));
      const ids = new Set((await jobsIn(webhook.queueName)).map((job) => job.id));
      assert.equal(ids.size, 2);
    } finally {
      await webhook.close();
    }
  });
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
