/**
 * Fencing: exactly one worker acts for a migration. BullMQ's job lock alone does not ensure it: a
 * worker whose lock lapsed (a GC pause, a Sentinel failover longer than the 10 s lock) goes on
 * with `process()` while the stalled job runs again elsewhere.
 *
 * Each run of a job first takes the migration's Lease (coordination.k8s.io/v1, one per journal,
 * in the StatefulSet's namespace) with an optimistic write; it renews it every third of its
 * duration while the run lasts, and gives it back when the run ends, so the next re-check may run
 * on any worker. Before every side effect (each cloud or API write, the journal's included) the
 * worker checks its fence, which is closed once
 *   - a renewal failed (another worker took the Lease: its write changed the resourceVersion),
 *   - the last successful renewal is older than the Lease's duration less a margin (this process
 *     was paused, or the API server unreachable, long enough for another to take over), or
 *   - BullMQ reported the job's lock lost.
 * A closed fence throws `FencedError`: the step stops before its next side effect, and the run
 * neither saves a checkpoint nor moves the job. A worker that finds the Lease held by another,
 * unexpired, delays the job until it would expire.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { CoordinationV1Api, type KubeConfig, type V1Lease } from "@kubernetes/client-node";
import { apiStatus } from "../core/kube/api-status.ts";

/** The fence is closed: this worker must not act for the migration any more. */
export class FencedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FencedError";
  }
}

/** Another worker holds the migration's Lease; it may be free after `retryInMs`. */
export class LeaseHeldError extends FencedError {
  readonly retryInMs: number;
  constructor(holder: string, retryInMs: number) {
    super(`the migration's Lease is held by ${holder}`);
    this.name = "LeaseHeldError";
    this.retryInMs = retryInMs;
  }
}

export interface Fence {
  /** Throws `FencedError` once this worker may no longer act. */
  check(): void;
  /** Closes the fence (BullMQ lost the job's lock). */
  close(reason: string): void;
}

export interface LeaseOptions {
  /** @defaultValue 15000: a successor waits at most this long after a worker dies mid-run. */
  readonly durationMs?: number;
  /** A renewal older than duration less this margin closes the fence. @defaultValue 5000 */
  readonly marginMs?: number;
  /** Monotonic clock for the pause check. */
  readonly monotonic?: () => number;
}

/** This process's identity in Leases: host, pid, and a random part (pids repeat across restarts). */
export const WORKER_IDENTITY = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;

/**
 * A Lease's times are MicroTime (RFC 3339 with six fraction digits), which client-node neither
 * writes (it sends a Date's milliseconds, which the API server refuses) nor parses (it hands back
 * the string): we write the string ourselves, and read either.
 */
function microTime(date: Date): Date {
  return date.toISOString().replace(/Z$/, "000Z") as unknown as Date;
}

function epochMs(time: Date | string | undefined): number {
  return time === undefined ? 0 : new Date(time).getTime();
}

export function leaseName(journal: string): string {
  return `zoneferry-${journal}`;
}

/** A fence that never closes: for code run outside a job (tests of single steps). */
export const OPEN_FENCE: Fence = { check: () => undefined, close: () => undefined };

export class MigrationLease implements Fence {
  readonly #api: CoordinationV1Api;
  readonly #namespace: string;
  readonly #name: string;
  readonly #identity: string;
  readonly #durationMs: number;
  readonly #marginMs: number;
  readonly #monotonic: () => number;
  #lease: V1Lease | undefined;
  #renewedAt = 0;
  #closed: string | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(kubeconfig: KubeConfig, target: { namespace: string; name: string; identity?: string }, options: LeaseOptions = {}) {
    this.#api = kubeconfig.makeApiClient(CoordinationV1Api);
    this.#namespace = target.namespace;
    this.#name = target.name;
    this.#identity = target.identity ?? WORKER_IDENTITY;
    this.#durationMs = options.durationMs ?? 15_000;
    this.#marginMs = options.marginMs ?? 5_000;
    this.#monotonic = options.monotonic ?? ((): number => performance.now());
  }

  /** Takes the Lease (or throws `LeaseHeldError`), and keeps renewing it until `release`. */
  async acquire(): Promise<void> {
    const current = await this.#read();
    const now = new Date();
    if (current === undefined) {
      this.#lease = await this.#write(() => this.#api.createNamespacedLease({ namespace: this.#namespace, body: this.#body(undefined, now) }));
    } else {
      const holder = current.spec?.holderIdentity ?? "";
      const expiresAt = epochMs(current.spec?.renewTime) + (current.spec?.leaseDurationSeconds ?? 0) * 1_000;
      if (holder !== "" && holder !== this.#identity && expiresAt > now.getTime()) throw new LeaseHeldError(holder, expiresAt - now.getTime() + 1_000);
      this.#lease = await this.#write(() => this.#api.replaceNamespacedLease({ namespace: this.#namespace, name: this.#name, body: this.#body(current, now) }));
    }
    this.#renewedAt = this.#monotonic();
    this.#timer = setInterval(() => { void this.#renew(); }, Math.floor(this.#durationMs / 3));
    this.#timer.unref();
  }

  check(): void {
    if (this.#closed === undefined && this.#monotonic() - this.#renewedAt > this.#durationMs - this.#marginMs) {
      this.#closed = `the Lease was last renewed ${Math.round((this.#monotonic() - this.#renewedAt) / 1000)} s ago`;
    }
    if (this.#closed !== undefined) throw new FencedError(`this worker no longer holds migration Lease ${this.#namespace}/${this.#name}: ${this.#closed}`);
  }

  close(reason: string): void {
    this.#closed ??= reason;
  }

  /** Stops renewing and gives the Lease back (unless it was lost): the next run may take it at once. */
  async release(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#closed !== undefined || this.#lease === undefined) return;
    const body = { ...this.#lease, spec: { ...this.#lease.spec, holderIdentity: "" } };
    await this.#api.replaceNamespacedLease({ namespace: this.#namespace, name: this.#name, body }).catch(() => undefined);
  }

  async #renew(): Promise<void> {
    if (this.#closed !== undefined || this.#lease === undefined) return;
    // A renewal that comes too late (the process was paused) must not revive a Lease another
    // worker may have taken meanwhile: the fence closes instead.
    try {
      this.check();
    } catch {
      return;
    }
    const lease = this.#lease;
    try {
      this.#lease = await this.#api.replaceNamespacedLease({ namespace: this.#namespace, name: this.#name, body: { ...lease, spec: { ...lease.spec, renewTime: microTime(new Date()) } } });
      this.#renewedAt = this.#monotonic();
    } catch (error) {
      // A conflict means another worker wrote the Lease; other faults are retried on the next tick
      // (and the pause check closes the fence if they last).
      if (apiStatus(error) === 409) this.close("another worker took the Lease");
    }
  }

  async #read(): Promise<V1Lease | undefined> {
    try {
      return await this.#api.readNamespacedLease({ namespace: this.#namespace, name: this.#name });
    } catch (error) {
      if (apiStatus(error) === 404) return undefined;
      throw error;
    }
  }

  /** A write that lost the race to another worker is `LeaseHeldError`, retried soon. */
  async #write(write: () => Promise<V1Lease>): Promise<V1Lease> {
    try {
      return await write();
    } catch (error) {
      if (apiStatus(error) === 409) throw new LeaseHeldError("another worker (it wrote first)", 1_000);
      throw error;
    }
  }

  #body(current: V1Lease | undefined, now: Date): V1Lease {
    const previous = current?.spec;
    const taken = previous?.holderIdentity !== this.#identity;
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: current?.metadata ?? { name: this.#name, namespace: this.#namespace, labels: { "app.kubernetes.io/managed-by": "zoneferry" } },
      spec: {
        holderIdentity: this.#identity,
        leaseDurationSeconds: Math.ceil(this.#durationMs / 1_000),
        acquireTime: (taken ? undefined : previous.acquireTime) ?? microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (previous?.leaseTransitions ?? 0) + (previous !== undefined && taken ? 1 : 0),
      },
    };
  }
}
