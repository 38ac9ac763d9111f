/**
 * Everything one running emulator holds: its configuration, clock and worlds (one per account,
 * accounts.ts), Resource Sharing's records, and the gateway's memory (nonces, throttle, faults,
 * request log). The ECS API, Resource Sharing and the control API all work on it.
 */
import { DEFAULT_ACCOUNT_ID } from "./accounts.ts";
import { Clock } from "./clock.ts";
import type { EmulatorConfig } from "./config.ts";
import { FaultRegistry } from "./faults.ts";
import { NonceStore } from "./nonces.ts";
import { loadState, saveState } from "./persistence.ts";
import { RequestLog } from "./request-log.ts";
import { syncSharedCopies } from "./sharing/shared-copies.ts";
import { SharingState } from "./sharing/sharing-state.ts";
import { Throttle } from "./throttle.ts";
import { World } from "./world.ts";

export class EmulatorRuntime {
  /** Replaced whole when the control API changes a zone. */
  config: EmulatorConfig;
  readonly clock: Clock;
  /** The default account's world: what keys naming no account see, and what the control API shows. */
  readonly world: World;
  readonly sharing: SharingState;
  readonly nonces = new NonceStore();
  readonly faults = new FaultRegistry();
  readonly requests = new RequestLog();
  readonly throttle: Throttle | undefined;
  readonly #others = new Map<string, World>();
  #savedVersion: number;

  /** Starts from the persist file's worlds when there is one. */
  constructor(config: EmulatorConfig) {
    this.config = config;
    const saved = config.persistFile === undefined ? undefined : loadState(config.persistFile);
    this.clock = new Clock(config.timeScale, saved?.clockOffsetMs ?? 0);
    this.world = saved === undefined ? new World() : World.fromData(saved.world);
    for (const [accountId, data] of Object.entries(saved?.accounts ?? {})) this.#others.set(accountId, World.fromData(data));
    this.sharing = SharingState.fromData(saved?.sharing);
    this.throttle = config.throttle === undefined ? undefined : new Throttle(config.throttle.requestsPerSecond, Date.now());
    this.#savedVersion = this.#version();
  }

  /** The world of an account, made empty on first use. */
  worldOf(accountId: string): World {
    if (accountId === DEFAULT_ACCOUNT_ID) return this.world;
    let world = this.#others.get(accountId);
    if (world === undefined) {
      world = new World();
      this.#others.set(accountId, world);
    }
    return world;
  }

  /** Every account's world that exists, the default one first. */
  worlds(): [string, World][] {
    return [[DEFAULT_ACCOUNT_ID, this.world], ...this.#others];
  }

  /** Brings every account's copies of snapshots shared with it in line with what it is granted. */
  syncShared(): void {
    syncSharedCopies(this);
  }

  /** Writes the worlds to the persist file if any changed since the last write. */
  persistIfChanged(): void {
    const version = this.#version();
    if (this.config.persistFile === undefined || version === this.#savedVersion) return;
    saveState(this.config.persistFile, this.clock.offsetMs, {
      world: this.world.toData(),
      accounts: Object.fromEntries([...this.#others].map(([accountId, world]) => [accountId, world.toData()])),
      sharing: this.sharing.toData(),
    });
    this.#savedVersion = version;
  }

  /** Releases snapshots whose retention ended (and their shared copies), then persists if that changed anything. */
  sweep(): void {
    const now = this.clock.now();
    let released = 0;
    for (const [, world] of this.worlds()) released += world.sweep(now);
    if (released > 0) this.syncShared();
    this.persistIfChanged();
  }

  /** A fresh region with the same configuration: no resources, shares, tokens, faults, nonces or log. */
  reset(): void {
    for (const [, world] of this.worlds()) world.clear();
    this.#others.clear();
    this.sharing.clear();
    this.nonces.clear();
    this.faults.clear();
    this.requests.clear();
    this.clock.rewind();
    this.persistIfChanged();
  }

  /** Grows with any change of any world or of the shares. */
  #version(): number {
    return [...this.worlds()].reduce((sum, [, world]) => sum + world.version, this.sharing.version + this.#others.size);
  }
}
