/**
 * A real Flux (source-controller and kustomize-controller, built from their Go modules by
 * scripts/flux/build.sh) syncing a Git repository into the sandbox while zoneferry moves a
 * StatefulSet of it: a commit that changes only a ConfigMap is applied during the move, Flux's
 * drift correction (a server-side dry run every interval) never brings the replicas back while
 * the runner holds them at 0, and the Kustomization is Ready on the last commit once the move ends.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { KubeConfig, Watch, type V1StatefulSet } from "@kubernetes/client-node";
import { FLUX_NAMESPACE, startFlux, type Flux } from "../../sandbox/flux.ts";
import { startGitServer, type GitServer } from "../../sandbox/git-server.ts";
import { waitFor } from "../../sandbox/processes.ts";
import { ACTIVE_STATUSES } from "../../core/annotations.ts";
import { SandboxSession } from "../support/sandbox-session.ts";

const run = promisify(execFile);
const NS = "fluxapps";
const FROM = "cn-shanghai-b";
const TO = "cn-shanghai-g";
/** The steps between the runner's scale to 0 and its scale back up. */
const HELD_AT_ZERO = new Set(["snapshot", "create-disks", "rebind"]);

describe("a real Flux syncing while a migration holds a StatefulSet", { timeout: 600_000 }, () => {
  const sandbox = new SandboxSession("zf-flux-", NS);
  const work = join(sandbox.dir, "work");
  const repositories = join(sandbox.dir, "git");
  let flux: Flux | undefined;
  let git: GitServer | undefined;
  const kubectl = (...args: string[]): Promise<string> => sandbox.kubectl(...args);
  const inGit = async (...args: string[]): Promise<string> => (await run("git", ["-C", work, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", ...args])).stdout.trim();
  /** Writes `files` under deploy/, commits and pushes them; answers Flux's name of the revision. */
  const commit = async (message: string, files: Record<string, string>): Promise<string> => {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(work, "deploy", name), text);
    await inGit("add", "-A");
    await inGit("commit", "-q", "-m", message);
    await inGit("push", "-q", "origin", "main");
    // What `flux reconcile source git` does: fetch now rather than at the next interval.
    await kubectl("-n", FLUX_NAMESPACE, "annotate", "gitrepository", "apps", "--overwrite", `reconcile.fluxcd.io/requestedAt=${Date.now()}`).catch(() => "");
    return `main@sha1:${await inGit("rev-parse", "HEAD")}`;
  };
  const kustomization = (path: string): Promise<string> => kubectl("-n", FLUX_NAMESPACE, "get", "kustomization", "apps", "-o", `jsonpath={${path}}`);
  const readyOn = async (revision: string): Promise<boolean> =>
    (await kustomization(".status.lastAppliedRevision")) === revision && (await kustomization('.status.conditions[?(@.type=="Ready")].status')) === "True";
  const untilReadyOn = (revision: string, withinMs = 60_000): Promise<void> =>
    waitFor(() => readyOn(revision), withinMs, () => `the Kustomization is not Ready on ${revision}: ${flux?.kustomizeController.tail(5) ?? ""}`);
  const configMap = (pool: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: orders-settings, namespace: ${NS}}\ndata: {pool: "${pool}"}\n`;
  const field = (kind: string, name: string, path: string): Promise<string> => kubectl("-n", NS, "get", kind, name, "-o", `jsonpath={${path}}`);

  before(async () => {
    await sandbox.up();
    flux = await startFlux({ kubeconfig: sandbox.env["KUBECONFIG"]!, kubectl: sandbox.env["KUBECTL"]!, dir: join(sandbox.dir, "flux") });
    mkdirSync(join(work, "deploy"), { recursive: true });
    await run("git", ["init", "-q", "--bare", "-b", "main", join(repositories, "apps.git")]);
    await run("git", ["init", "-q", "-b", "main", work]);
    await inGit("remote", "add", "origin", join(repositories, "apps.git"));
    git = await startGitServer(repositories);
  });
  after(async () => {
    await sandbox.emulator("/faults", { method: "DELETE" }).catch(() => undefined);
    await flux?.stop();
    await git?.close();
    await sandbox.down();
  });

  it("applies a commit changing a ConfigMap during the move, never scales the app back up, and is Ready after the move", async () => {
    await sandbox.statefulSet("orders", 1, { zones: [FROM] });
    const manifest = readFileSync(join(sandbox.dir, "orders.yaml"), "utf8");
    const first = await commit("orders as it runs", { "orders.yaml": manifest, "settings.yaml": configMap("20") });
    // Drift correction every 3 s: many server-side dry runs of the StatefulSet during the move.
    writeFileSync(join(sandbox.dir, "flux-objects.yaml"), `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: apps, namespace: ${FLUX_NAMESPACE}}
spec: {url: "${git!.url}/apps.git", ref: {branch: main}, interval: 2s, timeout: 20s}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: ${FLUX_NAMESPACE}}
spec: {sourceRef: {kind: GitRepository, name: apps}, path: ./deploy, interval: 3s, retryInterval: 2s, timeout: 30s, prune: false}
`);
    await kubectl("apply", "-f", join(sandbox.dir, "flux-objects.yaml"));
    await untilReadyOn(first, 120_000);

    // Every write to the StatefulSet, seen as it happens: the replicas at each step.
    const seen: { step: string; replicas: number }[] = [];
    const kubeconfig = new KubeConfig();
    kubeconfig.loadFromFile(sandbox.env["KUBECONFIG"]!);
    const watch = await new Watch(kubeconfig).watch(`/apis/apps/v1/namespaces/${NS}/statefulsets`, { fieldSelector: "metadata.name=orders" }, (_type, sts: V1StatefulSet) => {
      seen.push({ step: sts.metadata?.annotations?.["zoneferry.io/step"] ?? "", replicas: sts.spec?.replicas ?? -1 });
    }, () => undefined);
    try {
      // Long enough at snapshot and create-disks for a commit to go through Flux meanwhile.
      for (const action of ["CreateSnapshot", "CreateDisk"]) {
        await sandbox.emulator("/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ action, delayMs: 8_000, times: 1 }) });
      }
      const atSnapshot = await sandbox.watchStep("orders", "snapshot");
      const requested = manifest.replace(`metadata: {name: orders, namespace: ${NS}}`, `metadata: {name: orders, namespace: ${NS}, annotations: {zoneferry.io/target-zones: ${TO}, zoneferry.io/check-interval: 1s, zoneferry.io/ready-timeout: 1m}}`);
      try {
        await commit("move orders to g", { "orders.yaml": requested });
        await atSnapshot.reached;
      } finally {
        atSnapshot.stop();
      }

      // A commit that changes only the ConfigMap, while Git still says replicas 1 and the app is at 0.
      const settings = await commit("pool 30", { "settings.yaml": configMap("30") });
      let statusWhenApplied = "";
      await waitFor(async () => {
        if ((await field("configmap", "orders-settings", ".data.pool")) !== "30") return false;
        statusWhenApplied = await sandbox.annotation("orders", "status");
        return true;
      }, 20_000, () => "Flux did not apply the ConfigMap");
      assert.ok(ACTIVE_STATUSES.has(statusWhenApplied), `the commit went through while the migration held the StatefulSet (status ${statusWhenApplied} when it was applied)`);
      // Ready on that commit: its dry run of the StatefulSet saw no drift, the replicas being held.
      await untilReadyOn(settings, 20_000);
      assert.ok(ACTIVE_STATUSES.has(await sandbox.annotation("orders", "status")), "Ready while the migration still held the StatefulSet");
      // Flux's dry run of the StatefulSet went through zoneferry's mutating webhook, which held the replicas.
      await waitFor(() => Promise.resolve(readFileSync(flux!.kustomizeController.logFile, "utf8").includes("zoneferry: spec.replicas held at 0 while migration")), 10_000, () => "kustomize-controller never logged zoneferry's warning");

      assert.equal(await sandbox.ended("orders"), "Succeeded");
      await untilReadyOn(settings);
      const undone = seen.filter((write) => HELD_AT_ZERO.has(write.step) && write.replicas !== 0);
      assert.deepEqual(undone, [], "nothing brought the replicas back while the runner held them at 0");
      assert.ok(seen.some((write) => write.step === "rebind"), "the watch saw the move");
      assert.equal(await sandbox.zoneOfPod("orders-0"), TO);
      assert.equal(await sandbox.contentOf("data-orders-0"), "orders-0 rows 1..100");

      // After the move: a reconciliation asked for now ends Ready on the last commit, the app at Git's replicas.
      const asked = String(Date.now());
      await kubectl("-n", FLUX_NAMESPACE, "annotate", "kustomization", "apps", "--overwrite", `reconcile.fluxcd.io/requestedAt=${asked}`);
      await waitFor(async () => (await kustomization(".status.lastHandledReconcileAt")) === asked && (await readyOn(settings)), 60_000, () => "the Kustomization did not reconcile Ready after the move");
      assert.equal(await field("statefulset", "orders", ".spec.replicas"), "1");
    } finally {
      watch.abort();
    }
  });
});
