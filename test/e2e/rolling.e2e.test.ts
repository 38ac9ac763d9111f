/**
 * Strategy Rolling end to end on the sandbox: one replica at a time, the others serving. Every
 * test watches the pods (a watch sees every change, a poll could miss the moment two were down)
 * and checks what a user would: where each replica runs, what each PVC's disk holds, what is left
 * in ECS.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { KubeConfig, Watch, type V1Pod } from "@kubernetes/client-node";
import { waitFor } from "../../sandbox/processes.ts";
import { SandboxSession, killProcess } from "../support/sandbox-session.ts";

const NS = "rolling";

/** The fewest Ready replicas seen by a watch of the StatefulSet's pods, from `start` on. */
interface ReadyWatch {
  /** Fewest Ready at any moment since the watch began (after every pod was first seen). */
  readonly fewest: () => number;
  /** Pods that were ever not Ready (or gone) while watched. */
  readonly disturbed: () => ReadonlySet<string>;
  stop(): void;
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") === true && pod.metadata?.deletionTimestamp === undefined;
}

describe("strategy Rolling on the sandbox", () => {
  const sandbox = new SandboxSession("zf-rolling-", NS);
  const kubectl = async (...args: string[]): Promise<string> => sandbox.kubectl(...args);

  async function watchReady(name: string, replicas: number): Promise<ReadyWatch> {
    const kubeconfig = new KubeConfig();
    kubeconfig.loadFromFile(sandbox.env["KUBECONFIG"]!);
    const ready = new Map<string, boolean>();
    const disturbed = new Set<string>();
    let fewest = replicas;
    const controller = await new Watch(kubeconfig).watch(`/api/v1/namespaces/${NS}/pods`, { labelSelector: `app=${name}` }, (type, pod: V1Pod) => {
      const pod_ = pod.metadata?.name ?? "?";
      const now = type !== "DELETED" && isReady(pod);
      ready.set(pod_, now);
      if (!now) disturbed.add(pod_);
      fewest = Math.min(fewest, [...ready.values()].filter(Boolean).length + Math.max(0, replicas - ready.size));
    }, () => undefined);
    return { fewest: () => fewest, disturbed: () => disturbed, stop: () => { controller.abort(); } };
  }

  async function migrate(name: string, annotations: Record<string, string>, withinMs = 180_000): Promise<string> {
    await kubectl("-n", NS, "annotate", "statefulset", name, "--overwrite", "zoneferry.io/strategy=Rolling", "zoneferry.io/check-interval=1s", "zoneferry.io/ready-timeout=1m", ...Object.entries(annotations).map(([key, value]) => `zoneferry.io/${key}=${value}`));
    return sandbox.ended(name, withinMs);
  }

  before(async () => {
    await sandbox.up();
  });
  after(async () => {
    await sandbox.down();
  });

  it("moves 3 replicas to another zone one at a time: never fewer than 2 Ready, same PVC names, each claim's content kept, sources deleted", async () => {
    await sandbox.statefulSet("db", 3, { zones: ["cn-shanghai-b"] });
    const sources = await Promise.all([0, 1, 2].map(async (ordinal) => sandbox.diskOf(`data-db-${ordinal}`)));
    const watch = await watchReady("db", 3);
    try {
      assert.equal(await migrate("db", { "target-zones": "cn-shanghai-g" }), "Succeeded", await sandbox.annotation("db", "message"));
    } finally {
      watch.stop();
    }
    assert.equal(watch.fewest(), 2, "at most one replica was down at any moment");
    for (const ordinal of [0, 1, 2]) {
      assert.equal(await sandbox.zoneOfPod(`db-${ordinal}`), "cn-shanghai-g");
      assert.equal(await sandbox.contentOf(`data-db-${ordinal}`), `db-${ordinal} rows 1..${100 + ordinal}`);
    }
    const claims = (await kubectl("-n", NS, "get", "pvc", "-o", "jsonpath={.items[*].metadata.name}")).split(" ").sort();
    assert.deepEqual(claims.filter((claim) => claim.startsWith("data-db-")), ["data-db-0", "data-db-1", "data-db-2"]);
    const disks = (await sandbox.inventory()).disks.map((disk) => disk.diskId);
    assert.deepEqual(sources.filter((source) => disks.includes(source)), [], "the source disks are deleted once every replica is verified");
    await waitFor(async () => !(await kubectl("-n", NS, "get", "configmap", "-o", "name")).includes("zoneferry-held-pods"), 10_000, () => "the hold ConfigMap is left");
    const journal = JSON.parse(await kubectl("-n", NS, "get", "zonemigrations", "-o", "json")) as { items: { spec: { statefulSet: string }; status: { replicas: { ordinal: number; phase: string; zone: string }[] } }[] };
    const replicas = journal.items.find((item) => item.spec.statefulSet === "db")!.status.replicas;
    assert.deepEqual(replicas.map((replica) => [replica.ordinal, replica.phase, replica.zone]), [[2, "Moved", "cn-shanghai-g"], [1, "Moved", "cn-shanghai-g"], [0, "Moved", "cn-shanghai-g"]], "the journal shows each replica moved, highest ordinal first");
    const events = await kubectl("-n", NS, "get", "events", "--field-selector", "involvedObject.name=db", "-o", "jsonpath={.items[*].message}");
    assert.match(events, /replica 1\/3: rebind/, "an Event names each replica's step");
  });

  it("spreads over two zones without ever taking down the replica already in place", async () => {
    // spread-0 in b (a target zone: it stays), spread-1 and spread-2 in m (not a target: they move).
    await sandbox.statefulSet("spread", 1, { zones: ["cn-shanghai-b"] });
    for (const node of ["node-cn-shanghai-b-0", "node-cn-shanghai-g-0"]) await kubectl("cordon", node);
    try {
      await kubectl("-n", NS, "scale", "statefulset", "spread", "--replicas=3");
      await waitFor(async () => (await sandbox.readyReplicas("spread")) === 3, 60_000, () => "spread not Ready at 3");
    } finally {
      for (const node of ["node-cn-shanghai-b-0", "node-cn-shanghai-g-0"]) await kubectl("uncordon", node);
    }
    for (const ordinal of [1, 2]) await sandbox.emulator(`/disks/${await sandbox.diskOf(`data-spread-${ordinal}`)}/content`, { method: "PUT", body: `spread-${ordinal} rows 1..${100 + ordinal}` });
    const inPlace = await kubectl("-n", NS, "get", "pod", "spread-0", "-o", "jsonpath={.metadata.uid}");
    const watch = await watchReady("spread", 3);
    try {
      assert.equal(await migrate("spread", { "target-zones": "cn-shanghai-b,cn-shanghai-g" }), "Succeeded", await sandbox.annotation("spread", "message"));
    } finally {
      watch.stop();
    }
    assert.equal(watch.disturbed().has("spread-0"), false, "the replica in place was never taken down");
    assert.equal(await kubectl("-n", NS, "get", "pod", "spread-0", "-o", "jsonpath={.metadata.uid}"), inPlace, "the same pod serves");
    assert.equal(watch.fewest(), 2);
    assert.deepEqual([await sandbox.zoneOfPod("spread-0"), await sandbox.zoneOfPod("spread-1"), await sandbox.zoneOfPod("spread-2")], ["cn-shanghai-b", "cn-shanghai-g", "cn-shanghai-b"]);
    for (const ordinal of [0, 1, 2]) assert.equal(await sandbox.contentOf(`data-spread-${ordinal}`), `spread-${ordinal} rows 1..${100 + ordinal}`);
  });

  const permanentFaults = [
    { name: "refused", what: "ECS refuses its snapshot", rule: { action: "CreateSnapshot", code: "QuotaExceed.Snapshot", after: 1, times: 5 }, step: "snapshot", code: "QuotaExceed.Snapshot" },
    { name: "nostock", what: "its new zone has no stock for its disk", rule: { action: "CreateDisk", code: "OperationDenied.NoStock", after: 1, times: 5 }, step: "create-disks", code: "OperationDenied.NoStock" },
  ];
  for (const fault of permanentFaults) {
    it(`puts the second replica back on its own disk and zone when ${fault.what}: the first stays moved, the others serve throughout, the message says which ordinal is where`, async () => {
      const name = fault.name;
      await sandbox.statefulSet(name, 3, { zones: ["cn-shanghai-b"] });
      const sources = await Promise.all([0, 1, 2].map(async (ordinal) => sandbox.diskOf(`data-${name}-${ordinal}`)));
      // The first replica's call goes through; the second's is refused.
      await sandbox.emulator("/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(fault.rule) });
      const watch = await watchReady(name, 3);
      try {
        assert.equal(await migrate(name, { "target-zones": "cn-shanghai-g" }), "Failed");
      } finally {
        watch.stop();
        await sandbox.emulator("/faults", { method: "DELETE" });
      }
      const requests = await (await sandbox.emulator("/requests")).text();
      assert.ok(requests.includes(fault.code), `ECS answered ${fault.code}`);
      const message = await sandbox.annotation(name, "message");
      assert.match(message, new RegExp(`^step replica 1/3: ${fault.step} failed: .*${fault.code.replace(".", "\\.")}`));
      assert.match(message, new RegExp(`replica 2 stays moved to cn-shanghai-g; its source disk\\(s\\) ${sources[2]!}`));
      assert.equal(watch.fewest(), 2, "the others served throughout");
      await waitFor(async () => (await sandbox.readyReplicas(name)) === 3, 60_000, () => `${name} not Ready again at 3`);
      assert.deepEqual([await sandbox.zoneOfPod(`${name}-0`), await sandbox.zoneOfPod(`${name}-1`), await sandbox.zoneOfPod(`${name}-2`)], ["cn-shanghai-b", "cn-shanghai-b", "cn-shanghai-g"]);
      assert.equal(await sandbox.diskOf(`data-${name}-1`), sources[1], "replica 1 is back on its own disk");
      assert.equal(await sandbox.diskOf(`data-${name}-0`), sources[0], "replica 0 was never touched");
      for (const ordinal of [0, 1, 2]) assert.equal(await sandbox.contentOf(`data-${name}-${ordinal}`), `${name}-${ordinal} rows 1..${100 + ordinal}`);
      const disks = new Map((await sandbox.inventory()).disks.map((disk) => [disk.diskId, disk]));
      assert.equal(disks.get(sources[2]!)?.status, "Available", "the moved replica's source disk is kept");
      assert.deepEqual(await sandbox.newDisksOf(`data-${name}-1`), [], "no new disk left for replica 1");
    });
  }

  it("puts the second replica back when it is not Ready in its new zone within ready-timeout", async () => {
    await sandbox.statefulSet("stuck", 2, { zones: ["cn-shanghai-b"] });
    const source = await sandbox.diskOf("data-stuck-0");
    await kubectl("-n", NS, "annotate", "statefulset", "stuck", "--overwrite", "zoneferry.io/strategy=Rolling", "zoneferry.io/check-interval=1s", "zoneferry.io/ready-timeout=30s", "zoneferry.io/target-zones=cn-shanghai-g");
    // Once the first replica is up in g, g takes no more pods: the second cannot be scheduled there.
    await waitFor(async () => (await sandbox.annotation("stuck", "step")).startsWith("replica 0/2"), 90_000, () => "the second replica's move never began");
    await kubectl("cordon", "node-cn-shanghai-g-0");
    const watch = await watchReady("stuck", 2);
    try {
      assert.equal(await sandbox.ended("stuck", 180_000), "Failed");
    } finally {
      watch.stop();
      await kubectl("uncordon", "node-cn-shanghai-g-0");
    }
    assert.match(await sandbox.annotation("stuck", "message"), /^step replica 0\/2: bring-up failed: pod stuck-0 not Ready in its planned zone cn-shanghai-g within ready-timeout/);
    assert.ok(watch.fewest() >= 1, "the first replica served throughout");
    await waitFor(async () => (await sandbox.readyReplicas("stuck")) === 2, 60_000, () => "stuck not Ready again");
    assert.equal(await sandbox.zoneOfPod("stuck-0"), "cn-shanghai-b");
    assert.equal(await sandbox.diskOf("data-stuck-0"), source);
    assert.deepEqual(await sandbox.newDisksOf("data-stuck-0"), [], "its new disk, which no pod ran on, is deleted");
    assert.equal(await sandbox.zoneOfPod("stuck-1"), "cn-shanghai-g");
    for (const ordinal of [0, 1]) assert.equal(await sandbox.contentOf(`data-stuck-${ordinal}`), `stuck-${ordinal} rows 1..${100 + ordinal}`);
  });

  it("is cancelled mid-way: the replica in flight goes back, the one moved stays, the last is never touched", async () => {
    await sandbox.statefulSet("halfway", 3, { zones: ["cn-shanghai-b"] });
    const sources = await Promise.all([0, 1, 2].map(async (ordinal) => sandbox.diskOf(`data-halfway-${ordinal}`)));
    const reached = await sandbox.watchStep("halfway", "replica 1/3: create-disks");
    await kubectl("-n", NS, "annotate", "statefulset", "halfway", "--overwrite", "zoneferry.io/strategy=Rolling", "zoneferry.io/check-interval=1s", "zoneferry.io/ready-timeout=1m", "zoneferry.io/target-zones=cn-shanghai-g");
    try {
      await reached.reached;
    } finally {
      reached.stop();
    }
    await kubectl("-n", NS, "annotate", "statefulset", "halfway", "zoneferry.io/target-zones-");
    assert.equal(await sandbox.ended("halfway", 120_000), "Failed");
    assert.match(await sandbox.annotation("halfway", "message"), /cancelled at step replica 1\/3: (create-disks|rebind|bring-up)/);
    await waitFor(async () => (await sandbox.readyReplicas("halfway")) === 3, 60_000, () => "halfway not Ready again");
    assert.deepEqual([await sandbox.zoneOfPod("halfway-0"), await sandbox.zoneOfPod("halfway-1"), await sandbox.zoneOfPod("halfway-2")], ["cn-shanghai-b", "cn-shanghai-b", "cn-shanghai-g"]);
    assert.deepEqual([await sandbox.diskOf("data-halfway-0"), await sandbox.diskOf("data-halfway-1")], [sources[0], sources[1]]);
    for (const ordinal of [0, 1, 2]) assert.equal(await sandbox.contentOf(`data-halfway-${ordinal}`), `halfway-${ordinal} rows 1..${100 + ordinal}`);
  });

  describe("with a runner of the test's own (the sandbox's is stopped), started with failpoints", () => {
    let runner: ChildProcess | undefined;
    /** Replaces the runner now serving (the sandbox's, the first time) with one started with `failpoints`. */
    async function useRunner(failpoints?: string, log?: string): Promise<void> {
      if (runner === undefined) process.kill(sandbox.pidOf("runner"), "SIGKILL");
      else await killProcess(runner);
      runner = await sandbox.startRunner({ ...(failpoints === undefined ? {} : { failpoints }), ...(log === undefined ? {} : { log }), extraEnv: { RUNNER_LEASE_DURATION: "6s" } });
    }
    const fired = (log: string): string[] => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((line) => line.includes("\"fired\"")) : []);
    after(async () => {
      if (runner !== undefined) await killProcess(runner);
    });

    it("waits while another replica is unavailable, under a PodDisruptionBudget of maxUnavailable 1, and proceeds once it is Ready again", async () => {
      await sandbox.statefulSet("budget", 3, { zones: ["cn-shanghai-b"] });
      await kubectl("-n", NS, "create", "poddisruptionbudget", "budget", "--selector=app=budget", "--max-unavailable=1");
      // The runner freezes as it enters the second replica's move; meanwhile budget-0 stops being Ready.
      const log = join(sandbox.dir, "budget.failpoints.jsonl");
      await useRunner("replica-1/take-down/forward#1=pause:6000", log);
      await kubectl("-n", NS, "annotate", "statefulset", "budget", "--overwrite", "zoneferry.io/strategy=Rolling", "zoneferry.io/check-interval=1s", "zoneferry.io/ready-timeout=1m", "zoneferry.io/target-zones=cn-shanghai-g");
      await waitFor(() => Promise.resolve(fired(log).length === 1), 90_000, () => "the runner never entered the second replica's move");
      const readiness = (status: string): string => JSON.stringify({ status: { conditions: [{ type: "Ready", status }] } });
      await kubectl("-n", NS, "patch", "pod", "budget-0", "--subresource=status", "--type=strategic", "-p", readiness("False"));
      const conditions = async (): Promise<string> => kubectl("-n", NS, "get", "zonemigrations", "-o", "jsonpath={.items[?(@.spec.statefulSet==\"budget\")].status.conditions[*].message}");
      await waitFor(async () => (await conditions()).includes("budget-0 to be Ready before budget-1 is taken down"), 60_000, () => `the move did not say it waits for budget-0: ${fired(log).join(" ")}`);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      assert.equal(await sandbox.zoneOfPod("budget-1"), "cn-shanghai-b", "budget-1 was not taken down while budget-0 was not Ready");
      const watch = await watchReady("budget", 3);
      await kubectl("-n", NS, "patch", "pod", "budget-0", "--subresource=status", "--type=strategic", "-p", readiness("True"));
      try {
        assert.equal(await sandbox.ended("budget", 180_000), "Succeeded", await sandbox.annotation("budget", "message"));
      } finally {
        watch.stop();
      }
      assert.equal(watch.fewest(), 2, "never more than one replica down once budget-0 was back");
      for (const ordinal of [0, 1, 2]) {
        assert.equal(await sandbox.zoneOfPod(`budget-${ordinal}`), "cn-shanghai-g");
        assert.equal(await sandbox.contentOf(`data-budget-${ordinal}`), `budget-${ordinal} rows 1..${100 + ordinal}`);
      }
    });

    it("holds the move while a PodDisruptionBudget allows no disruption, saying so in the budget's words, and proceeds once it allows one", async () => {
      await useRunner();
      await sandbox.statefulSet("strict", 2, { zones: ["cn-shanghai-b"] });
      await kubectl("-n", NS, "create", "poddisruptionbudget", "strict", "--selector=app=strict", "--min-available=2");
      await waitFor(async () => (await kubectl("-n", NS, "get", "pdb", "strict", "-o", "jsonpath={.status.expectedPods}")) === "2", 30_000, () => "the budget was never computed");
      await kubectl("-n", NS, "annotate", "statefulset", "strict", "--overwrite", "zoneferry.io/strategy=Rolling", "zoneferry.io/check-interval=1s", "zoneferry.io/ready-timeout=1m", "zoneferry.io/target-zones=cn-shanghai-g");
      const conditions = async (): Promise<string> => kubectl("-n", NS, "get", "zonemigrations", "-o", "jsonpath={.items[?(@.spec.statefulSet==\"strict\")].status.conditions[*].message}");
      await waitFor(async () => /PodDisruptionBudget strict to allow evicting strict-1/.test(await conditions()), 60_000, () => "the move did not say the budget holds it");
      assert.equal(await sandbox.readyReplicas("strict"), 2, "nothing was taken down against the budget");
      await kubectl("-n", NS, "patch", "pdb", "strict", "--type=json", "-p", JSON.stringify([{ op: "remove", path: "/spec/minAvailable" }, { op: "add", path: "/spec/maxUnavailable", value: 1 }]));
      assert.equal(await sandbox.ended("strict", 120_000), "Succeeded", await sandbox.annotation("strict", "message"));
      for (const ordinal of [0, 1]) assert.equal(await sandbox.contentOf(`data-strict-${ordinal}`), `strict-${ordinal} rows 1..${100 + ordinal}`);
    });

    for (const step of ["take-down", "snapshot", "create-disks", "rebind", "bring-up"]) {
      it(`resumes at replica 0's ${step} after the runner is killed there and Redis loses its data`, async () => {
        const name = `kill-${step}`;
        await sandbox.statefulSet(name, 2, { zones: ["cn-shanghai-b"] });
        const log = join(sandbox.dir, `${name}.failpoints.jsonl`);
        // After the step's report (three writes): Redis loses its data, then the runner dies.
        await useRunner(`replica-0/${step}/forward#4=flush,replica-0/${step}/forward#5=kill`, log);
        const watch = await watchReady(name, 2);
        await kubectl("-n", NS, "annotate", "statefulset", name, "--overwrite", "zoneferry.io/strategy=Rolling", "zoneferry.io/check-interval=1s", "zoneferry.io/ready-timeout=1m", "zoneferry.io/target-zones=cn-shanghai-g");
        await waitFor(() => Promise.resolve(runner!.exitCode !== null || runner!.signalCode !== null), 120_000, () => `the runner was not killed in replica-0/${step}`);
        assert.equal(fired(log).length, 2, `both failpoints fired in replica-0/${step}: ${fired(log).join(" ")}`);
        await useRunner();
        try {
          assert.equal(await sandbox.ended(name, 180_000), "Succeeded", await sandbox.annotation(name, "message"));
        } finally {
          watch.stop();
        }
        assert.ok(watch.fewest() >= 1, "never both replicas down");
        for (const ordinal of [0, 1]) {
          assert.equal(await sandbox.zoneOfPod(`${name}-${ordinal}`), "cn-shanghai-g");
          assert.equal(await sandbox.contentOf(`data-${name}-${ordinal}`), `${name}-${ordinal} rows 1..${100 + ordinal}`);
          assert.equal((await sandbox.newDisksOf(`data-${name}-${ordinal}`)).length, 1, "one new disk per claim: nothing made twice");
        }
      });
    }
  });
});
