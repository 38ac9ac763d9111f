/**
 * Runs reconcile passes one at a time: on a trigger (an informer event), on a periodic resync, and
 * when the earliest retry is due. Triggers that arrive during a pass fold into one more pass after
 * it, so a burst of events costs one or two passes, never a pile of concurrent ones.
 */
import type { Logger } from "pino";

/** The pass to run and how often to run it without being asked. */
export interface ReconcileLoopOptions {
  /** One level-triggered pass over everything; resolves with ms until it wants to run again. */
  readonly pass: (startedAt: number) => Promise<number | undefined>;
  readonly resyncMs: number;
  readonly logger: Logger;
}

/** Serialises reconcile passes and decides when the next one runs. */
export class ReconcileLoop {
  readonly #options: ReconcileLoopOptions;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #resync: NodeJS.Timeout | undefined;
  #wake: NodeJS.Timeout | undefined;

  constructor(options: ReconcileLoopOptions) {
    this.#options = options;
  }

  start(): void {
    this.#resync = setInterval(() => { this.trigger(); }, this.#options.resyncMs);
    this.trigger();
  }

  /** Asks for a pass: now if idle, else right after the current one. */
  trigger(): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#drain();
  }

  /** No new pass starts; resolves once the current one has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#resync);
    clearTimeout(this.#wake);
    await this.#running;
  }

  async #drain(): Promise<void> {
    let more = true;
    while (more) {
      this.#again = false;
      const startedAt = Date.now();
      try {
        this.#wakeIn(await this.#options.pass(startedAt));
      } catch (error) {
        // A pass catches per object; reaching here is a bug, and the next trigger tries again.
        this.#options.logger.error({ err: error }, "reconcile pass failed");
      }
      more = this.#rerunRequested();
    }
    this.#running = undefined;
  }

  /** A trigger arrived during the pass (read through a method: the flag changes across the await). */
  #rerunRequested(): boolean {
    return this.#again && !this.#stopped;
  }

  #wakeIn(delayMs: number | undefined): void {
    clearTimeout(this.#wake);
    if (delayMs === undefined || this.#stopped) return;
    this.#wake = setTimeout(() => { this.trigger(); }, delayMs);
  }
}
