/**
 * Migrations end to end on the sandbox (started once for this file through its CLI): the runner
 * moves real PVCs between kwok nodes' zones through the ECS emulator, and every test checks what
 * a user would: where the pods run, what each PVC's disk holds, what is left in ECS.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import type { DiskRecord } from "../../core/disk-cloud.ts";
import { EcsDiskCloud } from "../../core/ecs/ecs-disk-cloud.ts";
import { createEcsClient } from "../../core/ecs/ecs-sdk.ts";
import { freePort, waitFor } from "../../sandbox/processes.ts";
import { REPO, SandboxSession, type Inventory } from "../support/sandbox-session.ts";

const NS = "moves";

describe("moving StatefulSets between zones on the sandbox", () => {
  const sandbox = new SandboxSession("zf-moves-", NS);
  const dir = sandbox.dir;
  const kubectl = async (...args: string[]): Promise<string> => sandbox.kubectl(...args);
  const emulator = async (path: string, init?: RequestInit): Promise<Response> => sandbox.emulator(path, init);
  const inventory = async (): Promise<Inventory> => sandbox.inventory();
  /** The disks zoneferry made for a claim (tagged with it), in the emulator's inventory. */
  const newDisksOf = async (claim: string): Promise<Inventory["disks"]> => sandbox.newDisksOf(claim);
  /** Waits until the migration of `name` has begun health-duration's second check. */
  const untilHealthCheck = async (name: string): Promise<void> => {
    const conditions = async (): Promise<string> => kubectl("-n", NS, "get", "zonemigrations", "-o", `jsonpath={.items[?(@.spec.statefulSet=="${name}")].status.conditions[*].type}`);
    await waitFor(async () => (await conditions()).includes("HealthChecking"), 60_000, () => `the second check of ${name} never began`);
  };
  const diskOf = async (claim: string): Promise<string> => sandbox.diskOf(claim);
  const contentOf = async (claim: string): Promise<string> => sandbox.contentOf(claim);
  const zoneOfPod = async (pod: string): Promise<string> => sandbox.zoneOfPod(pod);
  const annotation = async (name: string, key: string): Promise<string> => sandbox.annotation(name, key);
  const statefulSet = async (name: string, replicas: number, options: { zones?: string[]; templates?: string[]; whenScaled?: "Delete" } = {}): Promise<void> => sandbox.statefulSet(name, replicas, options);

  /** Annotates as a GitOps apply would, and waits until the migration ends; answers its status. */
  async function migrate(name: string, annotations: Record<string, string>): Promise<string> {
    await kubectl("-n", NS, "annotate", "statefulset", name, "--overwrite", "zoneferry.io/check-interval=1s", "zoneferry.io/ready-timeout=1m", ...Object.entries(annotations).map(([key, value]) => `zoneferry.io/${key}=${value}`));
    return sandbox.ended(name, 90_000);
  }

  const fault = async (rule: Record<string, unknown>): Promise<void> => {
    await emulator("/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(rule) });
  };
  const readyReplicas = async (name: string): Promise<number> => sandbox.readyReplicas(name);

  /** Waits until the migration of `name` ends; answers its status. */
  async function ended(name: string): Promise<string> {
    return sandbox.ended(name);
  }

  /** What a user checks after a rollback: the app Ready in its zone, on its disk, with its content. */
  async function assertRolledBack(name: string, zone: string, source: string): Promise<void> {
    await waitFor(async () => (await readyReplicas(name)) === 1, 60_000, () => `${name} not Ready again`);
    assert.equal(await zoneOfPod(`${name}-0`), zone);
    assert.equal(await diskOf(`data-${name}-0`), source, "the PVC is bound to its original PV again");
    assert.equal(await contentOf(`data-${name}-0`), `${name}-0 rows 1..100`);
    assert.equal(await kubectl("get", "pv", source, "-o", "jsonpath={.spec.persistentVolumeReclaimPolicy}"), "Delete", "the policy protect changed is restored");
    assert.deepEqual(await newDisksOf(`data-${name}-0`), [], "no new disk left");
    const claims = (await kubectl("get", "pv", "-o", "jsonpath={.items[*].spec.claimRef.name}")).split(" ");
    assert.equal(claims.filter((claim) => claim === `data-${name}-0`).length, 1, "no new PV left for the claim");
  }

  /** Resolves when the StatefulSet's step annotation becomes `step` (a watch: see SandboxSession). */
  const watchStep = async (name: string, step: string): Promise<{ reached: Promise<void>; stop(): void }> => sandbox.watchStep(name, step);

  /** The runner now serving the sandbox: the sandbox's own until a test kills it, then a replacement. */
  let replacement: ChildProcess | undefined;
  async function killRunner(): Promise<void> {
    if (replacement === undefined) {
      const state = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as { processes: { name: string; pid: number }[] };
      process.kill(state.processes.find((entry) => entry.name === "runner")!.pid, "SIGKILL");
    } else {
      const exited = once(replacement, "exit");
      replacement.kill("SIGKILL");
      await exited;
    }
  }
  async function startRunner(): Promise<void> {
    replacement = spawn(process.execPath, [join(REPO, "runner/main.ts")], { env: { ...process.env, ...sandbox.env, KUBECONFIG: sandbox.env["RUNNER_KUBECONFIG"]!, METRICS_PORT: String(await freePort()) }, stdio: "ignore" });
  }

  before(async () => {
    await sandbox.up();
  });
  after(async () => {
    replacement?.kill("SIGTERM");
    await sandbox.down();
  });

  it("moves 2 replicas to another zone: pods there, same PVC names, each disk's content kept, sources deleted, snapshots retained", async () => {
    await statefulSet("web", 2, { zones: ["cn-shanghai-b", "cn-shanghai-m"] });
    const before = { data0: await diskOf("data-web-0"), data1: await diskOf("data-web-1") };
    assert.equal(await migrate("web", { "target-zones": "cn-shanghai-g", "snapshot-retention-days": "7" }), "Succeeded");
    for (const ordinal of [0, 1]) {
      assert.equal(await zoneOfPod(`web-${ordinal}`), "cn-shanghai-g");
      assert.equal(await contentOf(`data-web-${ordinal}`), `web-${ordinal} rows 1..${100 + ordinal}`);
    }
    const world = await inventory();
    assert.equal(world.disks.some((disk) => disk.diskId === before.data0 || disk.diskId === before.data1), false, "source disks deleted");
    const snapshots = world.snapshots.filter((snapshot) => snapshot.sourceDiskId === before.data0 || snapshot.sourceDiskId === before.data1);
    assert.deepEqual(snapshots.map((snapshot) => snapshot.retentionDays), [7, 7]);
    assert.match(await kubectl("get", "pv"), /data-web-0/);
    assert.doesNotMatch(await kubectl("get", "pv", "-o", "name"), new RegExp(before.data0));
    assert.equal(await kubectl("get", "pv", await diskOf("data-web-0"), "-o", "jsonpath={.spec.persistentVolumeReclaimPolicy}"), "Delete", "the original policy is back");
    assert.match(await kubectl("-n", NS, "get", "zonemigrations"), /web-[0-9a-f]{12}\s+web\s+cn-shanghai-g\s+Succeeded\s+finish/);
  });

  it("keeps the source disks and their Released PVs when asked to retain them", async () => {
    await statefulSet("keep", 1, { zones: ["cn-shanghai-b"] });
    const source = await diskOf("data-keep-0");
    assert.equal(await migrate("keep", { "target-zones": "cn-shanghai-m", "retain-source": "true" }), "Succeeded");
    assert.equal(await zoneOfPod("keep-0"), "cn-shanghai-m");
    assert.equal((await inventory()).disks.find((disk) => disk.diskId === source)?.status, "Available");
    assert.equal(await kubectl("get", "pv", source, "-o", "jsonpath={.status.phase}"), "Released");
  });

  it("spreads 4 replicas over two zones by the placement rule, alternating in list order", async () => {
    await statefulSet("spread", 4, { zones: ["cn-shanghai-b"] });
    assert.equal(await migrate("spread", { "target-zones": "cn-shanghai-g,cn-shanghai-m" }), "Succeeded");
    assert.deepEqual(await Promise.all([0, 1, 2, 3].map((ordinal) => zoneOfPod(`spread-${ordinal}`))), ["cn-shanghai-g", "cn-shanghai-m", "cn-shanghai-g", "cn-shanghai-m"]);
    for (const ordinal of [0, 1, 2, 3]) assert.equal(await contentOf(`data-spread-${ordinal}`), `spread-${ordinal} rows 1..${100 + ordinal}`);
  });

  it("ends Succeeded with nothing to move when every disk is already in a target zone", async () => {
    await statefulSet("home", 1, { zones: ["cn-shanghai-g"] });
    const disk = await diskOf("data-home-0");
    assert.equal(await migrate("home", { "target-zones": "cn-shanghai-g" }), "Succeeded");
    assert.equal(await annotation("home", "message"), "nothing to migrate: all 1 disks already in target zones");
    assert.equal(await diskOf("data-home-0"), disk);
  });

  it("rolls back when the target zone has no stock: the app runs on its original disks with its content", async () => {
    await statefulSet("nostock", 1, { zones: ["cn-shanghai-m"] });
    const source = await diskOf("data-nostock-0");
    const before = (await inventory()).disks.length;
    await emulator("/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ action: "CreateDisk", code: "OperationDenied.NoStock", times: 5 }) });
    try {
      assert.equal(await migrate("nostock", { "target-zones": "cn-shanghai-b" }), "Failed");
    } finally {
      await emulator("/faults", { method: "DELETE" });
    }
    assert.match(await annotation("nostock", "message"), /step create-disks failed: .*OperationDenied\.NoStock.*; rolled back/);
    await waitFor(async () => Number(await kubectl("-n", NS, "get", "statefulset", "nostock", "-o", "jsonpath={.status.readyReplicas}")) === 1, 60_000, () => "nostock not Ready again");
    assert.equal(await zoneOfPod("nostock-0"), "cn-shanghai-m");
    assert.equal(await diskOf("data-nostock-0"), source);
    assert.equal(await contentOf("data-nostock-0"), "nostock-0 rows 1..100");
    assert.equal((await inventory()).disks.length, before, "no disk leaked");
    assert.equal(await kubectl("get", "pv", source, "-o", "jsonpath={.spec.persistentVolumeReclaimPolicy}"), "Delete", "the policy protect changed is restored");
  });

  it("retries transient faults (throttling three times, an InternalError) and succeeds", async () => {
    await statefulSet("flaky", 1, { zones: ["cn-shanghai-b"] });
    await emulator("/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ action: "CreateSnapshot", code: "Throttling.User", times: 3, retryAfterMs: 200 }) });
    await emulator("/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ action: "CreateDisk", code: "InternalError", times: 1 }) });
    try {
      assert.equal(await migrate("flaky", { "target-zones": "cn-shanghai-g" }), "Succeeded");
    } finally {
      await emulator("/faults", { method: "DELETE" });
    }
    assert.equal(await zoneOfPod("flaky-0"), "cn-shanghai-g");
    assert.equal(await contentOf("data-flaky-0"), "flaky-0 rows 1..100");
    const snapshots = (await inventory()).snapshots;
    assert.equal(new Set(snapshots.map((snapshot) => snapshot.sourceDiskId)).size, snapshots.length, "no duplicate snapshot");
  });

  it("rolls back when the moved pods cannot become Ready within ready-timeout: the old PVCs and disks come back", async () => {
    await statefulSet("stuck", 1, { zones: ["cn-shanghai-m"] });
    const source = await diskOf("data-stuck-0");
    // Slow snapshots leave time to cordon the target zone after admission, before the pods return.
    await emulator("/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ action: "CreateSnapshot", delayMs: 2_000, times: 1 }) });
    await kubectl("-n", NS, "annotate", "statefulset", "stuck", "zoneferry.io/check-interval=1s", "zoneferry.io/ready-timeout=30s", "zoneferry.io/target-zones=cn-shanghai-b");
    await waitFor(async () => (await annotation("stuck", "step")) === "snapshot", 30_000, () => "the migration never reached snapshot");
    await kubectl("cordon", "node-cn-shanghai-b-0");
    let status = "";
    try {
      await waitFor(async () => {
        status = await annotation("stuck", "status");
        return ["Succeeded", "Failed", "RollbackFailed"].includes(status);
      }, 90_000, () => `the migration did not end (status ${status})`);
    } finally {
      await kubectl("uncordon", "node-cn-shanghai-b-0");
      await emulator("/faults", { method: "DELETE" });
    }
    assert.equal(status, "Failed");
    assert.match(await annotation("stuck", "message"), /step restore-replicas failed: replicas not Ready in their planned zones within ready-timeout \(30s\)/);
    await waitFor(async () => Number(await kubectl("-n", NS, "get", "statefulset", "stuck", "-o", "jsonpath={.status.readyReplicas}")) === 1, 60_000, () => "stuck did not come back");
    assert.equal(await diskOf("data-stuck-0"), source, "the PVC is bound to its original PV again");
    assert.equal(await zoneOfPod("stuck-0"), "cn-shanghai-m");
    assert.equal(await contentOf("data-stuck-0"), "stuck-0 rows 1..100");
    assert.deepEqual(await newDisksOf("data-stuck-0"), [], "the new disk was deleted");
  });

  it("moves both volumes of each ordinal to the same zone when the StatefulSet has two volumeClaimTemplates", async () => {
    await statefulSet("pair", 2, { zones: ["cn-shanghai-b"], templates: ["data", "wal"] });
    assert.equal(await migrate("pair", { "target-zones": "cn-shanghai-g,cn-shanghai-m" }), "Succeeded");
    for (const [ordinal, zone] of [[0, "cn-shanghai-g"], [1, "cn-shanghai-m"]] as const) {
      assert.equal(await zoneOfPod(`pair-${ordinal}`), zone);
      for (const template of ["data", "wal"]) {
        const pvZone = await kubectl("get", "pv", await diskOf(`${template}-pair-${ordinal}`), "-o", "jsonpath={.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}");
        assert.equal(pvZone, zone, `${template}-pair-${ordinal}`);
      }
      assert.equal(await contentOf(`wal-pair-${ordinal}`), `wal of pair-${ordinal}`);
    }
  });

  it("loses no data under whenScaled: Delete and PV policy Delete, and restores both policies afterwards", async () => {
    await statefulSet("fragile", 2, { zones: ["cn-shanghai-m"], whenScaled: "Delete" });
    assert.equal(await kubectl("get", "pv", await diskOf("data-fragile-0"), "-o", "jsonpath={.spec.persistentVolumeReclaimPolicy}"), "Delete");
    assert.equal(await migrate("fragile", { "target-zones": "cn-shanghai-b" }), "Succeeded");
    for (const ordinal of [0, 1]) assert.equal(await contentOf(`data-fragile-${ordinal}`), `fragile-${ordinal} rows 1..${100 + ordinal}`);
    assert.equal(await kubectl("-n", NS, "get", "statefulset", "fragile", "-o", "jsonpath={.spec.persistentVolumeClaimRetentionPolicy.whenScaled}"), "Delete");
    assert.equal(await kubectl("get", "pv", await diskOf("data-fragile-0"), "-o", "jsonpath={.spec.persistentVolumeReclaimPolicy}"), "Delete");
  });
  it("moves a StatefulSet away and back again: the way back repeats the first request, so it is refused until given a new retry value, and the first run's journal is kept", async () => {
    await statefulSet("yoyo", 1, { zones: ["cn-shanghai-b"] });
    assert.equal(await migrate("yoyo", { "target-zones": "cn-shanghai-g" }), "Succeeded");
    const first = await annotation("yoyo", "migration-id");
    const record = await kubectl("-n", NS, "get", "zonemigration", `yoyo-${first}`, "-o", "jsonpath={.metadata.uid}");
    assert.equal(await migrate("yoyo", { "target-zones": "cn-shanghai-m" }), "Succeeded");
    const repeat = await sandbox.kubectlOutput("-n", NS, "annotate", "statefulset", "yoyo", "--overwrite", "zoneferry.io/target-zones=cn-shanghai-g").catch((error: unknown) => ({ stdout: "", stderr: String((error as { stderr?: unknown }).stderr ?? error) }));
    assert.match(repeat.stderr, new RegExp(`this request already ran \\(ZoneMigration yoyo-${first} ended Succeeded\\), and its record is kept; to run the same request again, set zoneferry.io/retry to a new value`));
    assert.equal(await zoneOfPod("yoyo-0"), "cn-shanghai-m", "nothing moved");
    assert.equal(await migrate("yoyo", { "target-zones": "cn-shanghai-g", retry: "back" }), "Succeeded");
    assert.equal(await zoneOfPod("yoyo-0"), "cn-shanghai-g");
    assert.equal(await contentOf("data-yoyo-0"), "yoyo-0 rows 1..100");
    assert.equal(await kubectl("-n", NS, "get", "zonemigration", `yoyo-${first}`, "-o", "jsonpath={.metadata.uid}"), record, "the first run's journal is the same object");
  });

  it("rolls back when ECS refuses the snapshot: the app runs on its original disk with its content, nothing leaked", async () => {
    await statefulSet("nosnap", 1, { zones: ["cn-shanghai-b"] });
    const source = await diskOf("data-nosnap-0");
    const before = await inventory();
    await fault({ action: "CreateSnapshot", code: "QuotaExceed.Snapshot", times: 5 });
    try {
      assert.equal(await migrate("nosnap", { "target-zones": "cn-shanghai-g" }), "Failed");
    } finally {
      await emulator("/faults", { method: "DELETE" });
    }
    assert.match(await annotation("nosnap", "message"), /^step snapshot failed: .*QuotaExceed\.Snapshot.*; rolled back$/);
    await assertRolledBack("nosnap", "cn-shanghai-b", source);
    const after = await inventory();
    assert.equal(after.snapshots.length, before.snapshots.length, "no snapshot made");
    assert.equal(after.disks.length, before.disks.length, "no disk made");
  });

  it("rolls back when a new disk does not become Available within the runner's cloud wait: the app returns first, the disk is deleted once ECS lets it", async () => {
    await statefulSet("slowzone", 1, { zones: ["cn-shanghai-b"] });
    const source = await diskOf("data-slowzone-0");
    const disksBefore = (await inventory()).disks.length;
    // 50 minutes of cloud time: 30 s in the sandbox, past its 20 s RUNNER_CLOUD_WAIT_TIMEOUT.
    await emulator("/zones/cn-shanghai-g", { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ diskCreateDelayMs: 3_000_000 }) });
    try {
      await kubectl("-n", NS, "annotate", "statefulset", "slowzone", "zoneferry.io/check-interval=1s", "zoneferry.io/target-zones=cn-shanghai-g");
      // The app comes back first; the slow disk, which holds only a copy, is deleted last.
      await waitFor(async () => (await annotation("slowzone", "status")) === "RollingBack" && (await annotation("slowzone", "step")) === "create-disks" && (await readyReplicas("slowzone")) === 1, 90_000, () => "the app was not back while the new disk still waited to be deleted");
      assert.equal(await zoneOfPod("slowzone-0"), "cn-shanghai-b");
      assert.equal(await ended("slowzone"), "Failed");
    } finally {
      await emulator("/zones/cn-shanghai-g", { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ diskCreateDelayMs: 0 }) });
    }
    assert.match(await annotation("slowzone", "message"), /^step restore-replicas failed: new disk\(s\) d-\w+ \(Creating in cn-shanghai-g\) not Available after 20s; rolled back$/);
    await assertRolledBack("slowzone", "cn-shanghai-b", source);
    assert.equal((await inventory()).disks.length, disksBefore, "the slow disk was deleted once it could be");
  });

  it("checks the replicas again after health-duration, rolls back when one was replaced meanwhile, and keeps the new disk the app wrote to", async () => {
    await statefulSet("shaky", 1, { zones: ["cn-shanghai-m"] });
    const source = await diskOf("data-shaky-0");
    await kubectl("-n", NS, "annotate", "statefulset", "shaky", "zoneferry.io/check-interval=1s", "zoneferry.io/health-duration=8s", "zoneferry.io/target-zones=cn-shanghai-b");
    await untilHealthCheck("shaky");
    // The app serves on its new disk and writes to it; then its pod is replaced.
    const moved = await diskOf("data-shaky-0");
    await emulator(`/disks/${moved}/content`, { method: "PUT", body: "shaky-0 rows 1..100, and 101 written after the move" });
    await kubectl("-n", NS, "delete", "pod", "shaky-0", "--wait=false");
    assert.equal(await ended("shaky"), "Failed");
    const message = await annotation("shaky", "message");
    assert.match(message, /^step restore-replicas failed: replicas not healthy after health-duration \(8s\): shaky-0 was replaced by a new pod; rolled back; kept: new disk d-\w+ in cn-shanghai-b of PVC data-shaky-0 \(the app ran on it after the move; the PVC is back on d-\w+\), snapshot s-\w+$/);
    // The app is back on its original disk, as before the move...
    await waitFor(async () => (await readyReplicas("shaky")) === 1, 60_000, () => "shaky not Ready again");
    assert.equal(await zoneOfPod("shaky-0"), "cn-shanghai-m");
    assert.equal(await diskOf("data-shaky-0"), source);
    assert.equal(await contentOf("data-shaky-0"), "shaky-0 rows 1..100");
    // ...and what it wrote after the move survives on the kept disk and in a snapshot of it.
    const world = await inventory();
    assert.ok(message.includes(moved), "the message names the kept disk");
    assert.equal(world.disks.find((disk) => disk.diskId === moved)?.status, "Available", "the new disk is kept");
    assert.equal(await (await emulator(`/disks/${moved}/content`)).text(), "shaky-0 rows 1..100, and 101 written after the move");
    assert.equal(world.snapshots.filter((snapshot) => snapshot.sourceDiskId === moved).length, 1, "one snapshot of the kept disk");
  });

  it("loses no disk when the API server refuses for good to create the rebound PVC: both copies kept, each named, the app not started on an empty disk", async () => {
    await statefulSet("refused", 1, { zones: ["cn-shanghai-b"] });
    const source = await diskOf("data-refused-0");
    // A Kubernetes-native fault: a ValidatingAdmissionPolicy refuses to create this claim.
    const policy = join(dir, "refuse-pvc.yaml");
    writeFileSync(policy, `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: refuse-pvc}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [persistentvolumeclaims]}]
  validations:
  - expression: "!object.metadata.name.startsWith('data-refused-')"
    message: PVC creation refused by policy
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: refuse-pvc}
spec: {policyName: refuse-pvc, validationActions: [Deny]}
`);
    await kubectl("apply", "-f", policy);
    try {
      await waitFor(async () => {
        const probe = join(dir, "probe-pvc.yaml");
        writeFileSync(probe, `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data-refused-probe, namespace: ${NS}}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}, storageClassName: none}\n`);
        return kubectl("apply", "--dry-run=server", "-f", probe).then(() => false, (error: unknown) => /refused by policy/.test(String((error as { stderr?: string }).stderr)));
      }, 30_000, () => "the policy never took effect");
      assert.equal(await migrate("refused", { "target-zones": "cn-shanghai-g" }), "RollbackFailed");
    } finally {
      await kubectl("delete", "-f", policy, "--ignore-not-found");
    }
    // The refusal happened, and the journal's message says what is left and where.
    const message = await kubectl("-n", NS, "get", "zonemigrations", "-o", "jsonpath={.items[?(@.spec.statefulSet==\"refused\")].status.message}");
    assert.match(message, /^step rebind failed: HTTP 422: persistentvolumeclaims "data-refused-0" is forbidden: ValidatingAdmissionPolicy 'refuse-pvc' .*PVC creation refused by policy; rollback could not undo: rebind \(HTTP 422: /);
    assert.match(message, new RegExp(`PV ${source} of PVC data-refused-0 kept on Retain`));
    assert.match(message, /the StatefulSet is left at 0 replicas: PVC\(s\) data-refused-0 not Bound to a disk holding their data/);
    assert.match(message, /kept: new disk d-\w+ in cn-shanghai-g of PVC data-refused-0 \(the PVC is not Bound to its source PV/);
    assert.doesNotMatch(message, /only copies of the snapshots/);
    // No copy of the claim's data was deleted: the source disk and the new one both hold it.
    const world = await inventory();
    assert.equal(world.disks.find((disk) => disk.diskId === source)?.status, "Available", "the source disk is kept");
    assert.equal(await (await emulator(`/disks/${source}/content`)).text(), "refused-0 rows 1..100");
    const copies = await newDisksOf("data-refused-0");
    assert.equal(copies.length, 1, "the new disk is kept");
    assert.equal(await (await emulator(`/disks/${copies[0]!.diskId}/content`)).text(), "refused-0 rows 1..100");
    assert.equal(await kubectl("get", "pv", source, "-o", "jsonpath={.spec.persistentVolumeReclaimPolicy}"), "Retain", "the source PV cannot take its disk with it");
    assert.equal(await kubectl("-n", NS, "get", "statefulset", "refused", "-o", "jsonpath={.spec.replicas}"), "0", "no pod started on an empty disk");
  });

  it("keeps the source disk when something gave its PV the Delete policy back during the migration", async () => {
    await statefulSet("reverted", 1, { zones: ["cn-shanghai-b"] });
    const source = await diskOf("data-reverted-0");
    await fault({ action: "CreateSnapshot", delayMs: 2_000, times: 1 });
    try {
      await kubectl("-n", NS, "annotate", "statefulset", "reverted", "zoneferry.io/check-interval=1s", "zoneferry.io/retain-source=true", "zoneferry.io/target-zones=cn-shanghai-g");
      await waitFor(async () => (await annotation("reverted", "step")) === "snapshot", 30_000, () => "the migration never reached snapshot");
      // A user (or a GitOps tool that owns the PV) undoes protect's Retain while the snapshot runs.
      await kubectl("patch", "pv", source, "-p", "{\"spec\":{\"persistentVolumeReclaimPolicy\":\"Delete\"}}");
      assert.equal(await kubectl("get", "pv", source, "-o", "jsonpath={.spec.persistentVolumeReclaimPolicy}"), "Delete");
      assert.equal(await ended("reverted"), "Succeeded");
    } finally {
      await emulator("/faults", { method: "DELETE" });
    }
    assert.equal(await contentOf("data-reverted-0"), "reverted-0 rows 1..100");
    // Rebind set Retain again before it let go of the claim: the provisioner did not take the disk.
    assert.equal((await inventory()).disks.find((disk) => disk.diskId === source)?.status, "Available", "the source disk is kept, as retain-source asked");
    assert.equal(await (await emulator(`/disks/${source}/content`)).text(), "reverted-0 rows 1..100");
    assert.equal(await kubectl("get", "pv", source, "-o", "jsonpath={.spec.persistentVolumeReclaimPolicy}"), "Retain");
  });

  it("resumes at the health check, without scaling the moved app down again, when Redis loses its data during health-duration", async () => {
    await statefulSet("amnesia", 1, { zones: ["cn-shanghai-b"] });
    const source = await diskOf("data-amnesia-0");
    await kubectl("-n", NS, "annotate", "statefulset", "amnesia", "zoneferry.io/check-interval=1s", "zoneferry.io/health-duration=12s", "zoneferry.io/target-zones=cn-shanghai-g");
    await untilHealthCheck("amnesia");
    const pod = await kubectl("-n", NS, "get", "pod", "amnesia-0", "-o", "jsonpath={.metadata.uid}");
    const redis = new Redis(sandbox.env["REDIS_URL"]!);
    try {
      await redis.flushall();
      assert.equal(await redis.dbsize(), 0, "Redis lost every job");
    } finally {
      redis.disconnect();
    }
    assert.equal(await ended("amnesia"), "Succeeded");
    assert.equal(await kubectl("-n", NS, "get", "pod", "amnesia-0", "-o", "jsonpath={.metadata.uid}"), pod, "the healthy moved pod was never scaled down again");
    assert.equal(await zoneOfPod("amnesia-0"), "cn-shanghai-g");
    assert.equal(await contentOf("data-amnesia-0"), "amnesia-0 rows 1..100");
    const world = await inventory();
    assert.equal(world.disks.some((disk) => disk.diskId === source), false, "the source disk went only at finish");
    assert.equal(world.snapshots.filter((snapshot) => snapshot.sourceDiskId === source).length, 1, "one snapshot");
  });

  it("moves the app when its replicas stay healthy through health-duration", async () => {
    await statefulSet("steady", 1, { zones: ["cn-shanghai-m"] });
    const started = Date.now();
    assert.equal(await migrate("steady", { "target-zones": "cn-shanghai-g", "health-duration": "3s" }), "Succeeded");
    assert.ok(Date.now() - started >= 3_000, "the second check waited health-duration");
    assert.equal(await zoneOfPod("steady-0"), "cn-shanghai-g");
    const baseline = await kubectl("-n", NS, "get", "zonemigrations", "-o", "jsonpath={.items[?(@.spec.statefulSet==\"steady\")].status.healthBaseline[*].pod}");
    assert.equal(baseline, "steady-0");
  });

  it("never rolls back once the app runs on its new disks: a source disk ECS refuses to delete is named, the move stands", async () => {
    await statefulSet("sticky", 1, { zones: ["cn-shanghai-b"] });
    const source = await diskOf("data-sticky-0");
    await fault({ action: "DeleteDisk", code: "IncorrectDiskStatus", times: 3 });
    try {
      assert.equal(await migrate("sticky", { "target-zones": "cn-shanghai-m" }), "Succeeded");
    } finally {
      await emulator("/faults", { method: "DELETE" });
    }
    assert.match(await annotation("sticky", "message"), new RegExp(`^all steps done but finish, which could not finish: source disk ${source} in cn-shanghai-b kept, delete it by hand: .*IncorrectDiskStatus`));
    assert.equal(await zoneOfPod("sticky-0"), "cn-shanghai-m");
    assert.equal(await contentOf("data-sticky-0"), "sticky-0 rows 1..100");
    assert.equal((await inventory()).disks.find((disk) => disk.diskId === source)?.status, "Available", "the source disk is kept, not lost");
    assert.match(await kubectl("-n", NS, "get", "events", "--field-selector", "involvedObject.name=sticky,reason=ZoneferrySucceeded", "-o", "jsonpath={.items[*].type}"), /^Warning$/, "a Warning Event says something is left to do");
  });

  it("denies kubectl scale and holds replicas in a GitOps re-apply of the original manifest while the migration runs, and admits both after", async () => {
    await statefulSet("synced", 2, { zones: ["cn-shanghai-b"] });
    // The manifest as Git holds it once the user added the request: replicas 2 and the annotations.
    const manifest = readFileSync(join(dir, "synced.yaml"), "utf8").replace(
      "metadata: {name: synced, namespace: moves}",
      "metadata: {name: synced, namespace: moves, annotations: {zoneferry.io/target-zones: cn-shanghai-m, zoneferry.io/check-interval: 1s}}",
    );
    const gitops = join(dir, "synced-gitops.yaml");
    writeFileSync(gitops, manifest);
    await fault({ action: "CreateSnapshot", delayMs: 3_000, times: 1 });
    try {
      await kubectl("apply", "-f", gitops);
      await waitFor(async () => (await annotation("synced", "step")) === "snapshot", 30_000, () => "the migration never reached snapshot");
      const held = /StatefulSet moves\/synced is held by zoneferry migration [0-9a-f]{12} \(status Running, step snapshot\): spec.replicas cannot change until the migration ends/;
      await assert.rejects(kubectl("-n", NS, "scale", "statefulset", "synced", "--replicas=3"), (error: { stderr?: string }) => held.test(String(error.stderr)));
      // The re-apply is admitted with replicas held at 0 and a warning; it does not undo the move.
      const { stderr } = await sandbox.kubectlOutput("apply", "-f", gitops);
      assert.match(stderr, /Warning: zoneferry: spec\.replicas held at 0 while migration [0-9a-f]{12} runs \(step snapshot\); it is restored when the migration ends/);
      assert.equal(await kubectl("-n", NS, "get", "statefulset", "synced", "-o", "jsonpath={.spec.replicas}"), "0");
      assert.equal(await ended("synced"), "Succeeded");
    } finally {
      await emulator("/faults", { method: "DELETE" });
    }
    await kubectl("apply", "-f", gitops);
    await kubectl("-n", NS, "scale", "statefulset", "synced", "--replicas=3");
    assert.equal(await kubectl("-n", NS, "get", "statefulset", "synced", "-o", "jsonpath={.spec.replicas}"), "3");
    for (const ordinal of [0, 1]) assert.equal(await contentOf(`data-synced-${ordinal}`), `synced-${ordinal} rows 1..${100 + ordinal}`);
  });

  it("counts migrations by result and times the application's downtime in the runner's metrics", async () => {
    const text = await (await fetch(sandbox.env["RUNNER_METRICS_URL"]!)).text();
    assert.match(text, /zoneferry_migrations_total\{result="Succeeded"\} [1-9]/);
    assert.match(text, /zoneferry_application_downtime_seconds_count [1-9]/);
    assert.match(text, /zoneferry_step_duration_seconds_count\{step="snapshot",phase="forward"\} [1-9]/);
  });

  // Last: these kill the sandbox's runner (a replacement serves the rest, and stops with the file).
  const holds: Readonly<Record<string, Record<string, unknown> | undefined>> = {
    "scale-to-zero": undefined,
    // A slow ECS call keeps the migration inside the step while the runner dies mid-call.
    snapshot: { action: "CreateSnapshot", delayMs: 2_000, times: 1 },
    "create-disks": { action: "CreateDisk", delayMs: 2_000, times: 1 },
    rebind: undefined,
    "restore-replicas": undefined,
    // Killed while it deletes a source disk, the point of no return.
    finish: { action: "DeleteDisk", delayMs: 2_000, times: 1 },
  };
  for (const [index, [step, hold]] of Object.entries(holds).entries()) {
    it(`finishes correctly, with one snapshot and one new disk, when the runner is killed inside ${step} and restarted`, async () => {
      const name = `crash${index}`;
      await statefulSet(name, 1, { zones: ["cn-shanghai-m"] });
      const source = await diskOf(`data-${name}-0`);
      if (hold !== undefined) await fault(hold);
      const watched = await watchStep(name, step);
      try {
        await kubectl("-n", NS, "annotate", "statefulset", name, "zoneferry.io/check-interval=1s", "zoneferry.io/target-zones=cn-shanghai-g");
        await Promise.race([watched.reached, new Promise((_resolve, reject) => setTimeout(() => { reject(new Error(`the migration never reached ${step}`)); }, 60_000).unref())]);
        await killRunner();
        await startRunner();
        assert.equal(await ended(name), "Succeeded");
      } finally {
        watched.stop();
        await emulator("/faults", { method: "DELETE" });
      }
      assert.equal(await zoneOfPod(`${name}-0`), "cn-shanghai-g");
      assert.equal(await contentOf(`data-${name}-0`), `${name}-0 rows 1..100`);
      const world = await inventory();
      assert.equal((await newDisksOf(`data-${name}-0`)).length, 1, "one new disk");
      assert.equal(world.snapshots.filter((snapshot) => snapshot.sourceDiskId === source).length, 1, "one snapshot");
    });
  }

  it("finishes the rollback correctly when the runner is killed while the rollback waits to delete a new disk", async () => {
    await statefulSet("undone", 1, { zones: ["cn-shanghai-b"] });
    const source = await diskOf("data-undone-0");
    // 50 minutes of cloud time: 30 s in the sandbox, past its 20 s RUNNER_CLOUD_WAIT_TIMEOUT.
    await emulator("/zones/cn-shanghai-g", { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ diskCreateDelayMs: 3_000_000 }) });
    try {
      await kubectl("-n", NS, "annotate", "statefulset", "undone", "zoneferry.io/check-interval=1s", "zoneferry.io/target-zones=cn-shanghai-g");
      await waitFor(async () => (await annotation("undone", "status")) === "RollingBack" && (await annotation("undone", "step")) === "create-disks", 90_000, () => "the rollback never reached the new disks' undo");
      await killRunner();
      await startRunner();
      assert.equal(await ended("undone"), "Failed");
    } finally {
      await emulator("/zones/cn-shanghai-g", { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ diskCreateDelayMs: 0 }) });
    }
    assert.match(await annotation("undone", "message"), /^step restore-replicas failed: new disk\(s\) d-\w+ \(Creating in cn-shanghai-g\) not Available after 20s; rolled back$/);
    await assertRolledBack("undone", "cn-shanghai-b", source);
  });

  it("resumes from its journal when the runner is killed and Redis loses its data mid-migration", async () => {
    await statefulSet("phoenix", 1, { zones: ["cn-shanghai-b"] });
    const source = await diskOf("data-phoenix-0");
    await fault({ action: "CreateDisk", delayMs: 3_000, times: 1 });
    await kubectl("-n", NS, "annotate", "statefulset", "phoenix", "zoneferry.io/check-interval=1s", "zoneferry.io/target-zones=cn-shanghai-g");
    await waitFor(async () => (await annotation("phoenix", "step")) === "create-disks", 30_000, () => "the migration never reached create-disks");
    await killRunner();
    const redis = new Redis(sandbox.env["REDIS_URL"]!);
    try {
      await redis.flushall();
    } finally {
      redis.disconnect();
    }
    await startRunner();
    try {
      assert.equal(await ended("phoenix"), "Succeeded");
    } finally {
      await emulator("/faults", { method: "DELETE" });
    }
    assert.equal(await zoneOfPod("phoenix-0"), "cn-shanghai-g");
    assert.equal(await contentOf("data-phoenix-0"), "phoenix-0 rows 1..100");
    const world = await inventory();
    assert.equal((await newDisksOf("data-phoenix-0")).length, 1, "one new disk");
    assert.equal(world.snapshots.filter((snapshot) => snapshot.sourceDiskId === source).length, 1, "one snapshot");
  });

  it("carries the source disk's encryption, KMS key, provisioned IOPS, bursting, multi-attach, resource group and tags to the new disk", async () => {
    // A statically provisioned AutoPL disk (its PV written by hand, as ACK documents), so it can have every attribute.
    const csiTags = { "k8s.aliyun.com": "true", createdby: "alibabacloud-csi-plugin", "ack.aliyun.com": "c-sandbox", "cost-center": "shop-42" };
    const seeded = await emulator("/disks", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        zoneId: "cn-shanghai-b", category: "cloud_auto", size: 40, attachedOnce: true, content: "attrs-0 rows 1..100",
        encrypted: true, kmsKeyId: "key-orders", provisionedIops: 10_000, burstingEnabled: true, multiAttach: "Enabled", resourceGroupId: "rg-shop",
        tags: { ...csiTags, "csi.alibabacloud.com/volume-name": "pvc-static", "acs:rm:rgId": "rg-shop" },
      }),
    });
    const source = ((await seeded.json()) as { diskId: string }).diskId;
    const file = join(dir, "attrs.yaml");
    writeFileSync(file, `apiVersion: v1
kind: PersistentVolume
metadata: {name: ${source}, labels: {csi.alibabacloud.com/disktype: cloud_auto}}
spec:
  capacity: {storage: 40Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  claimRef: {namespace: ${NS}, name: data-attrs-0}
  csi: {driver: diskplugin.csi.alibabacloud.com, volumeHandle: ${source}, fsType: ext4, volumeAttributes: {type: cloud_auto}}
  nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: topology.diskplugin.csi.alibabacloud.com/zone, operator: In, values: [cn-shanghai-b]}]}]}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-attrs-0, namespace: ${NS}}
spec: {accessModes: [ReadWriteOnce], storageClassName: "", volumeName: ${source}, resources: {requests: {storage: 40Gi}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: attrs, namespace: ${NS}}
spec:
  replicas: 1
  serviceName: attrs
  selector: {matchLabels: {app: attrs}}
  template:
    metadata: {labels: {app: attrs}}
    spec:
      containers: [{name: main, image: nginx:1.27}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], storageClassName: "", resources: {requests: {storage: 40Gi}}}
`);
    await kubectl("apply", "-f", file);
    await waitFor(async () => (await readyReplicas("attrs")) === 1, 60_000, () => "attrs not Ready");
    assert.equal(await migrate("attrs", { "target-zones": "cn-shanghai-g" }), "Succeeded");
    assert.equal(await zoneOfPod("attrs-0"), "cn-shanghai-g");
    assert.equal(await contentOf("data-attrs-0"), "attrs-0 rows 1..100");
    const cloud = new EcsDiskCloud(createEcsClient({
      regionId: sandbox.env["ECS_REGION_ID"]!, endpoint: sandbox.env["ECS_ENDPOINT"]!, protocol: "http", connectTimeoutMs: 5_000, readTimeoutMs: 5_000,
      accessKey: { id: sandbox.env["ALIBABA_CLOUD_ACCESS_KEY_ID"]!, secret: sandbox.env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]! },
    }), sandbox.env["ECS_REGION_ID"]!);
    const [made] = await cloud.describeDisks([await diskOf("data-attrs-0")]);
    assert.ok(made !== undefined && made.diskId !== source, "the claim is on a new disk");
    const attributes = ({ category, sizeGiB, encrypted, kmsKeyId, provisionedIops, burstingEnabled, multiAttach, resourceGroupId }: DiskRecord) =>
      ({ category, sizeGiB, encrypted, kmsKeyId, provisionedIops, burstingEnabled, multiAttach, resourceGroupId });
    assert.deepEqual(attributes(made), { category: "cloud_auto", sizeGiB: 40, encrypted: true, kmsKeyId: "key-orders", provisionedIops: 10_000, burstingEnabled: true, multiAttach: true, resourceGroupId: "rg-shop" });
    assert.equal(made.zoneId, "cn-shanghai-g");
    // The source's own tags, without ECS's reserved one and the CSI tag naming the old PV; zoneferry's on top.
    const { "zoneferry.io/migration-id": migrationId, "zoneferry.io/run": run, "zoneferry.io/pvc": claim, ...carried } = made.tags;
    assert.deepEqual(carried, csiTags);
    assert.equal(claim, `${NS}.data-attrs-0`);
    assert.match(`${migrationId ?? ""} ${run ?? ""}`, /^[0-9a-f]{12} [0-9a-f]{12}$/);
  });
});
