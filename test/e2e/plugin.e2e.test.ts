/**
 * `kubectl zoneferry` end to end on the sandbox: kubectl finds the plugin on PATH (plugin/
 * kubectl-zoneferry) and every command runs against the sandbox's API server as a user would run
 * it: plan before asking, the plan again as a server-side dry run's warning, status and describe
 * while a migration runs and after it ended, cancel with and without --yes. Also what a user sees
 * besides the plugin: the migration id on each Event, the journal's waits ended, the TARGET column.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../../sandbox/processes.ts";
import { REPO, SandboxSession } from "../support/sandbox-session.ts";

const run = promisify(execFile);
const NS = "plugin";
const B = "cn-shanghai-b";
const G = "cn-shanghai-g";
const M = "cn-shanghai-m";

describe("kubectl zoneferry on the sandbox", () => {
  const sandbox = new SandboxSession("zf-plugin-", NS);
  const kubectl = (...args: string[]): Promise<string> => sandbox.kubectl(...args);

  /** `kubectl zoneferry …` as a user types it: kubectl finds kubectl-zoneferry on PATH. */
  async function plugin(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    // With --ecs, the ECS settings the runner reads (the sandbox's emulator); without, none at all.
    const ecs = args.includes("--ecs") ? Object.fromEntries(Object.entries(sandbox.env).filter(([key]) => key.startsWith("ECS_") || key.startsWith("ALIBABA_CLOUD_"))) : {};
    const env = { ...process.env, ...ecs, KUBECONFIG: sandbox.env["KUBECONFIG"]!, PATH: `${join(REPO, "plugin")}:${dirname(process.execPath)}:${process.env["PATH"] ?? ""}` };
    try {
      const { stdout, stderr } = await run(sandbox.env["KUBECTL"]!, ["zoneferry", ...args], { env, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof failed.code === "number" ? failed.code : -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
    }
  }

  before(async () => { await sandbox.up(); });
  after(async () => {
    await sandbox.emulator("/faults", { method: "DELETE" });
    await sandbox.down();
  });

  it("plans a proposed target-zones on the live cluster, and a server-side dry run warns the same plan", async () => {
    await sandbox.statefulSet("shop", 2, { zones: [B] });
    const planned = await plugin("plan", "shop", "--target-zones", `${G},${M}`, "-n", NS);
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planned.stdout, /^ {2}shop-0 → cn-shanghai-g \(moves data-shop-0 from cn-shanghai-b\)$/m);
    assert.match(planned.stdout, /^ {2}shop-1 → cn-shanghai-m \(moves data-shop-1 from cn-shanghai-b\)$/m);
    assert.match(planned.stdout, /^Volumes moving: 2; replicas per zone after the move: cn-shanghai-g: 1, cn-shanghai-m: 1$/m);
    assert.match(planned.stdout, /^Not checked here \(ECS not asked/m);
    const checked = await plugin("plan", "shop", "--target-zones", `${G},${M}`, "-n", NS, "--ecs");
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, /^ {2}shop-0 → cn-shanghai-g \(moves data-shop-0 from cn-shanghai-b\)$/m);
    assert.doesNotMatch(checked.stdout, /Not checked here/, "with --ecs every check ran");

    const nowhere = await plugin("plan", "shop", "--target-zones", "cn-shanghai-x", "-n", NS);
    assert.equal(nowhere.code, 1);
    assert.match(nowhere.stdout, /Admission would deny it:\n {2}- target zone cn-shanghai-x has no Ready, schedulable node/);

    const dryRun = await sandbox.kubectlOutput("-n", NS, "annotate", "--dry-run=server", "statefulset", "shop", `zoneferry.io/target-zones=${G},${M}`);
    assert.match(dryRun.stderr, /Warning: dry run: plan for shop to cn-shanghai-g,cn-shanghai-m: shop-0 → cn-shanghai-g \(moves data-shop-0 from cn-shanghai-b\), shop-1 → cn-shanghai-m \(moves data-shop-1 from cn-shanghai-b\); 2 of 2 volumes move/);
    assert.equal(await sandbox.annotation("shop", "target-zones"), "", "a dry run changes nothing");
  });

  it("follows a migration with status and describe: steps timed, waits ended, volumes rebound, Events carrying the migration id", async () => {
    await kubectl("-n", NS, "annotate", "statefulset", "shop", "zoneferry.io/check-interval=1s", `zoneferry.io/target-zones=${G},${M}`);
    await waitFor(async () => (await plugin("status", "-n", NS)).stdout.includes("shop"), 30_000, () => "status never listed the migration");
    assert.equal(await sandbox.ended("shop", 90_000), "Succeeded");
    const id = await sandbox.annotation("shop", "migration-id");

    const status = await plugin("status", "-n", NS);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^shop-${id}\\s+shop\\s+cn-shanghai-g,cn-shanghai-m\\s+Recreate\\s+Succeeded\\s+finish\\s+\\S+$`, "m"));
    assert.match((await plugin("status", "-A")).stdout, new RegExp(`^plugin\\s+shop-${id}\\s+shop\\s`, "m"));
    assert.match(await kubectl("-n", NS, "get", "zonemigrations"), new RegExp(`shop-${id}\\s+shop\\s+cn-shanghai-g,cn-shanghai-m\\s+Succeeded\\s+finish`), "the TARGET column is a plain string");

    const described = await plugin("describe", "shop", "-n", NS);
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /^Phase:\s+Succeeded$/m);
    assert.match(described.stdout, /^Downtime:\s+\d+(m\d+)?s \(replicas at zero until Ready again\)$/m);
    const steps = ["precheck", "protect", "scale-to-zero", "snapshot", "create-disks", "rebind", "restore-replicas", "finish"];
    for (const step of steps) {
      assert.match(described.stdout, new RegExp(`^ {2}${step}\\s+\\d\\d:\\d\\d:\\d\\d\\s+\\d+(m\\d+)?s`, "m"), `step ${step} timed`);
    }
    const shown = [...described.stdout.matchAll(/^ {2}([a-z-]+)\s+\d\d:\d\d:\d\d\s/gm)].map((match) => match[1]);
    assert.deepEqual(shown, steps, "in the order they ran");
    assert.match(described.stdout, /^ {2}data-shop-0\s+d-\S+\s+s-\S+\s+d-\S+\s+cn-shanghai-g\s+rebound$/m);
    assert.match(described.stdout, /^ {2}ClaimsRebinding\s+done\s/m, "a wait the move had, ended");
    assert.doesNotMatch(described.stdout, /^ {2}\S+\s+waiting\s{2}/m, "every wait ended");
    assert.match(described.stdout, /snapshot progress percent: ask ECS with --ecs/);
    assert.match((await plugin("describe", "shop", "-n", NS, "--ecs")).stdout, /^ {2}data-shop-0\s+d-\S+\s+s-\S+ \(100%\)\s+d-\S+\s+cn-shanghai-g\s+rebound$/m, "with --ecs, the snapshot's progress");
    assert.match((await plugin("describe", `shop-${id}`, "-n", NS)).stdout, new RegExp(`^Name:\\s+plugin/shop-${id}$`, "m"), "by the ZoneMigration's name too");

    const conditions = await kubectl("-n", NS, "get", "zonemigration", `shop-${id}`, "-o", "jsonpath={.status.conditions[*].status}");
    assert.doesNotMatch(conditions, /True/, `the journal's waits are ended: ${conditions}`);
    const events = await kubectl("-n", NS, "get", "events", "--field-selector", "involvedObject.name=shop,reason=ZoneferryStep", "-o", "jsonpath={range .items[*]}{.metadata.annotations.zoneferry\\.io/migration-id}|{.message}{\"\\n\"}{end}");
    const lines = events.trim().split("\n");
    assert.ok(lines.length >= 8, events);
    for (const line of lines) assert.match(line, new RegExp(`^${id}\\|migration ${id}: step `));
  });

  it("cancels only with --yes: the request removed, the migration rolled back, the app back on its disk", async () => {
    await sandbox.statefulSet("undo", 1, { zones: [B] });
    const source = await sandbox.diskOf("data-undo-0");
    // The new disk stays Creating for 15 s (25 minutes of cloud time, within the sandbox runner's 20 s
    // cloud wait): time to cancel while the migration is at create-disks.
    await sandbox.emulator(`/zones/${G}`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ diskCreateDelayMs: 1_500_000 }) });
    try {
      await kubectl("-n", NS, "annotate", "statefulset", "undo", "zoneferry.io/check-interval=1s", "zoneferry.io/ready-timeout=30s", `zoneferry.io/target-zones=${G}`);
      // create-disks only asks ECS and passes on at once (a poll can miss it); restore-replicas then
      // waits for the slow disk: the move is at one of the three when the cancel comes.
      await waitFor(async () => /^(create-disks|rebind|restore-replicas)$/.test(await sandbox.annotation("undo", "step")), 60_000, () => "never reached create-disks");
      await cancelMidway();
    } finally {
      await sandbox.emulator(`/zones/${G}`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ diskCreateDelayMs: 0 }) });
    }
    assert.equal(await sandbox.ended("undo"), "Failed");
    assert.match(await sandbox.annotation("undo", "message"), /^cancelled at step \S+: zoneferry\.io\/target-zones was removed, which cancels the migration; rolled back$/);
    await waitFor(async () => (await sandbox.readyReplicas("undo")) === 1, 60_000, () => "undo not Ready again");
    assert.equal(await sandbox.diskOf("data-undo-0"), source);
    assert.equal(await sandbox.contentOf("data-undo-0"), "undo-0 rows 1..100");

    const described = await plugin("describe", "undo", "-n", NS);
    assert.match(described.stdout, /^Phase:\s+Failed$/m);
    assert.match(described.stdout, /^ {2}undo \S+\s+\d\d:\d\d:\d\d/m, "the rollback's steps are timed");
    assert.equal((await plugin("cancel", "undo", "-n", NS, "--yes")).stdout.includes("nothing to cancel"), true);
  });

  /** `kubectl zoneferry cancel` while the migration runs: without --yes nothing changes, with it the request goes. */
  async function cancelMidway(): Promise<void> {
    const asked = await plugin("cancel", "undo", "-n", NS);
    assert.equal(asked.code, 1);
    assert.match(asked.stdout, /Would remove zoneferry\.io\/target-zones=cn-shanghai-g .*Run again with --yes/);
    assert.equal(await sandbox.annotation("undo", "target-zones"), G, "nothing changed without --yes");

    const done = await plugin("cancel", "undo", "-n", NS, "--yes");
    assert.equal(done.code, 0, done.stderr);
    // Rebind runs while ECS makes the disk, restore-replicas waits for it: the move is at one of them.
    assert.match(done.stdout, /zoneferry\.io\/target-zones removed \(was cn-shanghai-g, Running, step (create-disks|rebind|restore-replicas)\)/);
  }

  it("answers a usage error with exit code 2 and a missing object by name", async () => {
    const unknown = await plugin("frobnicate");
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command frobnicate/);
    const missing = await plugin("describe", "nothing-here", "-n", NS);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no ZoneMigration named nothing-here and none of a StatefulSet nothing-here in namespace plugin/);
  });
});
