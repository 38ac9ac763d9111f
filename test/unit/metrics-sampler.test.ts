/**
 * The runner's sampled metrics (runner/metrics.ts, sampleMetrics): StatefulSets by their
 * zoneferry.io/status, each migration in flight with its start, and the queue's jobs by state.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1StatefulSet } from "@kubernetes/client-node";
import { pino } from "pino";
import { createRunnerMetrics, sampleMetrics, type MetricsSources } from "../../runner/metrics.ts";
import type { ZoneMigrationResource } from "../../runner/journal/types.ts";

const quiet = pino({ level: "silent" });
const sts = (status?: string): V1StatefulSet => ({ metadata: { name: "db", namespace: "shop", annotations: status === undefined ? {} : { "zoneferry.io/status": status } } });
const journal = (id: string, phase: string, startedAt?: string): ZoneMigrationResource => ({
  metadata: { name: `db-${id}`, namespace: "shop", creationTimestamp: new Date("2026-12-01T08:00:00Z") },
  spec: { migrationId: id, statefulSet: "db" },
  status: { phase, ...(startedAt === undefined ? {} : { startedAt }) },
}) as unknown as ZoneMigrationResource;

/** A gauge's values as label value → value. */
const byLabel = async (gauge: { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> }, label: string): Promise<Record<string, number>> =>
  Object.fromEntries((await gauge.get()).values.map((value) => [String(value.labels[label]), value.value]));

const sources = (over: Partial<MetricsSources> = {}): MetricsSources => ({
  statefulSets: () => Promise.resolve([sts(), sts("Running"), sts("Running"), sts("RollbackFailed"), sts("Failed"), sts("Nonsense")]),
  activeJournals: () => Promise.resolve([journal("aaa", "Running", "2026-12-01T08:10:00Z"), journal("bbb", "Pending")]),
  queueCounts: () => Promise.resolve({ waiting: 2, delayed: 5, active: 1 }),
  ...over,
});

describe("the runner's sampled metrics", () => {
  it("counts StatefulSets by status, every status present even at 0, and unknown ones left out", async () => {
    const metrics = createRunnerMetrics();
    await sampleMetrics(metrics, sources(), quiet);
    assert.deepEqual(await byLabel(metrics.statefulSets, "status"), { Pending: 0, Running: 2, RollingBack: 0, Succeeded: 0, Failed: 1, RollbackFailed: 1 });
  });

  it("gives each migration in flight its start (its journal's startedAt, else when it was made), and forgets the ended", async () => {
    const metrics = createRunnerMetrics();
    await sampleMetrics(metrics, sources(), quiet);
    const started = (await metrics.migrationStarted.get()).values.map((value) => [value.labels["statefulset"], value.labels["migration_id"], value.labels["phase"], value.value]);
    assert.deepEqual(started, [["shop/db", "aaa", "Running", Date.parse("2026-12-01T08:10:00Z") / 1000], ["shop/db", "bbb", "Pending", Date.parse("2026-12-01T08:00:00Z") / 1000]]);
    await sampleMetrics(metrics, sources({ activeJournals: () => Promise.resolve([]) }), quiet);
    assert.deepEqual((await metrics.migrationStarted.get()).values, []);
  });

  it("samples the queue's jobs by state, and keeps the last values of a part it cannot read", async () => {
    const metrics = createRunnerMetrics();
    await sampleMetrics(metrics, sources(), quiet);
    await sampleMetrics(metrics, sources({ queueCounts: () => Promise.reject(new Error("Redis down")) }), quiet);
    const byState = await byLabel(metrics.queueJobs, "state");
    assert.equal(byState["delayed"], 5);
    assert.equal(byState["waiting"], 2);
    assert.equal(byState["failed"], 0);
  });
});
