/**
 * Failpoints for the crash tests, as etcd's gofail: before the Nth write of a chosen step (forward
 * or compensating), the runner is killed (SIGKILL, no cleanup), Redis loses its data, the process
 * freezes (a GC pause: timers, sockets and the Lease's renewals stop too), the write fails for
 * good (an API server refusing it), or the user cancels (zoneferry.io/target-zones removed from the
 * StatefulSet, then the write goes on). Which, is said in ZF_FAILPOINTS:
 *
 *   <step>/<forward|compensating>#<n|w<n>>=<kill|flush|pause:<ms>|refuse|cancel>[,<more>]
 *
 * `#n` counts the step's writes in this process from 1, whatever part of the step makes them (its
 * report, its work, its checkpoint), except the records of a wait's start: whether a step waits at
 * all depends on how fast the cluster is (a pod gone before the first look needs no wait), so those
 * are counted apart, `#w1`, `#w2`, and the other writes keep the same numbers in every run.
 * `refuse` counts only the work's writes, since a refused report or checkpoint is another story
 * (the reporting path). ZF_FAILPOINT_LOG names a file that gets one
 * JSON line per write seen and per failpoint fired: the tests' census of a run's writes and their
 * proof that the fault happened where they asked.
 */
import { appendFileSync } from "node:fs";
import { AppsV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { Redis } from "ioredis";
import type { WriteAt, WriteSeam } from "../runner/write-seam.ts";

export type FailpointAction = { readonly kind: "kill" | "flush" | "refuse" | "cancel" } | { readonly kind: "pause"; readonly ms: number };

export interface Failpoint {
  readonly step: string;
  readonly phase: "forward" | "compensating";
  readonly nth: number;
  /** Counts the records of a wait's start (`#w<n>`), not the step's other writes. */
  readonly wait: boolean;
  readonly action: FailpointAction;
}

/** One line of the log. */
export interface SeenWrite {
  readonly step: string | undefined;
  readonly phase: string | undefined;
  readonly part: string | undefined;
  readonly call: string;
  readonly migrationId: string;
  /** The write's number within its step and phase in this process (from 1); for a wait's record, among those. */
  readonly nth: number;
  /** Set when a failpoint acted before this write. */
  readonly fired?: string;
}

// A step's name, or a Rolling replica's step (`replica-1/snapshot`).
const SPEC = /^((?:replica-\d+\/)?[a-z-]+)\/(forward|compensating)#(w?)(\d+)=(kill|flush|refuse|cancel|pause:(\d+))$/;

export function parseFailpoints(text: string | undefined): Failpoint[] {
  if (text === undefined || text.trim() === "") return [];
  return text.split(",").map((entry) => {
    const match = SPEC.exec(entry.trim());
    if (match === null) throw new Error(`ZF_FAILPOINTS: "${entry}" is not <step>/<forward|compensating>#<n|w<n>>=<kill|flush|refuse|cancel|pause:<ms>>`);
    const [, step, phase, wait, nth, action, ms] = match;
    return {
      step: step!,
      phase: phase as Failpoint["phase"],
      nth: Number(nth),
      wait: wait === "w",
      action: action!.startsWith("pause") ? { kind: "pause", ms: Number(ms) } : { kind: action as "kill" | "flush" | "refuse" | "cancel" },
    };
  });
}

/** A refusal as the API server words one: permanent (403), so the step fails for good. */
export class RefusedByFailpoint extends Error {
  readonly code = 403;
  constructor(call: string) {
    super(`refused by a failpoint: ${call}`);
    this.name = "RefusedByFailpoint";
  }
}

export function failpointSeam(env: NodeJS.ProcessEnv): WriteSeam {
  const failpoints = parseFailpoints(env["ZF_FAILPOINTS"]);
  const log = env["ZF_FAILPOINT_LOG"];
  const counts = new Map<string, { all: number; work: number; wait: number }>();
  const fired = new Set<Failpoint>();
  return async (at: WriteAt) => {
    const key = `${at.step?.step ?? "-"}/${at.step?.phase ?? "-"}`;
    const count = counts.get(key) ?? { all: 0, work: 0, wait: 0 };
    const waiting = at.step?.part === "wait";
    const seen = { all: count.all + (waiting ? 0 : 1), work: count.work + (at.step?.part === "work" ? 1 : 0), wait: count.wait + (waiting ? 1 : 0) };
    counts.set(key, seen);
    const due = failpoints.find((point) => !fired.has(point) && point.step === at.step?.step && point.phase === at.step.phase && point.wait === waiting
      && (point.action.kind === "refuse" ? (at.step.part === "work" || waiting) && (waiting ? seen.wait : seen.work) === point.nth : (waiting ? seen.wait : seen.all) === point.nth));
    const line: SeenWrite = { step: at.step?.step, phase: at.step?.phase, part: at.step?.part, call: at.call, migrationId: at.migrationId, nth: waiting ? seen.wait : seen.all, ...(due === undefined ? {} : { fired: describe(due) }) };
    // Written before acting: a kill leaves no other trace of where it struck.
    if (log !== undefined) appendFileSync(log, `${JSON.stringify(line)}\n`);
    if (due === undefined) return;
    fired.add(due);
    await act(due.action, at, env);
  };
}

function describe(point: Failpoint): string {
  return `${point.step}/${point.phase}#${point.wait ? "w" : ""}${point.nth}=${point.action.kind === "pause" ? `pause:${point.action.ms}` : point.action.kind}`;
}

async function act(action: FailpointAction, at: WriteAt, env: NodeJS.ProcessEnv): Promise<void> {
  switch (action.kind) {
    case "kill":
      process.kill(process.pid, "SIGKILL");
      // SIGKILL is not delivered synchronously on every platform: never let the write through.
      await new Promise<never>(() => undefined);
      return;
    case "flush": {
      const redis = new Redis(env["REDIS_URL"] ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: 3 });
      try {
        await redis.flushall();
      } finally {
        redis.disconnect();
      }
      return;
    }
    case "pause":
      // Blocks the whole event loop, as a stop-the-world pause does: nothing renews the Lease meanwhile.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, action.ms);
      return;
    case "refuse":
      throw new RefusedByFailpoint(at.call);
    case "cancel":
      await cancel(at, env);
      return;
  }
}

/** What a user does to cancel: the request annotation removed (with this process's credentials). */
async function cancel(at: WriteAt, env: NodeJS.ProcessEnv): Promise<void> {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(env["KUBECONFIG"] ?? "");
  await kubeconfig.makeApiClient(AppsV1Api).patchNamespacedStatefulSet(
    { namespace: at.namespace, name: at.statefulSet, body: [{ op: "remove", path: "/metadata/annotations/zoneferry.io~1target-zones" }] },
    setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
  );
}
