/**
 * The local sandbox of contract §8: a real cluster (etcd, kube-apiserver, controllers,
 * scheduler, kwok nodes in zones), Redis, the ECS emulator, the disk provisioner and zoneferry's
 * webhook, registered with the API server. `up` starts every part as a detached process and
 * returns when all are ready; `down` stops them all; `status` says what runs.
 *
 * Cross-account exports and restores need two clusters in two accounts of one cloud: a sandbox's
 * emulator can serve several accounts (`accounts`), and a second sandbox can join it (`ecsFrom`)
 * as one of them instead of starting an emulator of its own.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_ACCOUNT_ID } from "../emulator/ecs/accounts.ts";
import { SERVICE_KEY_ID } from "../emulator/ecs/actions/disk-attributes.ts";
import { startCluster, DEFAULT_ZONES } from "./cluster.ts";
import { controlPlaneBinaries } from "./control-plane.ts";
import { freePort, isAlive, startProcess, stopPid, waitFor, type Managed } from "./processes.ts";
import { startRedisServer } from "./redis.ts";
import { ensureStorageClasses } from "./storage-classes.ts";
import { installZoneMigrationCrd } from "../runner/journal/crd.ts";
import { installAdvancedStatefulSetCrd } from "./kruise-controller/crd.ts";
import { helmBinary } from "./helm.ts";
import { startSnapshotController } from "./snapshot-controller.ts";
import { registerWebhookConfigurations } from "./webhook-registration.ts";

const REPO = join(import.meta.dirname, "..");
export const DEFAULT_SANDBOX_DIR = join(REPO, ".sandbox");
export const RUNNER_USER = "zoneferry-runner";
export { installAdvancedStatefulSetCrd };
const REGION = "cn-shanghai";
/** Every zone sells the ESSD family and the older categories, as most ACK zones do. */
const CATEGORIES = ["cloud_essd", "cloud_auto", "cloud_essd_entry", "cloud_ssd", "cloud_efficiency"];

export interface UpOptions {
  readonly dir?: string;
  readonly zones?: readonly string[];
  readonly nodesPerZone?: number;
  /** Progress lines go here. */
  readonly log?: (line: string) => void;
  /** Fields of the ECS emulator's configuration (emulator/ecs/README.md) over the sandbox's own. */
  readonly emulator?: Readonly<Record<string, unknown>>;
  /** Variables for the runner over the sandbox's own (e.g. RUNNER_CONCURRENCY). */
  readonly runnerEnv?: Readonly<Record<string, string>>;
  /** Volume snapshots: their CRDs, a VolumeSnapshotClass and the real snapshot-controller (sandbox/snapshot-controller.ts). */
  readonly snapshots?: boolean;
  /**
   * Accounts the emulator serves, 1 to 9: this sandbox is account 1; every account's id and key is
   * in `<dir>/ecs-accounts.json` (SANDBOX_ACCOUNTS_FILE) for the sandboxes that join it. @defaultValue 1
   */
  readonly accounts?: number;
  /** The folder of a sandbox that is up: this one uses its ECS emulator, and starts none. */
  readonly ecsFrom?: string;
  /** With `ecsFrom`: which of that emulator's accounts (1-based) this sandbox's parts act as. @defaultValue 1 */
  readonly account?: number;
}

/** One account of a sandbox's emulator: its number (1-based), id and access key. */
export interface SandboxAccount {
  readonly account: number;
  readonly accountId: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
}

/** Where a sandbox's ECS is: its emulator's addresses, and the account this sandbox acts as. */
interface EcsSide {
  readonly url: string;
  readonly endpoint: string;
  readonly own: SandboxAccount;
  readonly accountsFile: string;
  /** The zones the emulator sells disks in. */
  readonly zones: readonly string[];
}

const ACCOUNTS_FILE = "ecs-accounts.json";
const MAX_ACCOUNTS = 9;

/**
 * The runner's bounds at the emulator's pace: cloud waits of 30 minutes take 18 s at a hundredth
 * of real time, and a reconcile pass every 10 s keeps lost jobs from waiting long.
 */
const SANDBOX_RUNNER_ENV = { RUNNER_CLOUD_WAIT_TIMEOUT: "20s", RUNNER_RECONCILE_INTERVAL: "10s" };

interface State {
  readonly processes: readonly { readonly name: string; readonly pid: number }[];
  readonly env: Readonly<Record<string, string>>;
}

/** Starts the sandbox; returns the variables it wrote to `<dir>/env`. */
export async function up(options: UpOptions = {}): Promise<Readonly<Record<string, string>>> {
  const dir = options.dir ?? DEFAULT_SANDBOX_DIR;
  const log = options.log ?? (() => undefined);
  if (existsSync(join(dir, "state.json"))) throw new Error(`a sandbox is already up in ${dir}; run \`npm run sandbox -- down\` first`);
  mkdirSync(dir, { recursive: true });
  const started: Managed[] = [];
  const record = (): void => { writeState(dir, { processes: started.map(({ name, pid }) => ({ name, pid })), env: {} }); };
  try {
    const { joined, zones, accounts } = await planEcs(options);
    log(`building or finding the control-plane binaries`);
    const binDir = controlPlaneBinaries(process.env);
    // The admission objects registered are the chart's, rendered by helm (sandbox/webhook-registration.ts).
    log("building or finding helm");
    helmBinary(process.env);
    log(`starting etcd, kube-apiserver, controllers, scheduler and kwok with ${options.nodesPerZone ?? 1} node(s) in each of ${zones.join(", ")}`);
    const cluster = await startCluster(binDir, { dir: join(dir, "cluster"), detached: true, zones, nodesPerZone: options.nodesPerZone ?? 1 });
    started.push(...cluster.processes());
    record();
    log(joined === undefined ? "starting redis-server and the ECS emulator" : `starting redis-server; ECS is the emulator of ${options.ecsFrom!}, as its account ${joined.own.account} (${joined.own.accountId})`);
    const [redisUrl, ecs] = await Promise.all([startRedis(dir, started), joined ?? startEmulator(dir, { zones, overrides: options.emulator ?? {}, accounts }, started)]);
    record();
    const env: Record<string, string> = {
      KUBECONFIG: cluster.plane.kubeconfig,
      KUBECTL: join(binDir, "kubectl"),
      REDIS_URL: redisUrl,
      ECS_REGION_ID: REGION,
      ECS_ENDPOINT: ecs.endpoint,
      // The emulator answers Resource Sharing beside ECS, told apart by the API version.
      RESOURCE_SHARING_ENDPOINT: ecs.endpoint,
      // The emulator's service key: an export of a disk encrypted with it is refused up front.
      ECS_SERVICE_KEY_ID: SERVICE_KEY_ID,
      // The emulator speaks plain http on loopback; zoneferry takes http only when told so by name.
      ECS_PROTOCOL: "http",
      ECS_INSECURE_EMULATOR: "true",
      ALIBABA_CLOUD_ACCESS_KEY_ID: ecs.own.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: ecs.own.accessKeySecret,
      // The account of that key: the disk provisioner attaches in its world (the control API's /accounts/<id>/).
      ECS_ACCOUNT_ID: ecs.own.accountId,
      SANDBOX_ACCOUNTS_FILE: ecs.accountsFile,
      ...(joined === undefined ? {} : { SANDBOX_ECS_FROM: options.ecsFrom! }),
      ECS_EMULATOR_URL: ecs.url,
      RUNNER_IDENTITY: RUNNER_USER,
      RUNNER_KUBECONFIG: cluster.plane.kubeconfigFor(RUNNER_USER, ["system:masters"]),
      SANDBOX_ZONES: zones.join(","),
      RUNNER_JOURNAL_KEY_FILE: journalKeyFile(dir),
      WORKLOADS_KRUISE: "true",
      CROSS_ACCOUNT: "true",
      ...SANDBOX_RUNNER_ENV,
    };
    await ensureStorageClasses(cluster.kubeconfig);
    await installZoneMigrationCrd(cluster.kubeconfig);
    await installAdvancedStatefulSetCrd(cluster.kubeconfig);
    log("starting the disk provisioner and zoneferry's webhook");
    started.push(startNode("disk-provisioner", "sandbox/disk-provisioner/main.ts", dir, env));
    // The stand-in for kruise-manager: Advanced StatefulSets get pods as kruise would give them.
    started.push(startNode("kruise-controller", "sandbox/kruise-controller/main.ts", dir, env));
    if (options.snapshots === true) {
      log("starting the snapshot-controller (built once from its Go module, cached)");
      started.push(await startSnapshotController({ kubeconfig: env["KUBECONFIG"]!, kubectl: env["KUBECTL"]!, dir, detached: true }));
      record();
    }
    // The runner acts as zoneferry-runner, the identity the migration guard lets through.
    const metricsPort = await freePort();
    env["RUNNER_METRICS_URL"] = `http://127.0.0.1:${metricsPort}/metrics`;
    started.push(startNode("runner", "runner/main.ts", dir, { ...env, ...options.runnerEnv, KUBECONFIG: env["RUNNER_KUBECONFIG"]!, METRICS_PORT: String(metricsPort) }));
    // The webhook answers only the API server (the client certificate of sandbox/control-plane.ts).
    const webhook = await startWebhook(dir, env, started, cluster.plane.webhookClientCaFile);
    env["WEBHOOK_URL"] = webhook.url;
    // The chart's webhook configurations and scale guard policy, exempting the runner's user.
    // crossAccount.enabled: the sandbox's runner makes exports and restores.
    await registerWebhookConfigurations(cluster.kubeconfig, { url: webhook.url, caPem: readFileSync(webhook.caFile, "utf8"), runnerIdentity: RUNNER_USER, crossAccount: true });
    writeState(dir, { processes: started.map(({ name, pid }) => ({ name, pid })), env });
    writeFileSync(join(dir, "env"), Object.entries(env).map(([key, value]) => `export ${key}=${shellQuote(value)}\n`).join(""));
    return env;
  } catch (error) {
    await stopAll(started.map(({ name, pid }) => ({ name, pid })));
    rmSync(join(dir, "state.json"), { force: true });
    throw error;
  }
}

/** The key the sandbox's runners seal their journals with, made once per sandbox (the chart makes a Secret). */
function journalKeyFile(dir: string): string {
  const file = join(dir, "journal-key");
  writeFileSync(file, randomBytes(48).toString("base64"), { mode: 0o600 });
  return file;
}

/** Stops every process the sandbox started, newest first (the API server before etcd). */
export async function down(dir: string = DEFAULT_SANDBOX_DIR): Promise<number> {
  const state = readState(dir);
  if (state === undefined) return 0;
  await stopAll(state.processes);
  rmSync(dir, { recursive: true, force: true });
  return state.processes.length;
}

export function status(dir: string = DEFAULT_SANDBOX_DIR): { name: string; pid: number; running: boolean }[] | undefined {
  return readState(dir)?.processes.map(({ name, pid }) => ({ name, pid, running: isAlive(pid) }));
}

async function stopAll(processes: readonly { name: string; pid: number }[]): Promise<void> {
  for (const { pid } of [...processes].reverse()) await stopPid(pid);
}

function readState(dir: string): State | undefined {
  const file = join(dir, "state.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as State) : undefined;
}

function writeState(dir: string, state: State): void {
  writeFileSync(join(dir, "state.json"), JSON.stringify(state, null, 2));
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function startNode(name: string, script: string, dir: string, env: Readonly<Record<string, string>>): Managed {
  return startProcess(name, process.execPath, [join(REPO, script)], { logFile: join(dir, `${name}.log`), detached: true, env: { LOG_LEVEL: "info", ...env } });
}

async function startRedis(dir: string, started: Managed[]): Promise<string> {
  const redis = await startRedisServer({ dir: join(dir, "redis"), detached: true });
  started.push(redis.process);
  return redis.url;
}

/** Whose emulator the sandbox uses, in which zones, and how many accounts one it starts serves: checked before anything starts. */
async function planEcs(options: UpOptions): Promise<{ joined: EcsSide | undefined; zones: readonly string[]; accounts: number }> {
  if (options.ecsFrom === undefined) {
    if (options.account !== undefined) throw new Error("account needs ecsFrom: a sandbox that starts its emulator is its account 1");
    return { joined: undefined, zones: options.zones ?? DEFAULT_ZONES, accounts: accountCount(options.accounts) };
  }
  const joined = await joinEmulator(options.ecsFrom, options);
  const zones = options.zones ?? joined.zones;
  const foreign = zones.filter((zone) => !joined.zones.includes(zone));
  if (foreign.length > 0) throw new Error(`the emulator of ${options.ecsFrom} sells no disks in ${foreign.join(", ")}; its zones are ${joined.zones.join(", ")}`);
  return { joined, zones, accounts: 1 };
}

/**
 * Account n's id: account 1 is the emulator's default account, so the control API's unprefixed
 * routes (the demo's, most tests') show the sandbox's own world as before there were accounts.
 */
function accountIdOf(account: number): string {
  return String(BigInt(DEFAULT_ACCOUNT_ID) + BigInt(account - 1));
}

function accountCount(accounts: number | undefined): number {
  const count = accounts ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_ACCOUNTS) throw new Error(`accounts must be a whole number from 1 to ${MAX_ACCOUNTS}, not ${String(accounts)}`);
  return count;
}

async function startEmulator(dir: string, world: { zones: readonly string[]; overrides: Readonly<Record<string, unknown>>; accounts: number }, started: Managed[]): Promise<EcsSide> {
  const port = await freePort();
  const accounts: SandboxAccount[] = Array.from({ length: world.accounts }, (_, index) => ({
    account: index + 1,
    accountId: accountIdOf(index + 1),
    accessKeyId: `sandbox-${randomBytes(6).toString("hex")}`,
    accessKeySecret: randomBytes(18).toString("base64url"),
  }));
  // Every account's key, for the sandboxes that join this emulator as one of them (joinEmulator).
  const accountsFile = join(dir, ACCOUNTS_FILE);
  writeFileSync(accountsFile, JSON.stringify(accounts, null, 2), { mode: 0o600 });
  const config = {
    regionId: REGION,
    accounts: accounts.map(({ accountId, accessKeyId, accessKeySecret }) => ({ accountId, accessKeyId, accessKeySecret })),
    zones: world.zones.map((zoneId) => ({ zoneId, categories: CATEGORIES })),
    // A real cloud's durations, a hundred times faster: the demo shows progress without waiting.
    timeScale: 0.01,
    ...world.overrides,
    persistFile: join(dir, "ecs-world.json"),
  };
  const configFile = join(dir, "ecs-emulator.json");
  writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
  const emulator = startProcess("ecs-emulator", process.execPath, [join(REPO, "emulator/ecs/main.ts"), "--port", String(port), "--config", configFile], { logFile: join(dir, "ecs-emulator.log"), detached: true });
  started.push(emulator);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/_emulator/health`)).ok, 20_000, () => `the ECS emulator did not start:\n${emulator.tail()}`, emulator);
  return { url, endpoint: `127.0.0.1:${port}`, own: accounts[0]!, accountsFile, zones: world.zones };
}

/**
 * The emulator of the sandbox in `from`, as its account `options.account`: read from that
 * sandbox's state, checked to answer. Nothing of it is started or, at `down`, stopped here.
 */
async function joinEmulator(from: string, options: UpOptions): Promise<EcsSide> {
  if (options.accounts !== undefined || options.emulator !== undefined) throw new Error(`the emulator is the sandbox's in ${from}: set its accounts and configuration when starting that one`);
  const first = readState(from)?.env ?? {};
  const url = first["ECS_EMULATOR_URL"];
  const accountsFile = first["SANDBOX_ACCOUNTS_FILE"];
  if (url === undefined || accountsFile === undefined) throw new Error(`no sandbox is up in ${from} (or it predates accounts): start it first, with --accounts 2 to give this one an account of its own`);
  const health = await fetch(`${url}/_emulator/health`).then((response) => response.ok, () => false);
  if (!health) throw new Error(`the ECS emulator of the sandbox in ${from} does not answer at ${url}`);
  const accounts = JSON.parse(readFileSync(accountsFile, "utf8")) as SandboxAccount[];
  const wanted = options.account ?? 1;
  const own = accounts.find((candidate) => candidate.account === wanted);
  if (own === undefined) throw new Error(`the emulator of the sandbox in ${from} serves accounts 1 to ${accounts.length}, not ${wanted}; start that sandbox with --accounts ${wanted}`);
  const emulated = (await (await fetch(`${url}/_emulator/state`)).json()) as { config: { zones: { zoneId: string }[] } };
  return { url, endpoint: first["ECS_ENDPOINT"] ?? new URL(url).host, own, accountsFile, zones: emulated.config.zones.map((zone) => zone.zoneId) };
}

async function startWebhook(dir: string, env: Readonly<Record<string, string>>, started: Managed[], clientCaFile: string): Promise<{ url: string; caFile: string }> {
  const certDir = join(dir, "webhook-certs");
  execFileSync("bash", [join(REPO, "certs/make-certs.sh"), "--out", certDir, "--ip", "127.0.0.1", "--dns", "localhost", "--days", "30"], { stdio: "ignore" });
  const port = await freePort();
  const webhook = startNode("webhook", "webhook/main.ts", dir, {
    ...env,
    WEBHOOK_PORT: String(port),
    WEBHOOK_TLS_CERT: join(certDir, "tls.crt"),
    WEBHOOK_TLS_KEY: join(certDir, "tls.key"),
    WEBHOOK_CLIENT_CA_FILE: clientCaFile,
  });
  started.push(webhook);
  const url = `https://127.0.0.1:${port}`;
  const caFile = join(certDir, "ca.crt");
  await waitFor(() => webhookReady(url, caFile), 30_000, () => `zoneferry's webhook did not become ready:\n${webhook.tail()}`, webhook);
  return { url, caFile };
}

async function webhookReady(url: string, caFile: string): Promise<boolean> {
  const { request } = await import("node:https");
  return new Promise((resolve) => {
    const req = request(`${url}/readyz`, { ca: readFileSync(caFile), timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once("error", () => { resolve(false); });
    req.once("timeout", () => { req.destroy(); });
    req.end();
  });
}
