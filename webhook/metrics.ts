/**
 * Prometheus metrics of the webhook, on a registry of its own (one per app, so tests and
 * benchmarks can run several apps in one process).
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface WebhookMetrics {
  readonly registry: Registry;
  readonly admissions: Counter<"handler" | "operation" | "decision">;
  readonly latency: Histogram<"handler">;
  readonly enqueued: Counter;
  readonly enqueueFailures: Counter<"reason">;
  readonly refusedCallers: Counter<"reason">;
  /** ECS calls of the admission checks that failed, by action and ECS's error code. */
  readonly ecsErrors: Counter<"action" | "code">;
}

export function createMetrics(options: { processMetrics: boolean } = { processMetrics: true }): WebhookMetrics {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: "zoneferry_webhook_" });
  return {
    registry,
    admissions: new Counter({
      name: "zoneferry_webhook_admissions_total",
      help: "Admission requests answered, by handler (validate, mutate), operation and decision (allowed, denied, errored).",
      labelNames: ["handler", "operation", "decision"],
      registers: [registry],
    }),
    latency: new Histogram({
      name: "zoneferry_webhook_admission_duration_seconds",
      help: "Time from request received to AdmissionReview sent, queueing included.",
      labelNames: ["handler"],
      // The API server's budget is the webhook timeout (5 s in the chart); buckets resolve the sub-10 ms range too.
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    enqueued: new Counter({
      name: "zoneferry_webhook_enqueued_total",
      help: "Migration jobs added to the queue by admitted new requests.",
      registers: [registry],
    }),
    enqueueFailures: new Counter({
      name: "zoneferry_webhook_enqueue_failures_total",
      help: "Admitted new requests whose job could not be queued in time (the runner's reconciler queues them), by reason (timeout, error, limited: over the namespace's enqueue rate).",
      labelNames: ["reason"],
      registers: [registry],
    }),
    refusedCallers: new Counter({
      name: "zoneferry_webhook_refused_callers_total",
      help: "Admission requests refused before reading them, with WEBHOOK_CLIENT_CA_FILE set: the caller sent no client certificate (missing) or one the CA did not sign (untrusted).",
      labelNames: ["reason"],
      registers: [registry],
    }),
    ecsErrors: new Counter({
      name: "zoneferry_ecs_errors_total",
      help: "ECS API calls of the admission checks that failed (DescribeDisks, DescribeAvailableResource), by action and code (ECS's error code, Throttling..., RequestTimeout, or a transport error); the check then warns instead of denying.",
      labelNames: ["action", "code"],
      registers: [registry],
    }),
  };
}
