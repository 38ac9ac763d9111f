/**
 * A real Kubernetes control plane on loopback: etcd and kube-apiserver built from the Go module
 * proxy (scripts/control-plane/build.sh). Tests and the sandbox start it the same way. Admission
 * webhooks are on (the API server's defaults), authentication is by client certificate, both
 * ways: the API server presents a client certificate of its own CA to every webhook it calls
 * (an admission configuration, as a hardened cluster has), so a webhook can check its caller.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClientCa, createPki, writeKubeconfig, type ClientCert, type Pki } from "./pki.ts";
import { freePort, startProcess, waitFor, type Managed } from "./processes.ts";

export interface ControlPlaneOptions {
  /** Folder for data, certificates and logs; a temporary one (removed on stop) when absent. */
  readonly dir?: string;
  /** Processes outlive the caller (the sandbox CLI). */
  readonly detached?: boolean;
}

export interface ControlPlane {
  readonly dir: string;
  /** The running processes, in start order. */
  processes(): readonly Managed[];
  readonly binDir: string;
  readonly server: string;
  /** etcd's client URL (plain HTTP on loopback): the scale benchmark writes its bulk there. */
  readonly etcdUrl: string;
  readonly pki: Pki;
  /** Kubeconfig of the admin (group system:masters). */
  readonly kubeconfig: string;
  /** The CA of the client certificate the API server presents to webhooks (WEBHOOK_CLIENT_CA_FILE). */
  readonly webhookClientCaFile: string;
  /** Writes a kubeconfig for another user (groups decide what RBAC lets it do). */
  kubeconfigFor(user: string, groups?: readonly string[]): string;
  /** Stops and starts kube-apiserver on the same port: every open watch breaks. */
  restartApiServer(): Promise<void>;
  stop(): Promise<void>;
}

const REPO = join(import.meta.dirname, "..");

/** The folder of control-plane binaries: ZONEFERRY_K8S_BIN when set, else built (or found) in the cache. */
export function controlPlaneBinaries(env: Readonly<Record<string, string | undefined>>): string {
  const given = env["ZONEFERRY_K8S_BIN"];
  if (given !== undefined && given !== "") return given;
  const output = execFileSync("bash", [join(REPO, "scripts/control-plane/build.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  return output.trim().split("\n").at(-1)!;
}

export async function startControlPlane(binDir: string, options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "zf-cp-"));
  mkdirSync(dir, { recursive: true });
  const spawnOptions = { detached: options.detached === true };
  const pkiDir = join(dir, "pki");
  mkdirSync(pkiDir);
  const pki = createPki(pkiDir);
  const admin = pki.client("zoneferry-admin", ["system:masters"]);
  const webhookClientCa = createClientCa(join(pkiDir, "webhook-client"), "zoneferry-sandbox-webhook-client-ca");
  const admissionConfig = writeAdmissionConfig(dir, webhookClientCa.client("kube-apiserver"));
  const kubeconfig = join(dir, "admin.kubeconfig");
  // A start that fails (a port taken between claim and bind) stops what it started and tries
  // again on new ports: nothing may outlive a failed start and keep a test file's process alive.
  let started: Started | undefined;
  for (let attempt = 1; started === undefined; attempt++) {
    try {
      started = await startOnce(binDir, dir, { pki, admin, admissionConfig }, spawnOptions);
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
  const { etcd, startApiServer, server, etcdUrl } = started;
  let apiServer: Managed | undefined = started.apiServer;
  writeKubeconfig(kubeconfig, { server, caFile: pki.caFile, client: admin, user: "zoneferry-admin" });

  return {
    dir,
    binDir,
    server,
    etcdUrl,
    pki,
    kubeconfig,
    webhookClientCaFile: webhookClientCa.caFile,
    processes: () => (apiServer === undefined ? [etcd] : [etcd, apiServer]),
    kubeconfigFor(user, groups = []) {
      const file = join(dir, `${user.replace(/[^A-Za-z0-9_.-]/g, "_")}.kubeconfig`);
      writeKubeconfig(file, { server, caFile: pki.caFile, client: pki.client(user, groups), user });
      return file;
    },
    async restartApiServer() {
      await apiServer?.stop();
      apiServer = undefined;
      apiServer = await startApiServer();
    },
    async stop() {
      // The API server first: stopped together, both wait out long shutdown timeouts.
      await apiServer?.stop();
      await etcd.stop();
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The API server's admission configuration: the webhook admission plugins authenticate to every
 * webhook with `client` (user "*" of their kubeconfig matches any webhook's host:port; the
 * sandbox's webhook port is chosen after the API server starts). Returns the file to pass.
 */
function writeAdmissionConfig(dir: string, client: ClientCert): string {
  const kubeconfigFile = join(dir, "webhook-client.kubeconfig");
  const b64 = (path: string): string => readFileSync(path).toString("base64");
  writeFileSync(kubeconfigFile, JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    users: [{ name: "*", user: { "client-certificate-data": b64(client.certFile), "client-key-data": b64(client.keyFile) } }],
  }, null, 2), { mode: 0o600 });
  const plugin = (name: string): object => ({
    name,
    configuration: { apiVersion: "apiserver.config.k8s.io/v1", kind: "WebhookAdmissionConfiguration", kubeConfigFile: kubeconfigFile },
  });
  const file = join(dir, "admission-configuration.json");
  writeFileSync(file, JSON.stringify({
    apiVersion: "apiserver.config.k8s.io/v1",
    kind: "AdmissionConfiguration",
    plugins: [plugin("ValidatingAdmissionWebhook"), plugin("MutatingAdmissionWebhook")],
  }, null, 2));
  return file;
}

interface Credentials {
  readonly pki: Pki;
  readonly admin: ClientCert;
  readonly admissionConfig: string;
}

interface Started {
  readonly etcd: Managed;
  readonly startApiServer: () => Promise<Managed>;
  readonly apiServer: Managed;
  readonly server: string;
  readonly etcdUrl: string;
}

/** One try at etcd and kube-apiserver on fresh ports; on failure both are stopped. */
async function startOnce(binDir: string, dir: string, { pki, admin, admissionConfig }: Credentials, spawnOptions: { detached: boolean }): Promise<Started> {
  const pkiDir = join(dir, "pki");
  const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
  const server = `https://127.0.0.1:${apiPort}`;

  const etcd = startProcess("etcd", join(binDir, "etcd"), [
    "--name=zoneferry", `--data-dir=${join(dir, "etcd")}`,
    `--listen-client-urls=http://127.0.0.1:${etcdClient}`, `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-cluster=zoneferry=http://127.0.0.1:${etcdPeer}`,
    // A throw-away cluster: durability costs seconds per write on a busy disk and buys nothing.
    "--unsafe-no-fsync", "--log-level=warn",
  ], { logFile: join(dir, "etcd.log"), ...spawnOptions });

  const apiServerArgs = [
    `--etcd-servers=http://127.0.0.1:${etcdClient}`,
    "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", `--secure-port=${apiPort}`, `--cert-dir=${pkiDir}`,
    `--tls-cert-file=${pki.apiServer.certFile}`, `--tls-private-key-file=${pki.apiServer.keyFile}`,
    `--client-ca-file=${pki.caFile}`,
    `--service-account-issuer=${server}`, `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    "--service-cluster-ip-range=10.0.0.0/24", "--authorization-mode=RBAC", "--allow-privileged=true",
    // No token controller runs here; pods use no service account tokens.
    "--disable-admission-plugins=ServiceAccount",
    `--admission-control-config-file=${admissionConfig}`,
  ];
  const startApiServer = async (): Promise<Managed> => {
    const started = startProcess("kube-apiserver", join(binDir, "kube-apiserver"), apiServerArgs, { logFile: join(dir, "apiserver.log"), ...spawnOptions });
    try {
      await waitFor(() => ready(server, pki, admin), 60_000, () => `kube-apiserver not ready within 60s:\n${started.tail()}\netcd:\n${etcd.tail(5)}`, [started, etcd]);
    } catch (error) {
      await started.stop(2_000);
      throw error;
    }
    return started;
  };
  try {
    return { etcd, startApiServer, apiServer: await startApiServer(), server, etcdUrl: `http://127.0.0.1:${etcdClient}` };
  } catch (error) {
    await etcd.stop(2_000);
    // A member bootstrapped on the old peer port would refuse the next try's flags.
    rmSync(join(dir, "etcd"), { recursive: true, force: true });
    throw error;
  }
}

function ready(server: string, pki: Pki, client: { certFile: string; keyFile: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${server}/readyz`, { ca: readFileSync(pki.caFile), cert: readFileSync(client.certFile), key: readFileSync(client.keyFile), timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once("error", () => { resolve(false); });
    req.once("timeout", () => { req.destroy(); });
    req.end();
  });
}
