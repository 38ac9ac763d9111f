/**
 * Prometheus metrics of the runner: migrations by result, step durations, and the application's
 * downtime (replicas at zero until all are Ready again), served on METRICS_PORT with /healthz.
 * Timings are kept in memory per job: a runner that restarts mid-migration does not time that one.
 */
import { createServer, type Server } from "node:http";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

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
}

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
  };
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
