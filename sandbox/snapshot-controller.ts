/**
 * The CSI external-snapshotter's snapshot-controller against a sandbox's API server: the binary
 * scripts/snapshot-controller/build.sh builds from its Go module (cached), the snapshot CRDs it
 * serves, and a VolumeSnapshotClass for the disk CSI driver, as ACK installs them. The controller
 * binds VolumeSnapshots to VolumeSnapshotContents; the sandbox's disk provisioner plays the driver's
 * part (checking pre-provisioned contents against ECS, making disks from snapshots). Started by
 * `sandbox up --snapshots`, since only restores need it.
 */
import { execFile, execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { DISK_CSI_DRIVER } from "../core/disk-volumes.ts";
import { freePort, startProcess, waitFor, type Managed } from "./processes.ts";

const run = promisify(execFile);
const REPO = join(import.meta.dirname, "..");
/** The class the restore's contents and snapshots name, as ACK's alicloud-disk-snapshot. */
export const SNAPSHOT_CLASS = "alicloud-disk-snapshot";

/** The folder of snapshot-controller and crds/: ZONEFERRY_SNAPSHOTTER when set, else built (or found) in the cache. */
export function snapshotControllerBinaries(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const given = env["ZONEFERRY_SNAPSHOTTER"];
  if (given !== undefined && given !== "") return given;
  return execFileSync("bash", [join(REPO, "scripts/snapshot-controller/build.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").at(-1)!;
}

export interface SnapshotControllerOptions {
  readonly kubeconfig: string;
  readonly kubectl: string;
  /** Its log goes here. */
  readonly dir: string;
  /** Outlive the caller (the sandbox CLI returns while its parts run on). */
  readonly detached?: boolean;
}

/** Installs the CRDs and the class, starts the controller, and resolves once it serves. */
export async function startSnapshotController(options: SnapshotControllerOptions): Promise<Managed> {
  const bin = snapshotControllerBinaries();
  const kubectl = (...args: string[]): Promise<unknown> => run(options.kubectl, args, { env: { ...process.env, KUBECONFIG: options.kubeconfig } });
  await kubectl("apply", "--server-side", "-f", join(bin, "crds"));
  await kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", join(bin, "crds"));
  const classFile = join(options.dir, "volume-snapshot-class.yaml");
  writeFileSync(classFile, `apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshotClass
metadata: {name: ${SNAPSHOT_CLASS}}
driver: ${DISK_CSI_DRIVER}
deletionPolicy: Retain
`);
  await kubectl("apply", "-f", classFile);
  const endpoint = `127.0.0.1:${await freePort()}`;
  const controller = startProcess("snapshot-controller", join(bin, "snapshot-controller"), [
    `--kubeconfig=${options.kubeconfig}`, "--leader-election=false", `--http-endpoint=${endpoint}`, "--worker-threads=4", "--v=2",
  ], { logFile: join(options.dir, "snapshot-controller.log"), detached: options.detached === true });
  // Its metrics endpoint answers once the controller runs.
  await waitFor(async () => (await fetch(`http://${endpoint}/metrics`).catch(() => undefined))?.ok === true, 60_000, () => `snapshot-controller not serving: ${controller.tail()}`, controller);
  return controller;
}
