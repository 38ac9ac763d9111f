/**
 * Scale benchmark: the webhook's informer view over a large cluster in a real kube-apiserver and
 * etcd. Loads 5,000 Nodes, 50,000 PVCs and 50,000 PVs (× --scale; bench/scale-load.ts says how),
 * then starts the view in a child process per mode and prints its time to synced() and its
 * memory: the view as it was (whole objects, one list request per resource), with each object
 * reduced to what the checks read, reduced with lists in pages (the webhook as shipped), and the
 * last in a Node started with --optimize-for-size, against the aims (RSS < 300 MiB, ready < 30 s).
 *
 *   npm run bench:scale -- [--scale 1.0] [--load etcd|api] [--concurrency 32] [--modes whole,stripped,paged,paged-small-heap]
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { RequestOptions } from "node:https";
import { KubeConfig } from "@kubernetes/client-node";
import { controlPlaneBinaries, startControlPlane, type ControlPlane } from "../sandbox/control-plane.ts";
import { ApiClient, loadIntoEtcd, loadThroughApi, served, type Loaded, type Target } from "./scale-load.ts";

const { values } = parseArgs({
  options: {
    scale: { type: "string", default: "1.0" },
    load: { type: "string", default: "etcd" },
    concurrency: { type: "string", default: "32" },
    modes: { type: "string", default: "whole,stripped,paged,paged-small-heap" },
  },
});
const SCALE = Number(values.scale);
const CONCURRENCY = Number(values.concurrency);
const MODES = values.modes.split(",");
const TARGET: Target = { nodes: Math.round(5_000 * SCALE), claims: Math.round(50_000 * SCALE) };
/** Loading through the API stops here, and one view's run is killed here: the bench ends well within 10 minutes. */
const LOAD_BUDGET_MS = 240_000;
const CHILD_TIMEOUT_MS = 120_000;
const AIMS = { rssMiB: 300, readyS: 30 } as const;

interface ViewRun {
  readonly mode: string;
  readonly readyMs: number;
  readonly rssIdleMiB: number;
  readonly rssSyncedMiB: number;
  readonly heapSyncedMiB: number;
  readonly peakRssMiB: number;
  readonly rssAfterGcMiB?: number;
  readonly heapAfterGcMiB?: number;
  readonly answers: boolean;
}

/**
 * Node's flags per mode, beyond --expose-gc. paged-small-heap is the shipped view in a process
 * whose V8 favours memory over speed (smaller young generation, slower heap growth): not how the
 * image starts the webhook, measured to tell how much of the RSS is garbage V8 lets accumulate.
 */
const NODE_FLAGS: Readonly<Record<string, readonly string[]>> = { "paged-small-heap": ["--optimize-for-size"] };

/** One mode's view in a child process, with --expose-gc; killed if it has not answered in time. */
function runView(plane: ControlPlane, mode: string, loaded: Loaded): Promise<ViewRun> {
  const args = ["--expose-gc", ...(NODE_FLAGS[mode] ?? []), join(import.meta.dirname, "scale-view-child.ts"), plane.kubeconfig, mode, String(loaded.claims), String(loaded.nodes)];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the ${mode} view did not finish within ${CHILD_TIMEOUT_MS / 1000} s`));
    }, CHILD_TIMEOUT_MS);
    child.stdout.on("data", (chunk: Buffer) => { out += chunk.toString(); });
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out.trim()) as ViewRun);
      else reject(new Error(`the ${mode} view exited with ${code}`));
    });
  });
}

const LABELS: Readonly<Record<string, string>> = {
  whole: "whole objects, one list",
  stripped: "reduced, one list",
  paged: "reduced, pages of 500",
  "paged-small-heap": "the same, V8 for size",
};

function report(runs: readonly ViewRun[], loaded: Loaded): void {
  const fixed = (value: number | undefined, digits = 0): string => (value === undefined ? "-" : value.toFixed(digits));
  const cells = (cellsOf: readonly string[]): string => cellsOf.map((cell, index) => (index === 0 ? cell.padEnd(24) : cell.padStart(11))).join(" ");
  const reached = loaded.claims / 50_000;
  console.log(`scale benchmark: the webhook's informer view of ${loaded.nodes} Nodes, ${loaded.claims} PVCs, ${loaded.claims} PVs (scale ${reached.toFixed(2)}) in kube-apiserver + etcd`);
  const how = values.load === "etcd" ? `${loaded.requests} API requests, ${loaded.transactions} etcd transactions` : `${loaded.requests} API requests, ${CONCURRENCY} in flight, ${(loaded.requests / (loaded.ms / 1000)).toFixed(0)}/s`;
  console.log(`loaded (--load ${values.load}) in ${(loaded.ms / 1000).toFixed(1)} s: ${how}`);
  if (loaded.claims < TARGET.claims) console.log(`loading through the API reached scale ${reached.toFixed(2)} of ${SCALE} within its ${LOAD_BUDGET_MS / 1000} s budget: the figures are at that scale (--load etcd reaches the full scale)`);
  console.log(cells(["view", "ready s", "peak RSS", "RSS synced", "RSS GC'd", "heap GC'd", "answers"]));
  for (const run of runs) {
    console.log(cells([LABELS[run.mode] ?? run.mode, fixed(run.readyMs / 1000, 1), fixed(run.peakRssMiB), fixed(run.rssSyncedMiB), fixed(run.rssAfterGcMiB), fixed(run.heapAfterGcMiB), run.answers ? "yes" : "NO"]));
  }
  console.log(`(MiB; the same process before the view starts: ${fixed(runs[0]?.rssIdleMiB)} MiB RSS)`);
  const whole = runs.find((run) => run.mode === "whole");
  const ratio = (ours: number | undefined, theirs: number | undefined): string => (ours === undefined || theirs === undefined ? "-" : `${(ours / theirs).toFixed(2)}x`);
  for (const run of runs.filter((candidate) => whole !== undefined && candidate !== whole)) {
    console.log(`ratio ${run.mode}/whole: peak RSS ${ratio(run.peakRssMiB, whole?.peakRssMiB)}, RSS GC'd ${ratio(run.rssAfterGcMiB, whole?.rssAfterGcMiB)}, heap GC'd ${ratio(run.heapAfterGcMiB, whole?.heapAfterGcMiB)}, ready ${ratio(run.readyMs, whole?.readyMs)}`);
  }
  const shipped = runs.find((run) => run.mode === "paged");
  if (shipped !== undefined) {
    const meets = (held: boolean): string => (held ? "met" : "MISSED");
    console.log(`aims, the webhook as shipped (reduced, paged): peak RSS ${fixed(shipped.peakRssMiB)} < ${AIMS.rssMiB} MiB ${meets(shipped.peakRssMiB < AIMS.rssMiB)}; ready ${fixed(shipped.readyMs / 1000, 1)} < ${AIMS.readyS} s ${meets(shipped.readyMs / 1000 < AIMS.readyS)}`);
  }
}

/** Until the API server serves every object loaded (its watch cache reads etcd's writes a moment later). */
async function untilServed(api: ApiClient, loaded: Loaded): Promise<void> {
  const expected = [loaded.nodes, loaded.claims, loaded.claims].join(", ");
  const deadline = Date.now() + 60_000;
  for (;;) {
    const counts = (await Promise.all(["/api/v1/nodes", "/api/v1/persistentvolumeclaims", "/api/v1/persistentvolumes"].map((path) => served(api, path)))).join(", ");
    if (counts === expected) return;
    if (Date.now() > deadline) throw new Error(`the API server serves ${counts} nodes, claims and volumes after 60 s, not the ${expected} loaded`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function main(): Promise<void> {
  if (!(SCALE > 0) || !["api", "etcd"].includes(values.load)) throw new Error("--scale must be a positive number and --load api or etcd");
  const plane = await startControlPlane(controlPlaneBinaries(process.env));
  try {
    const kubeconfig = new KubeConfig();
    kubeconfig.loadFromFile(plane.kubeconfig);
    const tls: RequestOptions = {};
    await kubeconfig.applyToHTTPSOptions(tls);
    const api = new ApiClient(plane.server, tls, CONCURRENCY);
    let loaded: Loaded;
    try {
      loaded = values.load === "etcd" ? await loadIntoEtcd(api, plane.etcdUrl, TARGET, CONCURRENCY) : await loadThroughApi(api, TARGET, LOAD_BUDGET_MS, CONCURRENCY);
      await untilServed(api, loaded);
    } finally {
      api.close();
    }
    const runs: ViewRun[] = [];
    for (const mode of MODES) runs.push(await runView(plane, mode, loaded));
    report(runs, loaded);
  } finally {
    await plane.stop();
  }
}

await main();
