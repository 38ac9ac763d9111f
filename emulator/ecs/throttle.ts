/**
 * Global flow control (config `throttle`): a token bucket refilled at requestsPerSecond and
 * holding at most one second's worth, so a burst above the rate is answered Throttling.User as
 * ECS's per-user flow control does.
 */
export type ThrottleDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

export class Throttle {
  readonly #rate: number;
  readonly #capacity: number;
  #tokens: number;
  #refilledAt: number;

  constructor(requestsPerSecond: number, now: number) {
    this.#rate = requestsPerSecond;
    this.#capacity = Math.max(1, requestsPerSecond);
    this.#tokens = this.#capacity;
    this.#refilledAt = now;
  }

  take(now: number): ThrottleDecision {
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#refilledAt) / 1000) * this.#rate);
    this.#refilledAt = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - this.#tokens) / this.#rate) * 1000) };
  }
}
