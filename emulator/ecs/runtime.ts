/**
 * Everything one running emulator holds: its configuration, clock and world, and the gateway's
 * memory (nonces, throttle, faults, request log). The ECS API and the control API both work on it.
 */
import { Clock } from "./clock.ts";
import type { EmulatorConfig } from "./config.ts";
import { FaultRegistry } from "./faults.ts";
import { NonceStore } from "./nonces.ts";
import { loadState, saveState } from "./persistence.ts";
import { RequestLog } from "./request-log.ts";
import { Throttle } from "./throttle.ts";
import { World } from "./world.ts";

export class EmulatorRuntime {
  /** Replaced whole when the control API changes a zone. */
  config: EmulatorConfig;
  readonly clock: Clock;
  readonly world: World;
  readonly nonces = new NonceStore();
  readonly faults = new FaultRegistry();
  readonly requests = new RequestLog();
  readonly throttle: Throttle | undefined;
  #savedVersion: number;

  /** Starts from the persist file's world when there is one. */
  constructor(config: EmulatorConfig) {
    this.config = config;
    const saved = config.persistFile === undefined ? undefined : loadState(config.persistFile);
    this.clock = new Clock(config.timeScale, saved?.clockOffsetMs ?? 0);
    this.world = saved === undefined ? new World() : World.fromData(saved.world);
    this.throttle = config.throttle === undefined ? undefined : new Throttle(config.throttle.requestsPerSecond, Date.now());
    this.#savedVersion = this.world.version;
  }

  /** Writes the world to the persist file if it changed since the last write. */
  persistIfChanged(): void {
    if (this.config.persistFile === undefined || this.world.version === this.#savedVersion) return;
    saveState(this.config.persistFile, this.clock.offsetMs, this.world.toData());
    this.#savedVersion = this.world.version;
  }

  /** Releases snapshots whose retention ended, then persists if that changed anything. */
  sweep(): void {
    this.world.sweep(this.clock.now());
    this.persistIfChanged();
  }

  /** A fresh region with the same configuration: no resources, tokens, faults, nonces or log. */
  reset(): void {
    this.world.clear();
    this.nonces.clear();
    this.faults.clear();
    this.requests.clear();
    this.clock.rewind();
    this.persistIfChanged();
  }
}
