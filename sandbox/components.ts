/**
 * The rest of a working cluster around etcd and kube-apiserver: kube-controller-manager with the
 * controllers StatefulSets, PV binding, PVC/PV protection, garbage collection, node life cycle and
 * PodDisruptionBudgets (the Eviction API reads their status) need; kube-scheduler; and kwok, which
 * plays the kubelet for fake nodes (Ready nodes, Running pods, no containers).
 */
import { existsSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import type { ControlPlane } from "./control-plane.ts";
import { freePort, startProcess, waitFor, type Managed } from "./processes.ts";

/** What the migration relies on; the attach/detach controller is left out (kwok nodes have no kubelet). */
const CONTROLLERS = [
  "statefulset",
  "replicaset",
  "deployment",
  "job",
  "persistentvolume-binder",
  "pvc-protection",
  "pv-protection",
  "garbagecollector",
  "nodelifecycle",
  "namespace",
  "serviceaccount",
  // Keeps PodDisruptionBudgets' status: without it every eviction of a covered pod answers 429.
  "disruption",
];

export async function startControllerManager(plane: ControlPlane, detached = false): Promise<Managed> {
  const port = await freePort();
  const managed = startProcess("kube-controller-manager", join(plane.binDir, "kube-controller-manager"), [
    `--kubeconfig=${plane.kubeconfig}`,
    // One instance and quick restarts: no lease to wait out.
    "--leader-elect=false",
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    `--controllers=${CONTROLLERS.join(",")}`,
    "--use-service-account-credentials=false",
    `--service-account-private-key-file=${plane.pki.serviceAccountKey}`,
    `--root-ca-file=${plane.pki.caFile}`,
    "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
    // kwok nodes stop heartbeating only when the sandbox stops; keep evictions away meanwhile.
    "--node-monitor-grace-period=120s",
  ], { logFile: join(plane.dir, "kube-controller-manager.log"), detached });
  await waitFor(() => healthy(port), 60_000, () => `kube-controller-manager not healthy within 60s:\n${managed.tail()}`, managed);
  return managed;
}

export async function startScheduler(plane: ControlPlane, detached = false): Promise<Managed> {
  const port = await freePort();
  const managed = startProcess("kube-scheduler", join(plane.binDir, "kube-scheduler"), [
    `--kubeconfig=${plane.kubeconfig}`,
    "--leader-elect=false",
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
  ], { logFile: join(plane.dir, "kube-scheduler.log"), detached });
  await waitFor(() => healthy(port), 60_000, () => `kube-scheduler not healthy within 60s:\n${managed.tail()}`, managed);
  return managed;
}

/** kwok >= 0.8 ships no built-in stages: build.sh writes them beside the binaries. */
export function kwokStagesFile(binDir: string): string {
  const file = join(binDir, "..", "kwok-stages.yaml");
  if (!existsSync(file)) throw new Error(`kwok stages not found at ${file}; run scripts/control-plane/build.sh`);
  return file;
}

export function startKwok(plane: ControlPlane, detached = false): Managed {
  return startProcess("kwok", join(plane.binDir, "kwok"), [
    `--config=${kwokStagesFile(plane.binDir)}`,
    `--kubeconfig=${plane.kubeconfig}`,
    "--manage-all-nodes=false",
    "--manage-nodes-with-label-selector=type=kwok",
    "--cidr=10.0.0.1/24",
    "--node-ip=10.0.0.1",
    "--node-lease-duration-seconds=40",
  ], { logFile: join(plane.dir, "kwok.log"), detached });
}

function healthy(port: number): Promise<boolean> {
  // Their serving certificates are self-signed in memory: only liveness is asked, over loopback.
  return new Promise((resolve) => {
    const req = request(`https://127.0.0.1:${port}/healthz`, { rejectUnauthorized: false, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once("error", () => { resolve(false); });
    req.once("timeout", () => { req.destroy(); });
    req.end();
  });
}
