/**
 * Keeps the world across restarts (config `persistFile`): loaded at start, written after every
 * change. Writes go to a temporary file in the same directory and are renamed over the old one,
 * so a crash mid-write leaves the previous world, never half of one. Writes are synchronous on
 * purpose: the answer to a call that changed the world leaves only once the change is on disk.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { SharingData } from "./sharing/sharing-state.ts";
import type { WorldData } from "./world.ts";

const FORMAT = 1;

export interface PersistedState {
  readonly format: typeof FORMAT;
  readonly savedAt: string;
  /** How far the control API had advanced the clock: records' timestamps are on that clock. */
  readonly clockOffsetMs: number;
  /** The default account's world (accounts.ts). */
  readonly world: WorldData;
  /** Every other account's world, by account id; absent in files saved before accounts existed. */
  readonly accounts?: Readonly<Record<string, WorldData>>;
  readonly sharing?: SharingData;
}

/** The saved state, or undefined when the file does not exist yet. */
export function loadState(file: string): PersistedState | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const state = JSON.parse(text) as Partial<PersistedState>;
  if (state.format !== FORMAT || typeof state.world !== "object") {
    throw new Error(`${file} is not an ECS emulator state file (format ${FORMAT}); move it away or point persistFile elsewhere`);
  }
  return state as PersistedState;
}

export function saveState(file: string, clockOffsetMs: number, saved: Pick<PersistedState, "world" | "accounts" | "sharing">): void {
  const state: PersistedState = { format: FORMAT, savedAt: new Date().toISOString(), clockOffsetMs, ...saved };
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(state));
  renameSync(temporary, file);
}
