/**
 * A sandbox started through its CLI for one e2e file, and what a user would look at in it: where
 * pods run, what each PVC's disk holds, what is left in ECS, what zoneferry's annotations say.
 * A sandbox may share its emulator with a second one in another account (`up({ accounts: 2 })`,
 * then `up({ ecsFrom, account: 2 })`): each session sees its own account's disks and snapshots.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { KubeConfig, Watch, type V1StatefulSet } from "@kubernetes/client-node";
import type { EcsClientOptions } from "../../core/ecs/ecs-sdk.ts";
import { KRUISE } from "../../core/workload/kinds.ts";
import type { SandboxAccount } from "../../sandbox/sandbox.ts";
import { liveOrdinals } from "../../core/workload/ordinals.ts";
import { freePort, waitFor } from "../../sandbox/processes.ts";

const run = promisify(execFile);
export const REPO = join(import.meta.dirname, "../..");
export const ZONES = ["cn-shanghai-b", "cn-shanghai-g", "cn-shanghai-m"];
export const ENDED = ["Succeeded", "Failed", "RollbackFailed"];
/** The control API's routes an account scopes (emulator/ecs/control-api.ts). */
const ACCOUNT_ROUTES = /^\/(disks|snapshots|inventory)(\/|$)/;

export interface Inventory {
  disks: { diskId: string; zoneId: string; status: string; tags?: Record<string, string> }[];
  snapshots: { snapshotId: string; sourceDiskId: string; retentionDays?: number; tags?: Record<string, string> }[];
}

export interface StatefulSetOptions {
  zones?: string[];
  templates?: string[];
  whenScaled?: "Delete";
  /** false: nothing is written to the disks (claims restored from a snapshot keep what it held). */
  content?: false;
  /** An Advanced StatefulSet (apps.kruise.io) with these fields of kruise's added to its spec. */
  advanced?: { reserveOrdinals?: (number | string)[]; [field: string]: unknown };
}

export class SandboxSession {
  readonly dir: string;
  readonly namespace: string;
  env: Record<string, string> = {};
  /** The StatefulSets made here as OpenKruise Advanced StatefulSets: kubectl names them by their group. */
  readonly #advanced = new Set<string>();

  /** `dir`: an existing sandbox's folder (see `inNamespace`); by default a new one named after `prefix`. */
  constructor(prefix: string, namespace: string, dir: string = mkdtempSync(join(tmpdir(), prefix))) {
    this.dir = dir;
    this.namespace = namespace;
  }

  /**
   * The same sandbox seen from `namespace` (created if absent): its helpers (statefulSet, diskOf,
   * contentOf, annotation, …) work there. Call it after `up`, and never `down` what it answers: it
   * is the same sandbox.
   */
  async inNamespace(namespace: string): Promise<SandboxSession> {
    const view = new SandboxSession("", namespace, this.dir);
    view.env = this.env;
    await view.kubectl("get", "namespace", namespace).catch(async () => view.kubectl("create", "namespace", namespace));
    return view;
  }

  /** What a process the sandbox started (e.g. "runner", "webhook") has logged so far. */
  logOf(name: string): string {
    return readFileSync(join(this.dir, `${name}.log`), "utf8");
  }

  /**
   * A request to the sandbox's webhook over TLS (POST when there is a body, else GET): as the API
   * server makes it, with the client certificate its admission configuration presents
   * (sandbox/control-plane.ts), or, with `asApiServer: false`, as anyone who reaches the port.
   * Answers the HTTP status, the body, and how long the whole answer took.
   */
  async callWebhook(path: string, body?: string, options: { asApiServer?: boolean } = {}): Promise<{ status: number; text: string; ms: number }> {
    const client = options.asApiServer === false ? {} : this.#webhookClientCertificate();
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = httpsRequest(`${this.env["WEBHOOK_URL"]!}${path}`, {
        method: body === undefined ? "GET" : "POST",
        ca: readFileSync(join(this.dir, "webhook-certs", "ca.crt")),
        ...client,
        headers: body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        timeout: 30_000,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.once("end", () => { resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - started }); });
        res.once("error", reject);
      });
      req.once("error", reject);
      req.once("timeout", () => { req.destroy(new Error(`${path}: no answer within 30 s`)); });
      req.end(body);
    });
  }

  /** The client certificate and key the API server presents to webhooks, from its admission kubeconfig. */
  #webhookClientCertificate(): { cert: Buffer; key: Buffer } {
    const file = join(dirname(this.env["KUBECONFIG"]!), "webhook-client.kubeconfig");
    const { users } = JSON.parse(readFileSync(file, "utf8")) as { users: { user: Record<string, string> }[] };
    const user = users[0]!.user;
    return { cert: Buffer.from(user["client-certificate-data"]!, "base64"), key: Buffer.from(user["client-key-data"]!, "base64") };
  }

  /**
   * `snapshots`: with the snapshot CRDs and the real snapshot-controller (`sandbox up --snapshots`).
   * `accounts`: the emulator serves that many accounts, this sandbox being account 1 (`--accounts`).
   * `ecsFrom`: on that session's emulator instead of one of its own, as its account `account`
   * (`--ecs-from`, `--account`); take it down before the one it joined.
   */
  async up(options: { snapshots?: boolean; accounts?: number; ecsFrom?: SandboxSession; account?: number } = {}): Promise<void> {
    await run(process.execPath, [
      join(REPO, "sandbox/cli.ts"), "up", "--dir", this.dir,
      ...(options.snapshots === true ? ["--snapshots"] : []),
      ...(options.accounts === undefined ? [] : ["--accounts", String(options.accounts)]),
      ...(options.ecsFrom === undefined ? [] : ["--ecs-from", options.ecsFrom.dir]),
      ...(options.account === undefined ? [] : ["--account", String(options.account)]),
    ], { timeout: 300_000 });
    this.env = Object.fromEntries(readFileSync(join(this.dir, "env"), "utf8").trim().split("\n").map((line) => {
      const [, key, value] = /^export ([A-Z_]+)='(.*)'$/.exec(line)!;
      return [key!, value!];
    }));
    await this.kubectl("create", "namespace", this.namespace);
  }

  async down(): Promise<void> {
    await run(process.execPath, [join(REPO, "sandbox/cli.ts"), "down", "--dir", this.dir]);
  }

  async kubectl(...args: string[]): Promise<string> {
    return (await run(this.env["KUBECTL"]!, args, { env: { ...process.env, KUBECONFIG: this.env["KUBECONFIG"]! } })).stdout;
  }

  /** kubectl's stdout and stderr both: the API server's warnings (`Warning: …`) go to stderr. */
  async kubectlOutput(...args: string[]): Promise<{ stdout: string; stderr: string }> {
    return run(this.env["KUBECTL"]!, args, { env: { ...process.env, KUBECONFIG: this.env["KUBECONFIG"]! } });
  }

  /** The Alibaba Cloud account this sandbox's parts act as (ECS_ACCOUNT_ID). */
  get accountId(): string {
    return this.env["ECS_ACCOUNT_ID"]!;
  }

  /** Every account of the emulator this sandbox uses, with its key (the first sandbox's ecs-accounts.json). */
  accounts(): SandboxAccount[] {
    return JSON.parse(readFileSync(this.env["SANDBOX_ACCOUNTS_FILE"]!, "utf8")) as SandboxAccount[];
  }

  /**
   * The options of an SDK client as this sandbox's parts build theirs: its account's key, at the
   * emulator's ECS or Resource Sharing endpoint (the same host:port, told apart by API version).
   */
  cloudOptions(service: "ecs" | "resourceSharing" = "ecs"): EcsClientOptions {
    return {
      regionId: this.env["ECS_REGION_ID"]!,
      endpoint: this.env[service === "ecs" ? "ECS_ENDPOINT" : "RESOURCE_SHARING_ENDPOINT"]!,
      protocol: "http",
      connectTimeoutMs: 5_000,
      readTimeoutMs: 5_000,
      accessKey: { id: this.env["ALIBABA_CLOUD_ACCESS_KEY_ID"]!, secret: this.env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]! },
    };
  }

  /**
   * A call to the emulator's control API. Disks, snapshots and the inventory are this sandbox's
   * account's (/accounts/<id>/…), so a sandbox in a second account sees its own world; the rest
   * (faults, requests, state, clock) is the emulator's, whoever asks.
   */
  async emulator(path: string, init?: RequestInit): Promise<Response> {
    const scoped = ACCOUNT_ROUTES.test(path) && this.env["ECS_ACCOUNT_ID"] !== undefined ? `/accounts/${this.env["ECS_ACCOUNT_ID"]}${path}` : path;
    return fetch(`${this.env["ECS_EMULATOR_URL"]!}/_emulator${scoped}`, init);
  }

  async inventory(): Promise<Inventory> {
    return (await (await this.emulator("/inventory")).json()) as Inventory;
  }

  /** The disks zoneferry made for a claim (tagged with it). */
  async newDisksOf(claim: string): Promise<Inventory["disks"]> {
    return (await this.inventory()).disks.filter((disk) => disk.tags?.["zoneferry.io/pvc"] === `${this.namespace}.${claim}`);
  }

  async diskOf(claim: string): Promise<string> {
    return this.kubectl("-n", this.namespace, "get", "pvc", claim, "-o", "jsonpath={.spec.volumeName}");
  }

  async contentOf(claim: string): Promise<string> {
    return (await this.emulator(`/disks/${await this.diskOf(claim)}/content`)).text();
  }

  async zoneOfPod(pod: string): Promise<string> {
    const node = await this.kubectl("-n", this.namespace, "get", "pod", pod, "-o", "jsonpath={.spec.nodeName}");
    return this.kubectl("get", "node", node, "-o", "jsonpath={.metadata.labels.topology\\.kubernetes\\.io/zone}");
  }

  /**
   * How kubectl names the StatefulSet `name`: `statefulset` is apps/v1's even where kruise's CRD is
   * installed, so an Advanced StatefulSet is named with its group.
   */
  resourceOf(name: string): string {
    return this.#advanced.has(name) ? `statefulsets.${KRUISE.group}` : "statefulset";
  }

  async annotation(name: string, key: string): Promise<string> {
    return this.kubectl("-n", this.namespace, "get", this.resourceOf(name), name, "-o", `jsonpath={.metadata.annotations.zoneferry\\.io/${key}}`);
  }

  async readyReplicas(name: string): Promise<number> {
    return Number(await this.kubectl("-n", this.namespace, "get", this.resourceOf(name), name, "-o", "jsonpath={.status.readyReplicas}"));
  }

  /** Waits until the migration of `name` ends; answers its status. */
  async ended(name: string, withinMs = 120_000): Promise<string> {
    let annotations: Record<string, string> = {};
    await waitFor(async () => {
      annotations = JSON.parse(await this.kubectl("-n", this.namespace, "get", this.resourceOf(name), name, "-o", "jsonpath={.metadata.annotations}") || "{}") as Record<string, string>;
      return ENDED.includes(annotations["zoneferry.io/status"] ?? "");
    }, withinMs, () => `the migration of ${name} did not end (status ${annotations["zoneferry.io/status"] ?? "none"}, step ${annotations["zoneferry.io/step"] ?? "none"})`);
    return annotations["zoneferry.io/status"]!;
  }

  /**
   * A StatefulSet of 20 GiB ESSD claims whose disks start in `zones` (the other zones' nodes are
   * cordoned while it comes up), each disk holding `<name>-<ordinal> rows 1..<100 + ordinal>`.
   * With `advanced`, an OpenKruise Advanced StatefulSet (the sandbox's stand-in controller runs it)
   * with those extra spec fields (e.g. reserveOrdinals).
   */
  async statefulSet(name: string, replicas: number, options: StatefulSetOptions = {}): Promise<void> {
    const elsewhere = ZONES.filter((zone) => options.zones !== undefined && !options.zones.includes(zone)).map((zone) => `node-${zone}-0`);
    for (const node of elsewhere) await this.kubectl("cordon", node);
    try {
      await this.#create(name, replicas, options);
    } finally {
      for (const node of elsewhere) await this.kubectl("uncordon", node);
    }
  }

  /**
   * The manifest of the StatefulSet `name` as `statefulSet` makes it: nginx pods and 20 GiB ESSD
   * claims of `templates` (default: data), with `annotations` on it.
   */
  statefulSetManifest(name: string, replicas: number, options: StatefulSetOptions & { annotations?: Readonly<Record<string, string>> } = {}): string {
    const templates = options.templates ?? ["data"];
    const claimTemplates = templates.map((template) => `  - metadata: {name: ${template}}
    spec: {accessModes: [ReadWriteOnce], storageClassName: alicloud-disk-essd, resources: {requests: {storage: 20Gi}}}
`).join("");
    const retention = options.whenScaled === undefined ? "" : `  persistentVolumeClaimRetentionPolicy: {whenDeleted: Retain, whenScaled: ${options.whenScaled}}\n`;
    const advanced = options.advanced === undefined ? "" : Object.entries(options.advanced).map(([key, value]) => `  ${key}: ${JSON.stringify(value)}\n`).join("");
    const annotations = options.annotations === undefined ? "" : `, annotations: ${JSON.stringify(options.annotations)}`;
    return `apiVersion: ${options.advanced === undefined ? "apps/v1" : KRUISE.apiVersion}
kind: StatefulSet
metadata: {name: ${name}, namespace: ${this.namespace}${annotations}}
spec:
  replicas: ${replicas}
  serviceName: ${name}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: main, image: nginx:1.27}]
${retention}${advanced}  volumeClaimTemplates:
${claimTemplates}`;
  }

  async #create(name: string, replicas: number, options: StatefulSetOptions): Promise<void> {
    const templates = options.templates ?? ["data"];
    if (options.advanced !== undefined) this.#advanced.add(name);
    const file = join(this.dir, `${name}.yaml`);
    writeFileSync(file, this.statefulSetManifest(name, replicas, options));
    await this.kubectl("apply", "-f", file);
    await waitFor(async () => (await this.readyReplicas(name)) === replicas, 60_000, () => `${name} not Ready`);
    if (options.content === false) return;
    for (const ordinal of liveOrdinals({ replicas, ...options.advanced })) {
      for (const template of templates) {
        const body = template === "data" ? `${name}-${ordinal} rows 1..${100 + ordinal}` : `${template} of ${name}-${ordinal}`;
        await this.emulator(`/disks/${await this.diskOf(`${template}-${name}-${ordinal}`)}/content`, { method: "PUT", body });
      }
    }
  }

  /**
   * Resolves `reached` when the StatefulSet's step annotation becomes `step`. A watch sees every
   * write, where polling with kubectl can miss a step that lasts less than a poll.
   */
  async watchStep(name: string, step: string): Promise<{ reached: Promise<void>; stop(): void }> {
    const kubeconfig = new KubeConfig();
    kubeconfig.loadFromFile(this.env["KUBECONFIG"]!);
    let resolveReached: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => { resolveReached = resolve; });
    const api = this.#advanced.has(name) ? KRUISE.apiVersion : "apps/v1";
    const controller = await new Watch(kubeconfig).watch(`/apis/${api}/namespaces/${this.namespace}/statefulsets`, { fieldSelector: `metadata.name=${name}` }, (_type, object: V1StatefulSet) => {
      if (object.metadata?.annotations?.["zoneferry.io/step"] === step) resolveReached();
    }, () => undefined);
    return { reached, stop: () => { controller.abort(); } };
  }

  /** The pid of a process the sandbox started (e.g. "runner"). */
  pidOf(name: string): number {
    const state = JSON.parse(readFileSync(join(this.dir, "state.json"), "utf8")) as { processes: { name: string; pid: number }[] };
    return state.processes.find((entry) => entry.name === name)!.pid;
  }

  /**
   * A runner of our own (the sandbox's is stopped by the caller): the production runner with the
   * failpoints given (sandbox/failpoints.ts), logging every write it makes to `log`.
   */
  async startRunner(options: { failpoints?: string; log?: string; output?: string; extraEnv?: Record<string, string> } = {}): Promise<ChildProcess> {
    // Its own log lines go to `output` when asked (a test reads what it said), else nowhere.
    const output = options.output === undefined ? "ignore" : openSync(options.output, "a");
    const child = spawn(process.execPath, [join(REPO, "sandbox/failpoint-runner.ts")], {
      env: {
        ...process.env,
        ...this.env,
        KUBECONFIG: this.env["RUNNER_KUBECONFIG"]!,
        METRICS_PORT: String(await freePort()),
        ZF_FAILPOINTS: options.failpoints ?? "",
        ...(options.log === undefined ? {} : { ZF_FAILPOINT_LOG: options.log }),
        ...options.extraEnv,
      },
      stdio: ["ignore", output, output],
    });
    if (typeof output === "number") closeSync(output);
    return child;
  }
}

/** Kills a runner (SIGKILL) and waits until it is gone. */
export async function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}
