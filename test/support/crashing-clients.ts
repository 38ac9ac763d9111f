/**
 * A test-only fault seam for step-level tests: the context's clients (Kubernetes, cloud, journal)
 * wrapped so that the Nth write of a step run "crashes" the process. The write is not sent, and
 * from then on every call of every client fails too, as after a SIGKILL: only requests already
 * in flight complete. Writes are counted across all clients, so N walks through a step's API
 * calls in the order it makes them.
 */
import type { MigrationContext } from "../../runner/context.ts";

/** Method names that write (as runner/fenced.ts sees them). */
const WRITES = /^(create|delete|patch|replace|update|ensure|remove|accept)/;

/** What the wrapped clients throw once the simulated process is dead. */
export class SimulatedCrash extends Error {
  constructor(call: string) {
    super(`simulated crash at ${call}`);
    this.name = "SimulatedCrash";
  }
}

export interface CrashSeam {
  /** The context whose clients count writes and crash at the chosen one. */
  readonly context: MigrationContext;
  /** Writes attempted so far (the crashing one included). */
  writes(): number;
  /** The calls that wrote, in order, e.g. `cloud.createSnapshot`. */
  written(): readonly string[];
  /** Whether the crash happened. */
  crashed(): boolean;
}

/** Wraps `context`'s clients; `crashAt` undefined only counts writes. */
export function crashSeam(context: MigrationContext, crashAt?: number): CrashSeam {
  const log: string[] = [];
  let dead = false;
  const wrap = <T extends object>(label: string, target: T): T =>
    new Proxy(target, {
      get(object, property, receiver) {
        const value: unknown = Reflect.get(object, property, receiver);
        if (typeof value !== "function" || typeof property !== "string") return value;
        const method = value as (...parameters: unknown[]) => unknown;
        const call = `${label}.${property}`;
        return (...args: unknown[]): unknown => {
          if (dead) return Promise.reject(new SimulatedCrash(`${call} (after the crash)`));
          if (WRITES.test(property)) {
            log.push(call);
            if (log.length === crashAt) {
              dead = true;
              return Promise.reject(new SimulatedCrash(`write ${log.length}, ${call}`));
            }
          }
          return method.apply(object, args);
        };
      },
    });
  return {
    context: { ...context, core: wrap("core", context.core), workload: wrap("workload", context.workload), cloud: wrap("cloud", context.cloud), journal: wrap("journal", context.journal) },
    writes: () => log.length,
    written: () => [...log],
    crashed: () => dead,
  };
}
