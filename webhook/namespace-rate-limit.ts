/**
 * Enqueues rate-limited per namespace, composed around the queueing enqueuer: a namespace that
 * asks for many new migrations in a short time has the extra ones skipped, not refused. Admission
 * answers as it would (with a warning); nothing is lost, because the mutating webhook stamped the
 * request Pending and the runner's reconciler queues any StatefulSet whose migration-id has
 * neither journal nor job. What it bounds is one tenant (or one forger) filling Redis and the
 * runner's queue ahead of everyone else.
 */
import type { Logger } from "pino";
import { RateLimiter } from "../core/rate-limiter.ts";
import type { Enqueuer } from "./enqueuer.ts";
import type { WebhookMetrics } from "./metrics.ts";

export interface NamespaceLimitOptions {
  /** New migrations queued per namespace per minute on average; bursts of as many. */
  readonly perMinute: number;
  readonly metrics: WebhookMetrics;
  readonly logger: Logger;
  readonly now?: () => number;
  /** @defaultValue MAX_TRACKED_NAMESPACES */
  readonly maxNamespaces?: number;
}

/**
 * Namespaces with a bucket at once. A forged review may name any namespace; a bucket that has
 * filled up again is forgotten, and past this many a namespace without one is limited, so the
 * map never grows with what forgers invent.
 */
export const MAX_TRACKED_NAMESPACES = 10_000;

export function limitedPerNamespace(inner: Enqueuer, options: NamespaceLimitOptions): Enqueuer {
  const { perMinute, metrics, logger } = options;
  const maxNamespaces = options.maxNamespaces ?? MAX_TRACKED_NAMESPACES;
  const buckets = new Map<string, RateLimiter>();
  const bucketOf = (namespace: string): RateLimiter | undefined => {
    const known = buckets.get(namespace);
    if (known !== undefined) return known;
    if (buckets.size >= maxNamespaces) {
      for (const [name, bucket] of buckets) if (bucket.full()) buckets.delete(name);
    }
    if (buckets.size >= maxNamespaces) return undefined;
    const bucket = new RateLimiter({ perSecond: perMinute / 60, burst: perMinute, ...(options.now === undefined ? {} : { now: options.now }) });
    buckets.set(namespace, bucket);
    return bucket;
  };
  return {
    enqueue(job) {
      if (bucketOf(job.namespace)?.tryTake() === true) return inner.enqueue(job);
      metrics.enqueueFailures.inc({ reason: "limited" });
      logger.warn({ migrationId: job.migrationId, namespace: job.namespace, perMinute }, "namespace over its enqueue rate: not queued now, the runner's reconciler will queue it");
      return Promise.resolve("limited");
    },
  };
}
