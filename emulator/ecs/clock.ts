/**
 * Time in the emulated cloud. Nothing runs on timers: every record keeps the timestamps of its
 * transitions (computed once, at creation, from the duration model × timeScale) and its state is
 * read off the clock when asked. The clock is the wall clock plus an offset the control API can
 * advance, so a test can jump over a snapshot's retention period instead of waiting for it.
 */
import type { DurationModel, EmulatorConfig } from "./config.ts";

export class Clock {
  readonly #timeScale: number;
  #offsetMs = 0;

  constructor(timeScale: number, offsetMs = 0) {
    this.#timeScale = timeScale;
    this.#offsetMs = offsetMs;
  }

  /** The cloud's time, in epoch milliseconds. */
  now(): number {
    return Date.now() + this.#offsetMs;
  }

  /** The machine's time: signatures are dated with it, so it is what request dates are checked against. */
  wallNow(): number {
    return Date.now();
  }

  get offsetMs(): number {
    return this.#offsetMs;
  }

  get timeScale(): number {
    return this.#timeScale;
  }

  /** Moves the cloud's time forward (never back: records must not un-happen). */
  advance(ms: number): void {
    this.#offsetMs += Math.max(0, ms);
  }

  /** Back to the wall clock; only for a world with no records left (a reset). */
  rewind(): void {
    this.#offsetMs = 0;
  }

  /** A modelled cloud duration, scaled to emulator milliseconds. */
  scaled(ms: number): number {
    return ms * this.#timeScale;
  }

  /** How long an operation on a disk of `sizeGiB` takes here. */
  durationOf(model: DurationModel, sizeGiB: number): number {
    return this.scaled(model.baseMs + model.perGiBMs * sizeGiB);
  }
}

/**
 * The delay before answering `action`, in wall-clock ms. Not scaled: a thousand-times-faster
 * cloud still sits behind the same network.
 */
export function latencyOf(config: EmulatorConfig, action: string): number {
  return config.latency[action] ?? config.latency.default ?? 0;
}

/** ECS's time format: ISO 8601 in UTC to the second ("2020-08-20T14:52:28Z"). */
export function isoSeconds(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
