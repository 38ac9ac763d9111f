/**
 * OpenKruise Advanced StatefulSets end to end on the sandbox (issue 15): the sandbox's stand-in for
 * kruise's controller runs them (sandbox/kruise-controller), the chart's webhooks and policies are
 * registered with workloads.kruise on, and the runner moves them through kruise's API. Each test
 * checks what a user would: where the pods run, what each claim's disk holds, what ECS keeps.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { ReadyWatch } from "../../bench/ready-watch.ts";
import { waitFor } from "../../sandbox/processes.ts";
import { SandboxSession } from "../support/sandbox-session.ts";

const NS = "kruise";
const ASTS = "statefulsets.apps.kruise.io";

describe("moving OpenKruise Advanced StatefulSets on the sandbox", () => {
  const sandbox = new SandboxSession("zf-kruise-", NS);
  const kubectl = async (...args: string[]): Promise<string> => sandbox.kubectl(...args);
  const fault = async (rule: Record<string, unknown>): Promise<void> => {
    await sandbox.emulator("/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(rule) });
  };
  const clearFaults = async (): Promise<void> => {
    await sandbox.emulator("/faults", { method: "DELETE" });
  };
  const annotate = async (name: string, annotations: Record<string, string>): Promise<string> =>
    kubectl("-n", NS, "annotate", ASTS, name, "--overwrite", "zoneferry.io/check-interval=1s", "zoneferry.io/ready-timeout=1m", ...Object.entries(annotations).map(([key, value]) => `zoneferry.io/${key}=${value}`));
  async function migrate(name: string, annotations: Record<string, string>, withinMs = 120_000): Promise<string> {
    await annotate(name, annotations);
    return sandbox.ended(name, withinMs);
  }
  /** The names of the claims of `name`'s template `data`, sorted. */
  const claimsOf = async (name: string): Promise<string[]> =>
    (await kubectl("-n", NS, "get", "pvc", "-o", "jsonpath={.items[*].metadata.name}")).split(" ").filter((claim) => claim.startsWith(`data-${name}-`)).sort();

  before(async () => {
    await sandbox.up();
  });
  after(async () => {
    await sandbox.down();
  });

  it("moves 2 replicas to one zone (the seed's Example 1): pods there, same PVC names, each claim's content kept, sources deleted", async () => {
    await sandbox.statefulSet("one", 2, { zones: ["cn-shanghai-b", "cn-shanghai-m"], advanced: {} });
    const sources = [await sandbox.diskOf("data-one-0"), await sandbox.diskOf("data-one-1")];
    assert.equal(await migrate("one", { "target-zones": "cn-shanghai-g" }), "Succeeded", await sandbox.annotation("one", "message"));
    for (const ordinal of [0, 1]) {
      assert.equal(await sandbox.zoneOfPod(`one-${ordinal}`), "cn-shanghai-g");
      assert.equal(await sandbox.contentOf(`data-one-${ordinal}`), `one-${ordinal} rows 1..${100 + ordinal}`);
    }
    assert.deepEqual(await claimsOf("one"), ["data-one-0", "data-one-1"]);
    const world = await sandbox.inventory();
    assert.equal(world.disks.some((disk) => sources.includes(disk.diskId)), false, "source disks deleted");
    assert.equal(world.snapshots.filter((snapshot) => sources.includes(snapshot.sourceDiskId)).length, 2, "one snapshot per disk");
    assert.equal(await kubectl("-n", NS, "get", ASTS, "one", "-o", "jsonpath={.spec.replicas}"), "2", "the replicas are back");
    // The journal names the StatefulSet's API, and its Events are the Advanced StatefulSet's.
    assert.equal(await kubectl("-n", NS, "get", "zonemigrations", "-o", "jsonpath={.items[?(@.spec.statefulSet==\"one\")].spec.workloadApiVersion}"), "apps.kruise.io/v1beta1");
    const involved = await kubectl("-n", NS, "get", "events", "--field-selector", "involvedObject.name=one,reason=ZoneferrySucceeded", "-o", "jsonpath={.items[*].involvedObject.apiVersion}");
    assert.equal(involved, "apps.kruise.io/v1beta1");
  });

  it("spreads 4 replicas over two zones (the seed's Example 2), alternating in list order, each claim's content kept", async () => {
    await sandbox.statefulSet("spread", 4, { zones: ["cn-shanghai-b"], advanced: {} });
    assert.equal(await migrate("spread", { "target-zones": "cn-shanghai-g,cn-shanghai-m" }), "Succeeded", await sandbox.annotation("spread", "message"));
    assert.deepEqual(await Promise.all([0, 1, 2, 3].map(async (ordinal) => sandbox.zoneOfPod(`spread-${ordinal}`))), ["cn-shanghai-g", "cn-shanghai-m", "cn-shanghai-g", "cn-shanghai-m"]);
    for (const ordinal of [0, 1, 2, 3]) assert.equal(await sandbox.contentOf(`data-spread-${ordinal}`), `spread-${ordinal} rows 1..${100 + ordinal}`);
  });

  it("moves the live ordinals of reserveOrdinals [1] (pods 0, 2 and 3) and makes no claim for the reserved one", async () => {
    await sandbox.statefulSet("gap", 3, { zones: ["cn-shanghai-b"], advanced: { reserveOrdinals: [1] } });
    assert.deepEqual(await claimsOf("gap"), ["data-gap-0", "data-gap-2", "data-gap-3"]);
    const { stderr } = await sandbox.kubectlOutput("-n", NS, "annotate", ASTS, "gap", "--dry-run=server", "zoneferry.io/target-zones=cn-shanghai-m");
    assert.match(stderr, /gap-0 → cn-shanghai-m/);
    assert.doesNotMatch(stderr, /gap-1\b/);
    assert.equal(await migrate("gap", { "target-zones": "cn-shanghai-m" }), "Succeeded", await sandbox.annotation("gap", "message"));
    for (const ordinal of [0, 2, 3]) {
      assert.equal(await sandbox.zoneOfPod(`gap-${ordinal}`), "cn-shanghai-m");
      assert.equal(await sandbox.contentOf(`data-gap-${ordinal}`), `gap-${ordinal} rows 1..${100 + ordinal}`);
    }
    assert.deepEqual(await claimsOf("gap"), ["data-gap-0", "data-gap-2", "data-gap-3"], "no claim for ordinal 1");
    assert.equal(await kubectl("-n", NS, "get", "pods", "-l", "app=gap", "-o", "jsonpath={.items[*].metadata.name}"), "gap-0 gap-2 gap-3");
  });

  it("denies kubectl scale of an Advanced StatefulSet while its migration runs, through its own scale guard, and admits it after", async () => {
    await sandbox.statefulSet("held", 2, { zones: ["cn-shanghai-b"], advanced: {} });
    await fault({ action: "CreateSnapshot", delayMs: 3_000, times: 1 });
    try {
      await annotate("held", { "target-zones": "cn-shanghai-m" });
      await waitFor(async () => (await sandbox.annotation("held", "step")) === "snapshot", 30_000, () => "the migration never reached snapshot");
      const refused = /is held by zoneferry migration [0-9a-f]{12} \(status Running, step snapshot\): spec.replicas cannot change until the migration ends/;
      await assert.rejects(kubectl("-n", NS, "scale", ASTS, "held", "--replicas=3"), (error: { stderr?: string }) => refused.test(String(error.stderr)));
      assert.equal(await kubectl("-n", NS, "get", ASTS, "held", "-o", "jsonpath={.spec.replicas}"), "0", "the refused scale changed nothing");
    } finally {
      await clearFaults();
    }
    assert.equal(await sandbox.ended("held"), "Succeeded", await sandbox.annotation("held", "message"));
    await kubectl("-n", NS, "scale", ASTS, "held", "--replicas=3");
    await waitFor(async () => (await sandbox.readyReplicas("held")) === 3, 60_000, () => "held did not scale to 3 after the move");
    for (const ordinal of [0, 1]) assert.equal(await sandbox.contentOf(`data-held-${ordinal}`), `held-${ordinal} rows 1..${100 + ordinal}`);
  });

  it("rolls back a move ECS refuses halfway: every claim back on its disk with its content, nothing new left in ECS", async () => {
    await sandbox.statefulSet("refused", 2, { zones: ["cn-shanghai-m"], advanced: { reserveOrdinals: [0] } });
    const sources = { one: await sandbox.diskOf("data-refused-1"), two: await sandbox.diskOf("data-refused-2") };
    const disksBefore = (await sandbox.inventory()).disks.length;
    await fault({ action: "CreateDisk", code: "OperationDenied.NoStock", times: 5 });
    try {
      assert.equal(await migrate("refused", { "target-zones": "cn-shanghai-b" }), "Failed");
    } finally {
      await clearFaults();
    }
    // The fault happened: ECS was asked for a disk and refused.
    const log = (await (await sandbox.emulator("/requests")).json()) as { action: string; code?: string }[];
    assert.ok(log.some((entry) => entry.action === "CreateDisk" && entry.code === "OperationDenied.NoStock"), "the emulator refused CreateDisk");
    assert.match(await sandbox.annotation("refused", "message"), /step create-disks failed: .*OperationDenied\.NoStock.*; rolled back/);
    await waitFor(async () => (await sandbox.readyReplicas("refused")) === 2, 60_000, () => "refused not Ready again");
    assert.equal(await sandbox.diskOf("data-refused-1"), sources.one);
    assert.equal(await sandbox.diskOf("data-refused-2"), sources.two);
    assert.equal(await sandbox.contentOf("data-refused-1"), "refused-1 rows 1..101");
    assert.equal(await sandbox.contentOf("data-refused-2"), "refused-2 rows 1..102");
    for (const pod of ["refused-1", "refused-2"]) assert.equal(await sandbox.zoneOfPod(pod), "cn-shanghai-m");
    assert.equal((await sandbox.inventory()).disks.length, disksBefore, "no disk leaked");
  });

  it("moves an Advanced StatefulSet with strategy Rolling, one replica at a time, each claim's content kept", async () => {
    await sandbox.statefulSet("roll", 3, { zones: ["cn-shanghai-b"], advanced: {} });
    const kubeconfig = new KubeConfig();
    kubeconfig.loadFromFile(sandbox.env["KUBECONFIG"]!);
    // A watch sees every change of the pods: a poll could miss the moment two were down.
    const watch = await ReadyWatch.start(kubeconfig, NS, "roll", 3);
    try {
      assert.equal(await migrate("roll", { "target-zones": "cn-shanghai-g", strategy: "Rolling" }, 180_000), "Succeeded", await sandbox.annotation("roll", "message"));
      assert.equal(watch.fewest(), 2, "never more than one replica down");
      assert.deepEqual([...new Set(watch.windows().map((window) => window.pod))].sort(), ["roll-0", "roll-1", "roll-2"], "each replica was down once, in turn");
    } finally {
      watch.stop();
    }
    for (const ordinal of [0, 1, 2]) {
      assert.equal(await sandbox.zoneOfPod(`roll-${ordinal}`), "cn-shanghai-g");
      assert.equal(await sandbox.contentOf(`data-roll-${ordinal}`), `roll-${ordinal} rows 1..${100 + ordinal}`);
    }
  });

  it("denies at apply time what a move cannot work with on kruise, with a message that says what to change, and changes nothing", async () => {
    await sandbox.statefulSet("hooked", 1, { zones: ["cn-shanghai-b"], advanced: { lifecycle: { preDelete: { labelsHandler: { "example.com/drain": "true" } } } } });
    const disk = await sandbox.diskOf("data-hooked-0");
    await assert.rejects(annotate("hooked", { "target-zones": "cn-shanghai-g" }), (error: { stderr?: string }) =>
      /denied the request: .*spec\.lifecycle\.preDelete \(label example\.com\/drain\) holds each pod in PreparingDelete.*remove spec\.lifecycle\.preDelete for the move/.test(String(error.stderr)));
    await sandbox.statefulSet("pinned", 1, { zones: ["cn-shanghai-b"], advanced: {} });
    await kubectl("-n", NS, "annotate", ASTS, "pinned", "kruise.io/auto-generate-persistent-pod-state=true", "kruise.io/required-persistent-topology=topology.kubernetes.io/zone");
    await assert.rejects(annotate("pinned", { "target-zones": "cn-shanghai-g" }), (error: { stderr?: string }) =>
      /denied the request: .*makes OpenKruise pin every re-created pod to the zone it ran in/.test(String(error.stderr)));
    assert.equal(await sandbox.annotation("hooked", "target-zones"), "", "the denied request was not stored");
    assert.equal(await sandbox.diskOf("data-hooked-0"), disk);
    assert.equal(await kubectl("-n", NS, "get", "zonemigrations", "-o", "jsonpath={.items[?(@.spec.statefulSet==\"hooked\")].metadata.name}"), "", "no journal");
  });
});
