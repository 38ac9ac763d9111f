/**
 * A token bucket for outgoing calls: at most `perSecond` on average, bursts up to `burst`. Calls
 * wait their turn in order, so a flood of parallel work (64 volumes at once) is spread out instead
 * of meeting the cloud's flow control and backing off with jitter.
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
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#updated) * this.#perMs);
    this.#updated = now;
    this.#tokens -= 1;
    if (this.#tokens >= 0) return 0;
    const at = Math.max(this.#tail, now + -this.#tokens / this.#perMs);
    this.#tail = at;
    return Math.ceil(at - now);
  }

  /** Resolves when the caller may make its call. */
  async acquire(): Promise<void> {
    const waitMs = this.reserve();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}
