/**
 * The chart against a real API server (the sandbox's): every rendered manifest of every values
 * combination passes a server-side dry run, the CRD becomes Established and the webhook
 * configurations are accepted by a real apply, an upgrade keeps the secrets the install generated
 * (helm's lookup, against this API server), and, with the chart's ServiceAccounts and ClusterRoles
 * installed and its admission objects naming the runner's ServiceAccount, the webhook and the
 * runner run under those identities (tokens of the ServiceAccounts, not the sandbox's admin
 * certificates) and complete a migration.
 */
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { dumpYaml, KubeConfig, loadAllYaml, type KubernetesObject, type V1Secret } from "@kubernetes/client-node";
import { setArgs } from "../../sandbox/helm.ts";
import { freePort, waitFor } from "../../sandbox/processes.ts";
import { registerWebhookConfigurations } from "../../sandbox/webhook-registration.ts";
import { CHART, REPO, helmBinary, installValues, render, type Values } from "../support/helm.ts";

const run = promisify(execFile);
const NAMESPACE = "zoneferry";
/** Kinds whose CRDs (cert-manager, prometheus-operator) this offline machine cannot install. */
const FOREIGN_KINDS = new Set(["Certificate", "Issuer", "ServiceMonitor"]);

describe("the chart on a real API server", () => {
  const dir = mkdtempSync(join(tmpdir(), "zf-chart-"));
  let env: Record<string, string> = {};
  const started: ChildProcess[] = [];

  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const child = execFile(env["KUBECTL"]!, args, { env: { ...process.env, KUBECONFIG: env["KUBECONFIG"]! } });
    const output = new Promise<string>((resolve, reject) => {
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (chunk: string) => { stdout += chunk; });
      child.stderr?.on("data", (chunk: string) => { stderr += chunk; });
      child.on("close", (code) => { if (code === 0) resolve(stdout); else reject(new Error(`kubectl ${args.join(" ")}: ${stderr}`)); });
    });
    child.stdin?.end(input ?? "");
    return output;
  };
  const apply = async (objects: readonly KubernetesObject[], ...flags: string[]): Promise<string> => kubectl(["apply", ...flags, "-f", "-"], objects.map((object) => dumpYaml(object)).join("---\n"));

  before(async () => {
    await run(process.execPath, [join(REPO, "sandbox/cli.ts"), "up", "--dir", dir], { timeout: 300_000 });
    env = Object.fromEntries(readFileSync(join(dir, "env"), "utf8").trim().split("\n").map((line) => {
      const [, key, value] = /^export ([A-Z_]+)='(.*)'$/.exec(line)!;
      return [key!, value!];
    }));
    await kubectl(["create", "namespace", NAMESPACE]);
  });
  after(async () => {
    for (const child of started) child.kill("SIGTERM");
    await run(process.execPath, [join(REPO, "sandbox/cli.ts"), "down", "--dir", dir]);
  });

  const combinations = (["certManager", "secret"] as const).flatMap((certs) => (["external", "bundled"] as const).flatMap((redis) => (["rrsa", "secret"] as const).map((credentials) => ({ certs, redis, credentials }))));

  it("passes a server-side dry run with every manifest of every values combination", async () => {
    const counts: string[] = [];
    for (const modes of combinations) {
      const objects = render({ ...installValues(modes), "serviceMonitor.enabled": true });
      const served = objects.filter((object) => !FOREIGN_KINDS.has(object.kind ?? ""));
      const output = await apply(served, "--dry-run=server");
      assert.equal(output.trim().split("\n").length, served.length, output);
      counts.push(`${modes.certs}/${modes.redis}/${modes.credentials}: ${objects.length}`);
    }
    assert.equal(counts.length, 8);
    // Issue 14's values, all at once: the API server takes the pods they make (a system-critical
    // priority class outside kube-system included) and the helm test's pod.
    const everything = render({
      ...installValues({ certs: "certManager", redis: "bundled", credentials: "rrsa" }),
      "image.registry": "registry.cn-hangzhou.aliyuncs.com", "image.repository": "acme/zoneferry", "image.digest": `sha256:${"ab".repeat(32)}`, "global.imageRegistry": "registry.cn-shanghai.aliyuncs.com",
      "imagePullSecrets[0].name": "acr-pull", "webhook.replicas": 3, "webhook.priorityClassName": "system-cluster-critical", "runner.priorityClassName": "system-cluster-critical",
      "webhook.tolerations[0].key": "dedicated", "webhook.tolerations[0].operator": "Exists", "runner.nodeSelector.kubernetes\\.io/os": "linux",
      "webhook.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight": 1,
      "webhook.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey": "kubernetes.io/hostname",
      "webhook.podLabels.team": "platform", "runner.podAnnotations.example\\.com/owner": "platform", "runner.extraEnv[0].name": "HTTPS_PROXY", "runner.extraEnv[0].value": "http://proxy:3128",
      "ecs.vpcEndpoints": true, "ecs.stsRegion": "cn-shanghai", "networkPolicy.webhookFrom[0].ipBlock.cidr": "10.0.0.0/24",
    }).filter((object) => !FOREIGN_KINDS.has(object.kind ?? ""));
    assert.ok(everything.some((object) => object.kind === "Pod"), "the helm test's pod");
    const output = await apply(everything, "--dry-run=server");
    assert.equal(output.trim().split("\n").length, everything.length, output);
  });

  it("installs the CRD, which becomes Established, and has its webhook configurations accepted by a real apply", async () => {
    await kubectl(["apply", "-f", join(CHART, "crds")]);
    await kubectl(["wait", "--for=condition=Established", "crd/zonemigrations.zoneferry.io", "--timeout=30s"]);
    const configurations = render(installValues({ certs: "secret", redis: "external", credentials: "secret" })).filter((object) => object.kind?.endsWith("WebhookConfiguration") === true);
    assert.match(await apply(configurations), /validatingwebhookconfiguration.admissionregistration.k8s.io\/zf-zoneferry-webhook created/);
    // They point at a Service this sandbox does not run: gone again before anything is sent there.
    await kubectl(["delete", "validatingwebhookconfiguration,mutatingwebhookconfiguration", "zf-zoneferry-webhook"]);
  });

  it("keeps the journal key and the bundled Redis's password an install generated when the release is upgraded", async () => {
    const values = installValues({ certs: "secret", redis: "bundled", credentials: "secret" });
    // What an install or an upgrade renders: helm's lookup reads the live Secrets from this API server.
    const generated = async (): Promise<V1Secret[]> => {
      const { stdout } = await run(helmBinary(), ["template", "zf", CHART, "--namespace", NAMESPACE, "--dry-run=server", "--kubeconfig", env["KUBECONFIG"]!, "--show-only", "templates/secrets.yaml", ...setArgs(values)]);
      return (loadAllYaml(stdout) as (V1Secret | null)[]).filter((object): object is V1Secret => object !== null);
    };
    const data = (secrets: readonly V1Secret[]): Record<string, unknown> => Object.fromEntries(secrets.map((secret) => [secret.metadata!.name!, secret.data]));
    const install = await generated();
    assert.deepEqual(install.map((secret) => secret.metadata!.name), ["zf-zoneferry-journal-key", "zf-zoneferry-redis"]);
    assert.notDeepEqual(data(await generated()), data(install), "with no Secret to find, each render generates new values");
    // As `helm install` leaves them: owned by the release, which an upgrade checks.
    const owned = install.map((secret) => ({ ...secret, metadata: { ...secret.metadata, annotations: { ...secret.metadata?.annotations, "meta.helm.sh/release-name": "zf", "meta.helm.sh/release-namespace": NAMESPACE } } }));
    await apply(owned);
    try {
      assert.deepEqual(data(await generated()), data(install), "the upgrade renders the installed values");
    } finally {
      await kubectl(["-n", NAMESPACE, "delete", "secret", ...install.map((secret) => secret.metadata!.name!)]);
    }
  });

  it("completes a migration with the webhook and the runner running as the chart's ServiceAccounts", async () => {
    // The sandbox runs Advanced StatefulSets (WORKLOADS_KRUISE=true on both components), and so
    // does this install: its RBAC must cover what they read and write of apps.kruise.io.
    const values: Values = { ...installValues({ certs: "secret", redis: "external", credentials: "secret" }), "workloads.kruise": env["WORKLOADS_KRUISE"] === "true" };
    const rbac = render(values, NAMESPACE).filter((object) => ["ServiceAccount", "ClusterRole", "ClusterRoleBinding"].includes(object.kind ?? ""));
    await apply(rbac);
    const kubeconfigOf = async (serviceAccount: string): Promise<string> => {
      const token = (await kubectl(["-n", NAMESPACE, "create", "token", serviceAccount, "--duration=1h"])).trim();
      const view = JSON.parse(await kubectl(["config", "view", "--minify", "--raw", "-o", "json"])) as { clusters: { cluster: Record<string, string> }[] };
      const cluster = view.clusters[0]!.cluster;
      const authority = cluster["certificate-authority-data"] === undefined ? `certificate-authority: "${cluster["certificate-authority"]!}"` : `certificate-authority-data: "${cluster["certificate-authority-data"]}"`;
      const file = join(dir, `${serviceAccount}.kubeconfig`);
      writeFileSync(file, `apiVersion: v1
kind: Config
clusters: [{name: sandbox, cluster: {server: "${cluster["server"]!}", ${authority}}}]
users: [{name: ${serviceAccount}, user: {token: "${token}"}}]
contexts: [{name: sandbox, context: {cluster: sandbox, user: ${serviceAccount}}}]
current-context: sandbox
`, { mode: 0o600 });
      return file;
    };
    const runnerIdentity = `system:serviceaccount:${NAMESPACE}:zf-zoneferry-runner`;
    // The admission objects as the chart installs them for this runner: its journals and its writes
    // are the ones the policies allow, and the webhooks are not sent its writes.
    const admin = new KubeConfig();
    admin.loadFromFile(env["KUBECONFIG"]!);
    await registerWebhookConfigurations(admin, { url: env["WEBHOOK_URL"]!, caPem: readFileSync(join(dir, "webhook-certs/ca.crt"), "utf8"), runnerIdentity });
    // The sandbox's own webhook and runner make way (admin certificates); ours take their place.
    const state = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as { processes: { name: string; pid: number }[] };
    for (const name of ["webhook", "runner"]) process.kill(state.processes.find((entry) => entry.name === name)!.pid, "SIGTERM");
    const webhookPort = new URL(env["WEBHOOK_URL"]!).port;
    const logs = { webhook: "", runner: "" };
    const start = (component: "webhook" | "runner", extra: Record<string, string>): void => {
      const child = spawn(process.execPath, [join(REPO, `${component}/main.ts`)], { env: { ...process.env, ...env, ...extra }, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.on("data", (chunk: Buffer) => { logs[component] += chunk.toString(); });
      child.stderr.on("data", (chunk: Buffer) => { logs[component] += chunk.toString(); });
      started.push(child);
    };
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    start("webhook", {
      KUBECONFIG: await kubeconfigOf("zf-zoneferry-webhook"),
      WEBHOOK_PORT: webhookPort,
      WEBHOOK_TLS_CERT: join(dir, "webhook-certs/tls.crt"),
      WEBHOOK_TLS_KEY: join(dir, "webhook-certs/tls.key"),
      RUNNER_IDENTITY: runnerIdentity,
    });
    start("runner", { KUBECONFIG: await kubeconfigOf("zf-zoneferry-runner"), METRICS_PORT: String(await freePort()) });
    // Ready once its informers, under the webhook's ServiceAccount, have listed the cluster.
    const ca = readFileSync(join(dir, "webhook-certs/ca.crt"));
    const ready = (): Promise<boolean> => new Promise((resolve) => {
      const req = httpsRequest(`${env["WEBHOOK_URL"]!}/readyz`, { ca, timeout: 2_000 }, (res) => { res.resume(); resolve(res.statusCode === 200); });
      req.once("error", () => { resolve(false); });
      req.end();
    });
    await waitFor(ready, 30_000, () => `the webhook did not become ready:\n${logs.webhook.slice(-2000)}`);

    await kubectl(["create", "namespace", "shop"]);
    await kubectl(["cordon", "node-cn-shanghai-g-0"]);
    await kubectl(["cordon", "node-cn-shanghai-m-0"]);
    await apply([{
      apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "db", namespace: "shop" },
      spec: {
        replicas: 1, serviceName: "db", selector: { matchLabels: { app: "db" } },
        template: { metadata: { labels: { app: "db" } }, spec: { containers: [{ name: "db", image: "postgres:17" }] } },
        volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], storageClassName: "alicloud-disk-essd", resources: { requests: { storage: "20Gi" } } } }],
      },
    } as KubernetesObject]);
    await waitFor(async () => (await kubectl(["-n", "shop", "get", "sts", "db", "-o", "jsonpath={.status.readyReplicas}"])) === "1", 60_000, () => "db not Ready");
    await kubectl(["uncordon", "node-cn-shanghai-g-0"]);
    await kubectl(["uncordon", "node-cn-shanghai-m-0"]);
    await kubectl(["-n", "shop", "annotate", "sts", "db", "zoneferry.io/target-zones=cn-shanghai-g", "zoneferry.io/check-interval=1s"]);
    let status = "";
    await waitFor(async () => {
      status = await kubectl(["-n", "shop", "get", "sts", "db", "-o", "jsonpath={.metadata.annotations.zoneferry\\.io/status}"]);
      return ["Succeeded", "Failed", "RollbackFailed"].includes(status);
    }, 120_000, () => `the migration did not end (status ${status})\nrunner:\n${logs.runner.slice(-3000)}`);
    assert.equal(status, "Succeeded", logs.runner.slice(-3000));
    // Scaling the held StatefulSet passed the guard: it knows the runner by its ServiceAccount.
    assert.doesNotMatch(logs.runner + logs.webhook, /forbidden/i, "no call was refused for lack of a permission");
  });
});
