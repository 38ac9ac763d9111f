/**
 * The crash matrix: the production runner, started with failpoints (sandbox/failpoints.ts), is
 * killed before each write of each step and of each compensation, has its writes refused for
 * good, loses Redis's data, or freezes while a second runner takes over. Which writes a step makes
 * is not assumed: a census (a clean move and a rollback, every write logged) counts them first,
 * and the matrix visits every one. After each fault the run must end where a user expects, with
 * every claim's data on a live disk and nothing duplicated or leaked in ECS.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { waitFor } from "../../sandbox/processes.ts";
import type { SeenWrite } from "../../sandbox/failpoints.ts";
import { RECREATE_STEPS } from "../../runner/steps/index.ts";
import { SandboxSession, killProcess } from "./sandbox-session.ts";

const FROM = "cn-shanghai-b";
const TO = "cn-shanghai-g";
/** Starts every rollback of this file: restore-replicas' first own write is refused for good. */
const ROLL_BACK = "restore-replicas/forward#1=refuse";
const FORWARD = RECREATE_STEPS.map((step) => step.name);
/** Compensations in the order a rollback from restore-replicas runs them. */
const UNDOS = RECREATE_STEPS.filter((step) => step.compensate !== undefined && step.name !== "finish").map((step) => step.name).reverse();

type Census = Map<string, SeenWrite[]>;

/** A write to strike: `#n`, or `#w<n>` for a wait's record, which a run may not make (see below). */
interface Target {
  readonly at: string;
  /** A wait's record: a faster cluster may need no wait, so the failpoint may not fire. */
  readonly mayNotFire: boolean;
}

/**
 * Which writes of a step the matrix kills the runner before: every one of the step's own work, its
 * waits' records and its checkpoint; of its report (the same three writes, journal status,
 * annotations, Event, in every step, all made before the step does anything), one per step, taken
 * in turn, so each report write is struck somewhere. `ZF_CRASH_MATRIX=every` strikes every write.
 */
function chosen(writes: readonly SeenWrite[] | undefined, turn: number): Target[] {
  const all = writes ?? [];
  const target = (write: SeenWrite): Target => (write.part === "wait" ? { at: `#w${write.nth}`, mayNotFire: true } : { at: `#${write.nth}`, mayNotFire: false });
  if (process.env["ZF_CRASH_MATRIX"] === "every") return all.map(target);
  const reports = all.filter((write) => write.part === "report");
  const struck = reports.length === 0 ? [] : [reports[turn % reports.length]!];
  return [...struck, ...all.filter((write) => write.part !== "report")].map(target);
}

const readLog = (file: string): SeenWrite[] => (existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as SeenWrite) : []);

/** The writes of a run, by `<step>/<phase>`, in the order made. */
function censusOf(lines: readonly SeenWrite[]): Census {
  const census: Census = new Map();
  for (const line of lines) {
    if (line.step === undefined) continue;
    const key = `${line.step}/${line.phase!}`;
    census.set(key, [...(census.get(key) ?? []), line]);
  }
  return census;
}

/**
 * The matrix in two halves, one e2e file (and sandbox) each, so CI's two lanes share its time:
 * the forward steps; the rollback's compensations, refusals and the frozen worker.
 */
export function describeCrashMatrix(half: "forward" | "rollback"): void {
  describe(`${half === "forward" ? "a crash or Redis's data loss at any write of any forward step: the move completes" : "a crash, a refusal or Redis's data loss at any write of a rollback, or a frozen worker: the run ends where it should"}, every claim's data on a live disk`, { timeout: 3_600_000 }, () => {
    const sandbox = new SandboxSession("zf-crash-", "crash");
    const running = new Set<ChildProcess>();
    let forward: Census = new Map();
    let rollback: Census = new Map();
    let cases = 0;

    async function runner(options: { failpoints?: string; log?: string; output?: string } = {}): Promise<ChildProcess> {
      // A short Lease: a successor takes over a killed runner's migration within 6 s, not 15.
      const child = await sandbox.startRunner({ ...options, extraEnv: { RUNNER_LEASE_DURATION: "6s" } });
      running.add(child);
      child.once("exit", () => running.delete(child));
      return child;
    }
    const stopRunners = async (): Promise<void> => { await Promise.all([...running].map(killProcess)); };
    const logFile = (name: string): string => join(sandbox.dir, `${name}.writes.jsonl`);

    /** A 1-replica StatefulSet in FROM whose disk holds `<name>-0 rows 1..100`; answers its source disk. */
    async function app(name: string): Promise<string> {
      await sandbox.statefulSet(name, 1, { zones: [FROM] });
      return sandbox.diskOf(`data-${name}-0`);
    }
    const request = async (name: string): Promise<void> => {
      await sandbox.kubectl("-n", sandbox.namespace, "annotate", "statefulset", name, "zoneferry.io/check-interval=1s", "zoneferry.io/ready-timeout=1m", `zoneferry.io/target-zones=${TO}`);
    };

    /**
     * Waits until the failpoint `spec` fired in `log` and (for a kill) the runner is gone; answers
     * undefined if `mayNotFire` and the migration ended first (a wait the run did not need).
     */
    async function fired(name: string, log: string, child: ChildProcess, killed: boolean, spec: string, mayNotFire: boolean): Promise<SeenWrite | undefined> {
      let line: SeenWrite | undefined;
      let ended = false;
      await waitFor(async () => {
        line = readLog(log).find((seen) => seen.fired === spec);
        if (line === undefined && mayNotFire) ended = ["Succeeded", "Failed", "RollbackFailed"].includes(await sandbox.annotation(name, "status"));
        return line !== undefined || ended;
      }, 90_000, () => `the failpoint ${spec} never fired; writes seen: ${readLog(log).map((seen) => `${seen.step ?? "-"}/${seen.phase ?? "-"}#${seen.part === "wait" ? "w" : ""}${seen.nth} ${seen.call}`).join(", ")}`);
      if (line === undefined) return undefined;
      if (killed && child.exitCode === null && child.signalCode === null) await once(child, "exit");
      if (killed) assert.equal(child.signalCode, "SIGKILL", "the runner was killed by its failpoint");
      return line;
    }

    /** What a user checks after a move: the pod in TO, on one new disk holding its data; the source gone, one snapshot. */
    async function assertMoved(name: string, source: string): Promise<void> {
      assert.equal(await sandbox.zoneOfPod(`${name}-0`), TO);
      assert.equal(await sandbox.contentOf(`data-${name}-0`), `${name}-0 rows 1..100`);
      const world = await sandbox.inventory();
      const made = await sandbox.newDisksOf(`data-${name}-0`);
      assert.equal(made.length, 1, "exactly one new disk");
      assert.equal(made[0]!.diskId, await sandbox.diskOf(`data-${name}-0`), "the claim is on it");
      assert.equal(world.snapshots.filter((snapshot) => snapshot.sourceDiskId === source).length, 1, "exactly one snapshot");
      assert.ok(!world.disks.some((disk) => disk.diskId === source), "the source disk is deleted");
    }

    /** What a user checks after a rollback: the pod back in FROM on its source disk, content kept, no new disk left. */
    async function assertRolledBack(name: string, source: string): Promise<void> {
      await waitFor(async () => (await sandbox.readyReplicas(name)) === 1, 60_000, () => `${name} not Ready again`);
      assert.equal(await sandbox.zoneOfPod(`${name}-0`), FROM);
      assert.equal(await sandbox.diskOf(`data-${name}-0`), source, "the PVC is bound to its original PV again");
      assert.equal(await sandbox.contentOf(`data-${name}-0`), `${name}-0 rows 1..100`);
      assert.equal(await sandbox.kubectl("get", "pv", source, "-o", "jsonpath={.spec.persistentVolumeReclaimPolicy}"), "Delete", "the policy protect changed is restored");
      assert.deepEqual(await sandbox.newDisksOf(`data-${name}-0`), [], "no new disk left");
    }

    /** Whatever the outcome: some disk in ECS still holds the claim's data, and the message names what is left. */
    async function assertDataOnALiveDisk(name: string, source: string): Promise<void> {
      const candidates = [source, ...(await sandbox.newDisksOf(`data-${name}-0`)).map((disk) => disk.diskId)];
      const contents = await Promise.all(candidates.map(async (disk) => (await sandbox.emulator(`/disks/${disk}/content`)).text()));
      assert.ok(contents.includes(`${name}-0 rows 1..100`), `a live disk holds ${name}'s data (looked at ${candidates.join(", ")})`);
    }

    before(async () => {
      await sandbox.up();
      // The sandbox's own runner makes way for this file's, each started with its failpoints.
      process.kill(sandbox.pidOf("runner"), "SIGKILL");
      // The census: every write of a clean move, then of a rollback, in order.
      const source = await app("census");
      await runner({ log: logFile("census") });
      await request("census");
      assert.equal(await sandbox.ended("census"), "Succeeded");
      await assertMoved("census", source);
      forward = censusOf(readLog(logFile("census")));
      await stopRunners();
      if (half === "forward") return;
      const back = await app("census-back");
      await runner({ failpoints: ROLL_BACK, log: logFile("census-back") });
      await request("census-back");
      assert.equal(await sandbox.ended("census-back"), "Failed");
      await assertRolledBack("census-back", back);
      rollback = censusOf(readLog(logFile("census-back")));
      await stopRunners();
    });
    after(async () => {
      await stopRunners();
      await sandbox.down();
    });

    it(`counts the writes of every ${half === "forward" ? "step" : "compensation"} in a clean run: the matrix below visits each`, (t) => {
      for (const [key, seen] of half === "forward" ? forward : [...rollback].filter(([step]) => step.endsWith("/compensating"))) t.diagnostic(`${key}: ${seen.length} writes: ${seen.map((write) => `${write.part ?? "-"}:${write.call}`).join(" ")}`);
      for (const step of FORWARD) assert.ok((forward.get(`${step}/forward`)?.length ?? 0) > 0, `${step} writes something`);
      if (half === "rollback") for (const step of UNDOS) assert.ok((rollback.get(`${step}/compensating`)?.length ?? 0) > 0, `undoing ${step} writes something`);
    });

    /** One case: a fresh app, a runner with `failpoints`, then (after a kill) a clean runner. */
    async function strike(t: TestContext, failpoints: string, expect: (name: string, source: string, status: string) => Promise<void>, options: { kill?: boolean; mayNotFire?: boolean } = {}): Promise<void> {
      const name = `c${++cases}`;
      const log = logFile(name);
      const source = await app(name);
      const child = await runner({ failpoints, log });
      await request(name);
      // The last failpoint is the case's; any before it only lead there (a rollback begun).
      const struck = await fired(name, log, child, options.kill === true, failpoints.split(",").at(-1)!, options.mayNotFire === true);
      t.diagnostic(struck === undefined ? `${failpoints}: this run did not wait there, nothing struck` : `${failpoints} struck before ${struck.call}`);
      // The successor: after a kill, a clean runner resumes; otherwise the same one goes on.
      if (options.kill === true && struck !== undefined) await runner({ log });
      const status = await sandbox.ended(name);
      await stopRunners();
      await expect(name, source, status);
    }

    if (half === "forward") for (const [turn, step] of FORWARD.entries()) {
      it(`moves the app, with one snapshot and one new disk, when the runner is killed before any one write of ${step}`, async (t) => {
        for (const { at, mayNotFire } of chosen(forward.get(`${step}/forward`), turn)) {
          await strike(t, `${step}/forward${at}=kill`, async (name, source, status) => {
            assert.equal(status, "Succeeded", `killed before write ${at} of ${step}`);
            await assertMoved(name, source);
          }, { kill: true, mayNotFire });
        }
      });
    }

    if (half === "rollback") for (const [turn, step] of UNDOS.entries()) {
      it(`rolls back to the original disk, no new disk left, when the runner is killed before any one write of undoing ${step}`, async (t) => {
        for (const { at, mayNotFire } of chosen(rollback.get(`${step}/compensating`), turn + 1)) {
          await strike(t, `${ROLL_BACK},${step}/compensating${at}=kill`, async (name, source, status) => {
            assert.equal(status, "Failed", `killed before write ${at} of undoing ${step}`);
            await assertRolledBack(name, source);
          }, { kill: true, mayNotFire });
        }
      });
    }

    const works = (census: Census, key: string): number => (census.get(key) ?? []).filter((seen) => seen.part === "work").length;

    if (half === "rollback") it("rolls back to the original disk when the API server or ECS refuses for good any one write of rebind", async (t) => {
      for (let nth = 1; nth <= works(forward, "rebind/forward"); nth++) {
        await strike(t, `rebind/forward#${nth}=refuse`, async (name, source, status) => {
          assert.equal(status, "Failed", `refused write ${nth} of rebind`);
          assert.match(await sandbox.annotation(name, "message"), /^step rebind failed: refused by a failpoint: \w+; rolled back/);
          await assertRolledBack(name, source);
        });
      }
    });

    if (half === "rollback") for (const step of UNDOS) {
      it(`deletes no disk holding a claim's only copy, and names what is left, when any one write of undoing ${step} is refused for good`, async (t) => {
        for (let nth = 1; nth <= works(rollback, `${step}/compensating`); nth++) {
          await strike(t, `${ROLL_BACK},${step}/compensating#${nth}=refuse`, async (name, source, status) => {
            assert.equal(status, "RollbackFailed", `refused write ${nth} of undoing ${step}`);
            assert.match(await sandbox.annotation(name, "message"), new RegExp(`rollback could not undo: (.*; )?${step} \\(refused by a failpoint: \\w+\\)`));
            await assertDataOnALiveDisk(name, source);
          });
        }
      });
    }

    /** The steps a run wrote in after the failpoint `spec` fired. */
    const wroteAfter = (log: string, spec: string): Set<string> => {
      const lines = readLog(log);
      const at = lines.findIndex((seen) => seen.fired === spec);
      return new Set(lines.slice(at + 1).flatMap((seen) => (seen.step === undefined ? [] : [`${seen.step}/${seen.phase!}`])));
    };

    // Precheck, at each of its writes: before its report, after the StatefulSet says Running but
    // before the journal exists, and after. The reconciler finds the request from the StatefulSet.
    if (half === "forward") it("queues the request again and moves the app when Redis loses its data at any write of precheck, journal or not", async (t) => {
      for (let nth = 1; nth <= (forward.get("precheck/forward") ?? []).filter((write) => write.part !== "wait").length; nth++) {
        await strike(t, `precheck/forward#${nth}=flush`, async (name, source, status) => {
          assert.equal(status, "Succeeded", `flushed before write ${nth} of precheck`);
          await assertMoved(name, source);
        });
      }
    });

    if (half === "forward") for (const step of FORWARD.filter((name) => name !== "precheck")) {
      it(`resumes at ${step}, not earlier, and moves the app when Redis loses its data there`, async (t) => {
        await strike(t, `${step}/forward#1=flush`, async (name, source, status) => {
          assert.equal(status, "Succeeded");
          const earlier = FORWARD.slice(0, FORWARD.indexOf(step)).filter((done) => wroteAfter(logFile(name), `${step}/forward#1=flush`).has(`${done}/forward`));
          assert.deepEqual(earlier, [], "no step before the flushed one ran again");
          await assertMoved(name, source);
        });
      });
    }

    if (half === "rollback") for (const step of UNDOS) {
      it(`resumes undoing ${step}, never going forward again, and rolls back when Redis loses its data there`, async (t) => {
        await strike(t, `${ROLL_BACK},${step}/compensating#1=flush`, async (name, source, status) => {
          assert.equal(status, "Failed");
          // The order the census's rollback ran them in (create-disks' undo runs last).
          const order = [...rollback.keys()].filter((key) => key.endsWith("/compensating"));
          const again = [...wroteAfter(logFile(name), `${step}/compensating#1=flush`)].filter((key) => key.endsWith("/forward") || order.indexOf(key) < order.indexOf(`${step}/compensating`));
          assert.deepEqual(again, [], "no forward step and no finished compensation ran again");
          await assertRolledBack(name, source);
        });
      });
    }

    if (half === "rollback") it("rolls back when the user cancels at any step before finish (zoneferry.io/target-zones removed), and lets the move stand once finish has begun", async (t) => {
      for (const step of FORWARD) {
        await strike(t, `${step}/forward#1=cancel`, async (name, source, status) => {
          const message = await sandbox.annotation(name, "message");
          if (step === "finish") {
            assert.equal(status, "Succeeded", `past the point of no return: ${message}`);
            await assertMoved(name, source);
          } else if (step === "precheck") {
            // Cancelled before anything was done: precheck finds no request and ends, touching nothing.
            assert.match(message, /no longer the StatefulSet's request; nothing done|^cancelled at step precheck|^cancelled before it began/);
            assert.equal(await sandbox.zoneOfPod(`${name}-0`), FROM);
            assert.deepEqual(await sandbox.newDisksOf(`data-${name}-0`), []);
          } else {
            assert.equal(status, "Failed", message);
            assert.match(message, new RegExp(`^cancelled at step ${step}: zoneferry\\.io/target-zones was removed, which cancels the migration; rolled back$`));
            await assertRolledBack(name, source);
          }
        });
      }
    });

    if (half === "rollback") it("lets exactly one of two runners act when the one creating the disk freezes past its Lease: the other takes over, the frozen one stops before its next write", async () => {
      const source = await app("pair");
      const writes = forward.get("create-disks/forward") ?? [];
      const createDisk = writes.find((write) => write.call === "createDisk")?.nth ?? 0;
      assert.ok(createDisk > 0, "create-disks creates a disk");
      // Frozen 14 s, as a stop-the-world pause: its 6 s Lease and 4 s BullMQ lock run out meanwhile.
      const frozenLog = logFile("pair-frozen");
      const frozenOutput = join(sandbox.dir, "pair-frozen.out");
      const frozen = await runner({ failpoints: `create-disks/forward#${createDisk}=pause:14000`, log: frozenLog, output: frozenOutput });
      await sandbox.emulator("/requests", { method: "DELETE" });
      await request("pair");
      const struck = await fired("pair", frozenLog, frozen, false, `create-disks/forward#${createDisk}=pause:14000`, false);
      assert.equal(struck?.call, "createDisk", "frozen just before it creates the disk");
      await runner({ log: logFile("pair-other") });
      assert.equal(await sandbox.ended("pair"), "Succeeded");
      await waitFor(() => Promise.resolve(readFileSync(frozenOutput, "utf8").includes("fenced: this worker stops acting")), 30_000, () => `the frozen runner never said it was fenced:\n${readFileSync(frozenOutput, "utf8").slice(-2_000)}`);
      await stopRunners();
      const calls = (await (await sandbox.emulator("/requests")).json()) as { action: string }[];
      assert.equal(calls.filter((call) => call.action === "CreateDisk").length, 1, "ECS was asked to create the disk once, by the runner that took over");
      await assertMoved("pair", source);
    });
  });
}
