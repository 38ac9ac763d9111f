/**
 * Prometheus metrics of the runner: migrations by result, step durations, and the application's
 * downtime (replicas at zero until all are Ready again), served on METRICS_PORT with /healthz.
 * Timings are kept in memory per job: a runner that restarts mid-migration does not time that one.
 * What is true of the cluster rather than of this process (StatefulSets by status, migrations in
 * flight and since when, the queue's jobs) is sampled from the API server and Redis
 * (`startMetricsSampler`), so it survives a restart and counts every runner's work.
 */
import { createServer, type Server } from "node:http";
import type { V1StatefulSet } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { MIGRATION_STATUSES, OWNED_ANNOTATIONS } from "../core/annotations.ts";
import type { ZoneMigrationResource } from "./journal/types.ts";

export interface RunnerMetrics {
  readonly registry: Registry;
  readonly migrations: Counter<"result">;
  readonly stepDuration: Histogram<"step" | "phase">;
  readonly downtime: Histogram;
  /** Strategy Rolling: each replica's time down, from its eviction until it was Ready again. */
  readonly replicaDowntime: Histogram;
  /** Report writes passed over: a refused Event or annotation write, a report given up. */
  readonly reportFailures: Counter<"part">;
  /** Journaled migrations the reconciler queued again: their job failed unexpectedly, or was gone. */
  readonly requeued: Counter<"reason">;
  /** Jobs the gate ended unacted (runner/job-gate.ts): a journal not sealed by the runner, a repeat, a job edited in Redis. */
  readonly jobsRefused: Counter;
  /** ECS calls that failed, by action and ECS's error code (core/ecs/ecs-disk-cloud.ts). */
  readonly ecsErrors: Counter<"action" | "code">;
  /** Sampled: StatefulSets by their zoneferry.io/status. */
  readonly statefulSets: Gauge<"status">;
  /** Sampled: when each migration in flight started, by its journal. */
  readonly migrationStarted: Gauge<"statefulset" | "migration_id" | "phase">;
  /** Sampled: the migration queue's jobs by state. */
  readonly queueJobs: Gauge<"state">;
}

/** The queue's job states sampled into zoneferry_queue_jobs (BullMQ's names). */
export const SAMPLED_QUEUE_STATES = ["waiting", "prioritized", "active", "delayed", "failed", "paused", "waiting-children"] as const;

export function createRunnerMetrics(): RunnerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "zoneferry_runner_" });
  return {
    registry,
    migrations: new Counter({ name: "zoneferry_migrations_total", help: "Migrations ended, by result (Succeeded, Failed, RollbackFailed).", labelNames: ["result"], registers: [registry] }),
    stepDuration: new Histogram({
      name: "zoneferry_step_duration_seconds",
      help: "Time from a step's first run to the next step, waits included, by step and phase (forward, compensating).",
      labelNames: ["step", "phase"],
      buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 3600],
      registers: [registry],
    }),
    downtime: new Histogram({
      name: "zoneferry_application_downtime_seconds",
      help: "From the StatefulSet scaled to zero until all its replicas were Ready again.",
      buckets: [5, 15, 30, 60, 120, 300, 600, 1800, 3600],
      registers: [registry],
    }),
    replicaDowntime: new Histogram({
      name: "zoneferry_replica_unavailable_seconds",
      help: "Strategy Rolling: from one replica's eviction until it was Ready again (in its planned zone, or on its own disks after a rollback); the other replicas serve meanwhile.",
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800],
      registers: [registry],
    }),
    reportFailures: new Counter({
      name: "zoneferry_report_failures_total",
      help: "Report writes passed over without stopping the migration, by part: event (refused Event), annotations (refused status annotations), report (a step's report or the result given up).",
      labelNames: ["part"],
      registers: [registry],
    }),
    requeued: new Counter({
      name: "zoneferry_jobs_requeued_total",
      help: "Unfinished journaled migrations the reconciler queued again, by reason: failed (the job failed for an unexpected reason), missing (Redis lost it).",
      labelNames: ["reason"],
      registers: [registry],
    }),
    jobsRefused: new Counter({
      name: "zoneferry_jobs_refused_total",
      help: "Jobs ended without acting: their journal was not created by the runner, their request already ran (a repeat needs a new zoneferry.io/retry), or their data does not match their journal. A rise is worth a look (docs/security.md).",
      registers: [registry],
    }),
    ecsErrors: new Counter({
      name: "zoneferry_ecs_errors_total",
      help: "ECS API calls that failed, by action (CreateDisk, DescribeDisks, ...) and code (ECS's error code, Throttling..., RequestTimeout, or a transport error such as ECONNRESET). A resource found gone (InvalidDiskId.NotFound) is not counted: the runner takes it as a fact.",
      labelNames: ["action", "code"],
      registers: [registry],
    }),
    statefulSets: new Gauge({
      name: "zoneferry_statefulsets",
      help: "StatefulSets by their zoneferry.io/status, sampled every reconcile interval: Pending, Running and RollingBack are migrations in flight; RollbackFailed needs a person until its zoneferry.io/status is removed; Failed and Succeeded are results shown.",
      labelNames: ["status"],
      registers: [registry],
    }),
    migrationStarted: new Gauge({
      name: "zoneferry_migration_started_timestamp_seconds",
      help: "Each migration in flight (its ZoneMigration not ended), when it started (Unix seconds), by StatefulSet (namespace/name: a label `namespace` would clash with the scrape's), id and phase, sampled every reconcile interval; gone once it ends. time() minus this is how long it has run.",
      labelNames: ["statefulset", "migration_id", "phase"],
      registers: [registry],
    }),
    queueJobs: new Gauge({
      name: "zoneferry_queue_jobs",
      help: "Jobs of the migration queue by state, sampled every reconcile interval: waiting (and prioritized) for a worker, active on one, delayed (a migration waiting to check again), failed (the reconciler queues their journaled migrations again).",
      labelNames: ["state"],
      registers: [registry],
    }),
  };
}

/** What the sampler reads: the cluster's StatefulSets, the migrations in flight and the queue's counts. */
export interface MetricsSources {
  /** Every StatefulSet of the cluster. */
  readonly statefulSets: () => Promise<readonly V1StatefulSet[]>;
  /** The journals not ended (MigrationJournal.listActive), those the runner sealed. */
  readonly activeJournals: () => Promise<readonly ZoneMigrationResource[]>;
  readonly queueCounts: (...states: string[]) => Promise<Record<string, number>>;
}

/** Samples the cluster's migrations and the queue once; each part that cannot be read keeps its last value. */
export async function sampleMetrics(metrics: RunnerMetrics, sources: MetricsSources, logger: Logger): Promise<void> {
  const parts = await Promise.allSettled([
    sources.statefulSets().then((items) => {
      const counts = new Map<string, number>(MIGRATION_STATUSES.map((status) => [status, 0]));
      for (const sts of items) {
        const status = sts.metadata?.annotations?.[OWNED_ANNOTATIONS.status];
        if (status !== undefined && counts.has(status)) counts.set(status, counts.get(status)! + 1);
      }
      for (const [status, count] of counts) metrics.statefulSets.set({ status }, count);
    }),
    sources.activeJournals().then((journals) => {
      metrics.migrationStarted.reset();
      for (const journal of journals) {
        const started = Date.parse(journal.status?.startedAt ?? journal.metadata.creationTimestamp?.toString() ?? "");
        if (Number.isNaN(started)) continue;
        const labels = { statefulset: `${journal.metadata.namespace ?? ""}/${journal.spec.statefulSet}`, migration_id: journal.spec.migrationId, phase: journal.status?.phase ?? "Pending" };
        metrics.migrationStarted.set(labels, started / 1000);
      }
    }),
    sources.queueCounts(...SAMPLED_QUEUE_STATES).then((counts) => {
      for (const state of SAMPLED_QUEUE_STATES) metrics.queueJobs.set({ state }, counts[state] ?? 0);
    }),
  ]);
  for (const part of parts) if (part.status === "rejected") logger.warn({ err: part.reason as unknown }, "could not sample the metrics of the cluster's migrations: next pass");
}

/** Samples now and every `intervalMs`. */
export function startMetricsSampler(metrics: RunnerMetrics, sources: MetricsSources, logger: Logger, intervalMs: number): { stop(): void } {
  const pass = (): void => { void sampleMetrics(metrics, sources, logger); };
  pass();
  const timer = setInterval(pass, intervalMs);
  return { stop: () => { clearInterval(timer); } };
}

/** Times steps and downtime of one job from the saga's step and finish callbacks. */
export class JobTimer {
  #current: { step: string; phase: string; since: number } | undefined;
  #downSince: number | undefined;
  readonly #metrics: RunnerMetrics;

  constructor(metrics: RunnerMetrics) {
    this.#metrics = metrics;
  }

  step(name: string, phase: string, now = Date.now()): void {
    // One label per kind of step: a Rolling move of 64 replicas would make 320 of `replica-N/…`.
    const step = name.replace(/^replica-\d+\//, "replica/");
    if (this.#current?.step === step && this.#current.phase === phase) return;
    this.#close(now);
    this.#current = { step, phase, since: now };
    if (step === "scale-to-zero" && phase === "forward") this.#downSince ??= now;
    // Replicas are Ready again once the step after restore-replicas starts.
    if (step === "finish" && this.#downSince !== undefined) {
      this.#metrics.downtime.observe((now - this.#downSince) / 1000);
      this.#downSince = undefined;
    }
  }

  finished(result: string, now = Date.now()): void {
    this.#close(now);
    this.#metrics.migrations.inc({ result });
  }

  #close(now: number): void {
    if (this.#current === undefined) return;
    this.#metrics.stepDuration.observe({ step: this.#current.step, phase: this.#current.phase }, (now - this.#current.since) / 1000);
    this.#current = undefined;
  }
}

export function serveMetrics(metrics: RunnerMetrics, port: number, onError: (error: Error) => void): Server {
  const server = createServer((req, res) => {
    if (req.url === "/healthz") {
      res.end("ok");
      return;
    }
    if (req.url !== "/metrics") {
      res.statusCode = 404;
      res.end();
      return;
    }
    metrics.registry.metrics().then((text) => {
      res.setHeader("content-type", metrics.registry.contentType);
      res.end(text);
    }, () => {
      res.statusCode = 500;
      res.end();
    });
  });
  // A taken port must not stop migrations: report it, keep the worker running.
  server.on("error", onError);
  server.listen(port);
  return server;
}
