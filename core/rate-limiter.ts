/**
 * A token bucket: at most `perSecond` on average, bursts up to `burst`. Outgoing calls wait their
 * turn in order (`acquire`), so a flood of parallel work (64 volumes at once) is spread out instead
 * of meeting the cloud's flow control and backing off with jitter. Work that may be skipped rather
 * than delayed takes a token only if one is there (`tryTake`).
 */
export interface RateLimiterOptions {
  readonly perSecond: number;
  /** @defaultValue perSecond */
  readonly burst?: number;
  readonly now?: () => number;
}

export class RateLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #updated: number;
  /** When the last waiter's token was promised: later waiters queue behind it. */
  #tail = 0;

  constructor(options: RateLimiterOptions) {
    this.#perMs = options.perSecond / 1000;
    this.#burst = options.burst ?? options.perSecond;
    this.#now = options.now ?? Date.now;
    this.#tokens = this.#burst;
    this.#updated = this.#now();
  }

  /** How long the next call must wait, in ms; the token is taken now. */
  reserve(): number {
    const now = this.#refill();
    this.#tokens -= 1;
    if (this.#tokens >= 0) return 0;
    const at = Math.max(this.#tail, now + -this.#tokens / this.#perMs);
    this.#tail = at;
    return Math.ceil(at - now);
  }

  /** Takes a token if one is there now; false (and nothing taken) when the bucket is empty. */
  tryTake(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whether the bucket is full again: a limiter in that state remembers nothing a new one would not. */
  full(): boolean {
    this.#refill();
    return this.#tokens >= this.#burst;
  }

  /** Adds the tokens earned since the last look; returns now. */
  #refill(): number {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#updated) * this.#perMs);
    this.#updated = now;
    return now;
  }

  /** Resolves when the caller may make its call. */
  async acquire(): Promise<void> {
    const waitMs = this.reserve();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}
