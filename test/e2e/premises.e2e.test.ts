/**
 * The premises a move stands on, end to end on the sandbox: admission refuses what cannot be
 * carried out as asked (strategy Rolling, a staged canary, replicas not Ready), the runner's
 * precheck waits for replicas at most ready-timeout and survives Redis losing its job meanwhile,
 * and a StatefulSet deleted mid-run stops the run with its journal and every disk kept. Each test
 * shows the fault happened, then what the user sees, then that no data was harmed.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { waitFor } from "../../sandbox/processes.ts";
import { SandboxSession, ZONES } from "../support/sandbox-session.ts";

const NS = "premises";
const [B, G] = [ZONES[0]!, ZONES[1]!];
const NODE_B = `node-${B}-0`;

interface Journal {
  metadata: { name: string; ownerReferences?: unknown[] };
  status?: { phase?: string; message?: string; step?: string; conditions?: { type: string }[] };
}

describe("what a move stands on, on the sandbox", () => {
  const sandbox = new SandboxSession("zf-premises-", NS);
  const kubectl = async (...args: string[]): Promise<string> => sandbox.kubectl(...args);
  /** Where the sandbox's runner was stopped with SIGSTOP, to be resumed whatever happens. */
  let paused: number | undefined;

  before(async () => { await sandbox.up(); }, { timeout: 360_000 });
  after(async () => {
    if (paused !== undefined) process.kill(paused, "SIGCONT");
    await kubectl("uncordon", NODE_B).catch(() => undefined);
    await sandbox.down();
  });

  /** The stderr of a kubectl command the API server must refuse. */
  async function refused(...args: string[]): Promise<string> {
    try {
      await kubectl(...args);
    } catch (error) {
      return String((error as { stderr?: unknown }).stderr);
    }
    return assert.fail(`kubectl ${args.join(" ")} was not refused`);
  }

  /** The annotate a user runs to ask for a move to G. */
  const request = (name: string, readyTimeout = "30s", ...annotations: string[]): string[] =>
    ["-n", NS, "annotate", "statefulset", name, "--overwrite", `zoneferry.io/target-zones=${G}`, "zoneferry.io/check-interval=1s", `zoneferry.io/ready-timeout=${readyTimeout}`, ...annotations];

  const journals = async (name: string): Promise<Journal[]> =>
    (JSON.parse(await kubectl("-n", NS, "get", "zonemigrations", "-l", `zoneferry.io/statefulset=${name}`, "-o", "json")) as { items: Journal[] }).items;

  /** Each claim's disk and what it holds, to compare before and after. */
  async function contents(name: string, replicas: number): Promise<Record<string, { disk: string; content: string }>> {
    const entries = [];
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      const claim = `data-${name}-${ordinal}`;
      entries.push([claim, { disk: await sandbox.diskOf(claim), content: await sandbox.contentOf(claim) }] as const);
    }
    return Object.fromEntries(entries);
  }

  /** What the user checks when nothing was to move: same disks, same data, no new disk, no hold. */
  async function untouched(name: string, replicas: number, before: Record<string, { disk: string; content: string }>): Promise<void> {
    assert.deepEqual(await contents(name, replicas), before, "every claim on its disk with its data");
    for (const claim of Object.keys(before)) assert.deepEqual(await sandbox.newDisksOf(claim), [], `no new disk for ${claim}`);
    const zones = new Set((await sandbox.inventory()).disks.filter((disk) => Object.values(before).some((entry) => entry.disk === disk.diskId)).map((disk) => disk.zoneId));
    assert.deepEqual([...zones], [B], "the disks are still in their zone");
  }

  /** `kubectl scale` goes through: nothing holds the StatefulSet. */
  async function scalesNormally(name: string, replicas: number): Promise<void> {
    await kubectl("-n", NS, "scale", "statefulset", name, `--replicas=${replicas}`);
    await waitFor(async () => (await sandbox.readyReplicas(name)) === replicas, 60_000, () => `${name} did not scale to ${replicas}`);
  }

  /** Makes replica `pod` Pending: its zone's only node cordoned, the pod deleted (its disk cannot follow it elsewhere). */
  async function degradeZone(name: string, pod: string): Promise<void> {
    await kubectl("cordon", NODE_B);
    await kubectl("-n", NS, "delete", "pod", pod, "--wait=true");
    await waitFor(async () => (await kubectl("-n", NS, "get", "pod", pod, "-o", "jsonpath={.status.phase}")) === "Pending" && (await sandbox.readyReplicas(name)) < 2, 30_000, () => `${pod} is not Pending`);
  }

  const processState = (pid: number): string => /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, "utf8"))![1]!;
  function pauseRunner(): void {
    paused = sandbox.pidOf("runner");
    process.kill(paused, "SIGSTOP");
  }
  async function resumeRunner(): Promise<void> {
    const pid = paused!;
    process.kill(pid, "SIGCONT");
    paused = undefined;
    await waitFor(() => Promise.resolve(processState(pid) !== "T"), 5_000, () => `the runner ${pid} did not resume`);
  }

  it("denies a strategy zoneferry does not have, naming the two it has, and queues nothing", async () => {
    await sandbox.statefulSet("bluegreen", 2, { zones: [B] });
    const before = await contents("bluegreen", 2);
    const stderr = await refused(...request("bluegreen", "30s", "zoneferry.io/strategy=BlueGreen"));
    assert.match(stderr, /denied the request: zoneferry: StatefulSet premises\/bluegreen has invalid annotations: annotation zoneferry\.io\/strategy: "BlueGreen" is not a strategy; use "Recreate" \(every replica down for the whole move\) or "Rolling" \(one replica at a time\)/);
    assert.equal(await sandbox.annotation("bluegreen", "target-zones"), "", "the request was not stored");
    assert.deepEqual(await journals("bluegreen"), []);
    await untouched("bluegreen", 2, before);
  });

  it("denies a move of a staged canary (partition 1, one pod on the new revision), and every pod stays on its revision and disk", async () => {
    await sandbox.statefulSet("canary", 2, { zones: [B] });
    const before = await contents("canary", 2);
    await kubectl("-n", NS, "patch", "statefulset", "canary", "--type=merge", "-p", JSON.stringify({
      spec: { updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } }, template: { metadata: { annotations: { release: "canary" } } } },
    }));
    const revisionOf = async (pod: string): Promise<string> => kubectl("-n", NS, "get", "pod", pod, "-o", "jsonpath={.metadata.labels.controller-revision-hash}");
    const status = async (field: string): Promise<string> => kubectl("-n", NS, "get", "statefulset", "canary", "-o", `jsonpath={.status.${field}}`);
    await waitFor(async () => (await status("updatedReplicas")) === "1" && (await sandbox.readyReplicas("canary")) === 2 && (await revisionOf("canary-1")) === (await status("updateRevision")), 60_000, () => "the canary did not roll out to canary-1");
    const [current, updated] = [await status("currentRevision"), await status("updateRevision")];
    assert.notEqual(current, updated, "the fault: two revisions run side by side");
    const stderr = await refused(...request("canary"));
    assert.match(stderr, new RegExp(`cannot move to ${G}: updateStrategy\\.rollingUpdate\\.partition is 1 \\(a staged rollout: 1 of 2 pods run revision ${updated}, the others ${current}\\); the move scales the StatefulSet to zero, which ends any staged rollout`));
    assert.deepEqual(await journals("canary"), []);
    assert.equal(await revisionOf("canary-0"), current, "canary-0 still runs the old revision");
    assert.equal(await revisionOf("canary-1"), updated);
    await untouched("canary", 2, before);
  });

  it("denies a move while a replica is Pending in a degraded zone, and the StatefulSet scales normally once the zone is back", async () => {
    await sandbox.statefulSet("degraded", 2, { zones: [B] });
    const before = await contents("degraded", 2);
    try {
      await degradeZone("degraded", "degraded-1");
      const stderr = await refused(...request("degraded"));
      assert.match(stderr, /cannot move to cn-shanghai-g: only 1 of 2 replicas are Ready \(status\.readyReplicas\); every replica must be Ready before a move/);
    } finally {
      await kubectl("uncordon", NODE_B);
    }
    await waitFor(async () => (await sandbox.readyReplicas("degraded")) === 2, 60_000, () => "degraded-1 did not come back");
    assert.equal(await sandbox.annotation("degraded", "status"), "", "nothing holds the StatefulSet");
    await scalesNormally("degraded", 1);
    await untouched("degraded", 1, { "data-degraded-0": before["data-degraded-0"]! });
  });

  it("fails precheck within ready-timeout, naming the Pending replica, when a replica goes down after admission; nothing is held or moved", async () => {
    await sandbox.statefulSet("late", 2, { zones: [B] });
    const before = await contents("late", 2);
    const started = Date.now();
    try {
      pauseRunner();
      await kubectl(...request("late"));
      await degradeZone("late", "late-1");
      await resumeRunner();
      assert.equal(await sandbox.ended("late", 90_000), "Failed");
    } finally {
      await kubectl("uncordon", NODE_B);
    }
    const message = await sandbox.annotation("late", "message");
    assert.match(message, /step precheck failed: still waiting for replica\(s\) late-1 \(Pending, Unschedulable: .*\) to be Ready after ready-timeout \(30s\); nothing was changed/);
    assert.ok(Date.now() - started < 80_000, "precheck gave up within its bound");
    await waitFor(async () => (await sandbox.readyReplicas("late")) === 2, 60_000, () => "late-1 did not come back");
    await scalesNormally("late", 1);
    await untouched("late", 1, { "data-late-0": before["data-late-0"]! });
  });

  it("resumes precheck's wait after Redis loses the job, instead of holding the StatefulSet for good, and the move then completes with the data", async () => {
    await sandbox.statefulSet("flushed", 2, { zones: [B] });
    const before = await contents("flushed", 2);
    const redis = new Redis(sandbox.env["REDIS_URL"]!);
    try {
      pauseRunner();
      await kubectl(...request("flushed", "2m"));
      await degradeZone("flushed", "flushed-1");
      await resumeRunner();
      await waitFor(async () => (await sandbox.annotation("flushed", "status")) === "Running" && (await sandbox.annotation("flushed", "step")) === "precheck", 30_000, () => "precheck did not begin");
      // Precheck waits on flushed-1; the queue loses the job.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await redis.flushall();
      assert.equal(await redis.dbsize(), 0, "the fault: Redis holds nothing");
    } finally {
      redis.disconnect();
      await kubectl("uncordon", NODE_B);
    }
    assert.equal(await sandbox.ended("flushed", 120_000), "Succeeded", "the migration was found again and ended");
    for (const [claim, { content }] of Object.entries(before)) {
      assert.equal(await sandbox.contentOf(claim), content, `${claim} holds its data on its new disk`);
      assert.equal((await sandbox.newDisksOf(claim))[0]?.zoneId, G);
    }
    await scalesNormally("flushed", 1);
  });

  for (const cascade of ["orphan", "background"] as const) {
    it(`keeps the journal and every disk when the StatefulSet is deleted during the snapshot (--cascade=${cascade}), and the run ends naming where each claim's data is`, async () => {
      const name = `gone-${cascade}`;
      await sandbox.statefulSet(name, 2, { zones: [B] });
      const before = await contents(name, 2);
      await sandbox.emulator("/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ action: "CreateSnapshot", delayMs: 8_000, times: 2 }) });
      await kubectl(...request(name));
      await waitFor(async () => (await sandbox.annotation(name, "step")) === "snapshot", 60_000, () => `${name} never reached the snapshot`);
      await kubectl("-n", NS, "delete", "statefulset", name, `--cascade=${cascade}`, "--wait=true");
      assert.equal(await kubectl("-n", NS, "get", "statefulsets", "-o", "jsonpath={.items[*].metadata.name}").then((names) => names.split(" ").includes(name)), false, "the fault: the StatefulSet is gone");
      const seen: { journal: Journal | undefined } = { journal: undefined };
      await waitFor(async () => {
        [seen.journal] = await journals(name);
        return ["Succeeded", "Failed", "RollbackFailed"].includes(seen.journal?.status?.phase ?? "");
      }, 90_000, () => `the run of ${name} did not end (journal ${JSON.stringify(seen.journal?.status ?? "gone")})`);
      const journal = seen.journal!;
      assert.equal(journal.metadata.ownerReferences, undefined, "the journal has no owner to be collected with");
      assert.equal(journal.status?.phase, "Failed");
      const message = journal.status.message ?? "";
      assert.match(message, new RegExp(`^StatefulSet premises/${name} was deleted during step [a-z-]+: zoneferry stopped, undid nothing and deleted no disk`));
      assert.doesNotMatch(message, /rolled back|could not undo/, "nothing was undone, and the message does not say otherwise");
      const inventory = await sandbox.inventory();
      for (const [claim, { disk, content }] of Object.entries(before)) {
        assert.match(message, new RegExp(`PVC ${claim}: on source disk ${disk} \\(PV ${disk}, the PVC is Bound to it\\); snapshot s-`), `the message says where ${claim}'s data is`);
        assert.equal(inventory.disks.find((found) => found.diskId === disk)?.status !== undefined, true, `${claim}'s disk ${disk} still exists`);
        assert.equal(await sandbox.contentOf(claim), content, `${claim} still reaches its data`);
        assert.equal(await kubectl("get", "pv", disk, "-o", "jsonpath={.spec.persistentVolumeReclaimPolicy}"), "Retain", "its PV keeps the disk if the PVC goes");
      }
      await new Promise((resolve) => setTimeout(resolve, 12_000));
      assert.equal((await journals(name)).length, 1, "the journal outlives its StatefulSet (the garbage collector and a reconcile pass later)");
    });
  }
});
