/**
 * Flux's source-controller and kustomize-controller against a sandbox's API server, for the
 * GitOps end-to-end test (test/e2e/flux-sync.e2e.test.ts): the binaries scripts/flux/build.sh
 * builds from their Go modules (cached), their CRDs installed, both run as processes of the
 * caller (no leader election, their servers on 127.0.0.1), watching every namespace. Flux
 * applies as the sandbox's admin, so its writes go through zoneferry's webhooks as a user's
 * GitOps tool's do. Started by the test that needs it, never by `sandbox up`.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, startProcess, waitFor, type Managed } from "./processes.ts";

const run = promisify(execFile);
const REPO = join(import.meta.dirname, "..");
export const FLUX_NAMESPACE = "flux-system";

/** The folder of the controllers and their CRDs: ZONEFERRY_FLUX when set, else built (or found) in the cache. */
export function fluxBinaries(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const given = env["ZONEFERRY_FLUX"];
  if (given !== undefined && given !== "") return given;
  return execFileSync("bash", [join(REPO, "scripts/flux/build.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").at(-1)!;
}

export interface FluxOptions {
  readonly kubeconfig: string;
  readonly kubectl: string;
  /** Logs and the source-controller's artifact storage go here. */
  readonly dir: string;
}

export interface Flux {
  readonly sourceController: Managed;
  readonly kustomizeController: Managed;
  stop(): Promise<void>;
}

export async function startFlux(options: FluxOptions): Promise<Flux> {
  const bin = fluxBinaries();
  const kubectl = (...args: string[]): Promise<unknown> => run(options.kubectl, args, { env: { ...process.env, KUBECONFIG: options.kubeconfig } });
  // Server-side: these CRDs are too large for client-side apply's last-applied annotation.
  await kubectl("apply", "--server-side", "-f", join(bin, "crds"));
  await kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", join(bin, "crds"));
  await kubectl("create", "namespace", FLUX_NAMESPACE);
  mkdirSync(join(options.dir, "storage"), { recursive: true });
  const storage = `127.0.0.1:${await freePort()}`;
  const env = { ...process.env, KUBECONFIG: options.kubeconfig, RUNTIME_NAMESPACE: FLUX_NAMESPACE } as Record<string, string>;
  const common = async (): Promise<{ args: string[]; health: string }> => {
    const health = `127.0.0.1:${await freePort()}`;
    return { health, args: [`--metrics-addr=127.0.0.1:${await freePort()}`, `--health-addr=${health}`, "--log-level=info", "--concurrent=4"] };
  };
  const source = await common();
  const sourceController = startProcess("source-controller", join(bin, "source-controller"), [
    ...source.args, `--storage-path=${join(options.dir, "storage")}`, `--storage-addr=${storage}`, `--storage-adv-addr=${storage}`,
  ], { logFile: join(options.dir, "source-controller.log"), env });
  const kustomize = await common();
  const kustomizeController = startProcess("kustomize-controller", join(bin, "kustomize-controller"), kustomize.args, { logFile: join(options.dir, "kustomize-controller.log"), env });
  const stop = async (): Promise<void> => { await Promise.all([sourceController.stop(), kustomizeController.stop()]); };
  try {
    for (const [managed, health] of [[sourceController, source.health], [kustomizeController, kustomize.health]] as const) {
      await waitFor(async () => (await fetch(`http://${health}/readyz`).catch(() => undefined))?.ok === true, 60_000, () => `${managed.name} not ready: ${managed.tail()}`, managed);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { sourceController, kustomizeController, stop };
}
