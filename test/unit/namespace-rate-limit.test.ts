import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MigrationJobData } from "../../core/migration-queue.ts";
import { limitedPerNamespace } from "../../webhook/namespace-rate-limit.ts";
import { createMetrics } from "../../webhook/metrics.ts";
import { capturingLogger, recordingEnqueuer } from "../support/webhook-app.ts";

function job(namespace: string, index: number): MigrationJobData {
  return { migrationId: `${index}`.padStart(12, "0"), namespace, statefulSet: `db-${index}`, targetZones: ["cn-shanghai-g"], retry: "", requestedBy: "alice" };
}

function limited(options: { perMinute: number; maxNamespaces?: number; now: () => number }) {
  const inner = recordingEnqueuer();
  const metrics = createMetrics({ processMetrics: false });
  const { logger, logs } = capturingLogger();
  return { inner, metrics, logs, enqueuer: limitedPerNamespace(inner, { ...options, metrics, logger }) };
}

describe("rate-limiting enqueues per namespace", () => {
  it("queues a namespace's burst, skips what comes after it, and counts and logs each skip", async () => {
    const { inner, metrics, logs, enqueuer } = limited({ perMinute: 3, now: () => 0 });
    const outcomes = [];
    for (let index = 0; index < 5; index++) outcomes.push(await enqueuer.enqueue(job("tenant-a", index)));
    assert.deepEqual(outcomes, ["queued", "queued", "queued", "limited", "limited"]);
    assert.equal(inner.jobs.length, 3);
    assert.match(await metrics.registry.getSingleMetricAsString("zoneferry_webhook_enqueue_failures_total"), /reason="limited"\} 2/);
    assert.equal(logs.filter((line) => line["namespace"] === "tenant-a" && line["level"] === 40).length, 2);
  });

  it("never limits one namespace for another's requests", async () => {
    const { enqueuer } = limited({ perMinute: 1, now: () => 0 });
    assert.equal(await enqueuer.enqueue(job("tenant-a", 0)), "queued");
    assert.equal(await enqueuer.enqueue(job("tenant-a", 1)), "limited");
    assert.equal(await enqueuer.enqueue(job("tenant-b", 2)), "queued");
  });

  it("queues again once the namespace's rate allows it", async () => {
    let now = 0;
    const { enqueuer } = limited({ perMinute: 2, now: () => now });
    await enqueuer.enqueue(job("tenant-a", 0));
    await enqueuer.enqueue(job("tenant-a", 1));
    assert.equal(await enqueuer.enqueue(job("tenant-a", 2)), "limited");
    now = 30_000;
    assert.equal(await enqueuer.enqueue(job("tenant-a", 3)), "queued");
  });

  it("tracks a bounded number of namespaces: idle ones are forgotten, and past the bound new ones are limited", async () => {
    let now = 0;
    const { enqueuer } = limited({ perMinute: 1, maxNamespaces: 2, now: () => now });
    assert.equal(await enqueuer.enqueue(job("forged-1", 0)), "queued");
    assert.equal(await enqueuer.enqueue(job("forged-2", 1)), "queued");
    assert.equal(await enqueuer.enqueue(job("forged-3", 2)), "limited", "no room while both buckets are in use");
    now = 60_000;
    assert.equal(await enqueuer.enqueue(job("forged-3", 3)), "queued", "full buckets are forgotten to make room");
  });
});
