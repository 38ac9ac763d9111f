/**
 * A Redis behind Sentinel (REDIS_URL=redis+sentinel://...): the webhook's producer and the
 * runner's worker find the master through a real redis-sentinel and a migration job goes through.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { pino } from "pino";
import { bullConnection, redisTarget } from "../../core/redis-target.ts";
import { freePort, startProcess, waitFor, type Managed } from "../../sandbox/processes.ts";
import { connectMigrationQueue } from "../../webhook/migration-queue-client.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";

describe("Redis behind Sentinel", () => {
  const dir = mkdtempSync(join(tmpdir(), "zf-sentinel-"));
  let master: RedisServer;
  let sentinel: Managed;
  let url = "";

  before(async () => {
    master = await startRedis();
    const port = await freePort();
    const config = join(dir, "sentinel.conf");
    // Sentinel rewrites its configuration file as it learns the group: it must be its own.
    writeFileSync(config, `port ${port}\nbind 127.0.0.1\nsentinel monitor zoneferry 127.0.0.1 ${master.port} 1\nsentinel down-after-milliseconds zoneferry 5000\n`);
    sentinel = startProcess("redis-sentinel", "redis-server", [config, "--sentinel"], { logFile: join(dir, "sentinel.log") });
    await waitFor(async () => {
      const client = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on("error", () => undefined);
      try {
        await client.connect();
        const answer = (await client.call("SENTINEL", "get-master-addr-by-name", "zoneferry")) as string[] | null;
        return answer?.[1] === String(master.port);
      } finally {
        client.disconnect();
      }
    }, 15_000, () => `redis-sentinel did not come up:\n${sentinel.tail()}`);
    url = `redis+sentinel://127.0.0.1:${port}/zoneferry`;
  });
  after(async () => {
    await sentinel.stop();
    await master.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("queues at admission and runs in the runner through the master the sentinel names", async () => {
    const queueName = `sentinel-${randomUUID()}`;
    const producer = connectMigrationQueue(url, pino({ level: "silent" }), queueName);
    const seen: string[] = [];
    const worker = new Worker(queueName, (job) => {
      seen.push(job.id ?? "");
      return Promise.resolve();
    }, { connection: bullConnection(redisTarget(url)!) });
    try {
      await producer.queue.add("migrate", { migrationId: "0123456789ab" }, { jobId: "0123456789ab" });
      await waitFor(() => Promise.resolve(seen.length === 1), 10_000, () => "the worker never received the job");
      assert.deepEqual(seen, ["0123456789ab"]);
      const direct = new Redis(master.url);
      try {
        assert.equal(await direct.exists(`bull:${queueName}:0123456789ab`), 1, "the job lives on the master");
      } finally {
        direct.disconnect();
      }
    } finally {
      await worker.close();
      await producer.close();
    }
  });
});
