/**
 * Per-object retry timing: a key that failed is left alone until its delay is over, and the delay
 * doubles with each failure in a row (with jitter, so a crowd of claims does not retry in step).
 * This is the provisioner's rate-limited work queue, without the queue: passes skip keys that are
 * not due, and the loop wakes up when the earliest one is.
 */

/** Delays of the backoff, and a clock for tests. */
export interface RetryBackoffOptions {
  /** @defaultValue 500 */
  readonly baseMs?: number;
  /** @defaultValue 30_000 */
  readonly maxMs?: number;
  /** @defaultValue Date.now */
  readonly now?: () => number;
}

interface Waiting {
  readonly failures: number;
  readonly dueAt: number;
}

/** Exponential, jittered, per-key retry timing. */
export class RetryBackoff {
  readonly #waiting = new Map<string, Waiting>();
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #now: () => number;

  constructor(options: RetryBackoffOptions = {}) {
    this.#baseMs = options.baseMs ?? 500;
    this.#maxMs = options.maxMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  /** True when `key` may be worked on now. */
  isDue(key: string): boolean {
    const waiting = this.#waiting.get(key);
    return waiting === undefined || waiting.dueAt <= this.#now();
  }

  /** Records a failure; returns the delay chosen. `atLeastMs` honours the cloud's retry-after. */
  failed(key: string, atLeastMs = 0): number {
    const failures = (this.#waiting.get(key)?.failures ?? 0) + 1;
    const exponential = Math.min(this.#maxMs, this.#baseMs * 2 ** (failures - 1));
    const delay = Math.max(atLeastMs, Math.round(exponential * (0.8 + Math.random() * 0.4)));
    this.#waiting.set(key, { failures, dueAt: this.#now() + delay });
    return delay;
  }

  /**
   * Asks for another look after `delayMs` without counting a failure: the object waits for the
   * cloud (a disk still Creating), which is progress, not an error.
   */
  recheckIn(key: string, delayMs: number): void {
    const failures = this.#waiting.get(key)?.failures ?? 0;
    this.#waiting.set(key, { failures, dueAt: this.#now() + delayMs });
  }

  succeeded(key: string): void {
    this.#waiting.delete(key);
  }

  /** Forgets keys of objects that are gone, so the map does not grow with the cluster's history. */
  retainOnly(live: ReadonlySet<string>, prefix: string): void {
    for (const key of this.#waiting.keys()) {
      if (key.startsWith(prefix) && !live.has(key)) this.#waiting.delete(key);
    }
  }

  /**
   * Milliseconds until the earliest key that became due after `since` is due (0 if that already
   * happened); undefined when there is none. A pass that started at `since` saw every key due
   * before; those whose objects are gone must not keep waking the loop.
   */
  nextDueInMs(since: number): number | undefined {
    let earliest: number | undefined;
    for (const { dueAt } of this.#waiting.values()) {
      if (dueAt > since) earliest = Math.min(earliest ?? dueAt, dueAt);
    }
    return earliest === undefined ? undefined : Math.max(0, earliest - this.#now());
  }
}
