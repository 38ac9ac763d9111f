/**
 * Strategy Rolling on the sandbox, for StatefulSets of 3, 8 and 16 replicas by default (one 20 GiB
 * ESSD each, podManagementPolicy Parallel, a PodDisruptionBudget of maxUnavailable 1 as
 * docs/gitops.md advises), each size measured in the same run:
 *   - the fewest Ready replicas during the Rolling migration (annotation → status Succeeded), from
 *     a watch of the pods: one replica at a time means N-1, and anything else is flagged;
 *   - each replica's unavailability window, from the watch event that showed its pod leave Ready
 *     (evicted: marked for deletion) to the one that showed its replacement Ready: min, median and
 *     max against the floor, one volume's snapshot-and-disk pipeline (the slowest of three, as the
 *     Recreate benchmark times it) plus one pod's restart (one pod deleted, timed by the same watch
 *     until its replacement is Ready). max window / floor is flagged above 1.2×;
 *   - the Rolling migration's total time (annotation → Succeeded) against a Recreate migration of
 *     an identical StatefulSet of the same size: Recreate's total and its downtime (replicas below
 *     N until all N Ready, as bench/migration-bench.ts measures it);
 *   - each migration's ECS calls and how many were throttled.
 * The sandbox, latency model and rates are bench/migration-bench.ts's (see its header).
 *
 *   npm run bench:migration -- --strategy Rolling [--sizes 3,8,16] [--keep]
 */
import { PolicyV1Api } from "@kubernetes/client-node";
import { FROM, NS, SCALE, TO, seconds, type Bench } from "./migration-sandbox.ts";
import { ReadyWatch } from "./ready-watch.ts";

const ROLLING = { "zoneferry.io/strategy": "Rolling", "zoneferry.io/ready-timeout": "2m" };
const AIM = 1.2;

interface Migration {
  readonly status: string;
  readonly totalMs: number;
  readonly calls: number;
  readonly throttled: number;
}

interface RollingRow {
  readonly replicas: number;
  readonly pipelineMs: number;
  readonly restartMs: number;
  readonly fewest: number;
  /** Every unavailability the watch saw during the migration, in the order they began. */
  readonly windows: readonly { readonly pod: string; readonly ms: number | undefined }[];
  readonly rolling: Migration;
  readonly recreate: Migration & { readonly downtimeMs: number };
}

/** N replicas in FROM, Ready, their disks attached, under a PodDisruptionBudget of maxUnavailable 1. */
async function create(bench: Bench, name: string, replicas: number): Promise<string[]> {
  await bench.kubeconfig.makeApiClient(PolicyV1Api).createNamespacedPodDisruptionBudget({ namespace: NS, body: { metadata: { name }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: name } } } } });
  await bench.create(name, replicas);
  return bench.disksInUse(name, replicas);
}

/** One pod deleted, until the watch sees its replacement Ready. */
async function podRestart(bench: Bench, name: string, replicas: number): Promise<number> {
  const watch = await ReadyWatch.start(bench.kubeconfig, NS, name, replicas);
  try {
    await bench.core.deleteNamespacedPod({ namespace: NS, name: `${name}-${replicas - 1}` });
    return await watch.closedWindow(`${name}-${replicas - 1}`, 120_000);
  } finally {
    watch.stop();
  }
}

async function rollingMigration(bench: Bench, name: string, replicas: number): Promise<Pick<RollingRow, "fewest" | "windows" | "rolling">> {
  await bench.clearRequestLog();
  const watch = await ReadyWatch.start(bench.kubeconfig, NS, name, replicas);
  let ended: { status: string; endedAt: number };
  let annotatedAt: number;
  try {
    annotatedAt = await bench.annotate(name, ROLLING);
    ended = await bench.ended(name);
  } finally {
    watch.stop();
  }
  const windows = watch.windows().map((window) => ({ pod: window.pod, ms: window.toMs === undefined ? undefined : window.toMs - window.fromMs }));
  return { fewest: watch.fewest(), windows, rolling: { status: ended.status, totalMs: ended.endedAt - annotatedAt, ...(await bench.throttled()) } };
}

async function measure(bench: Bench, replicas: number): Promise<RollingRow> {
  const name = `roll${replicas}`;
  process.stdout.write(`[bench] ${replicas} replicas: creating`);
  const disks = await create(bench, name, replicas);
  process.stdout.write(", floor");
  const pipelineMs = Math.max(await bench.pipeline(disks[0]!), await bench.pipeline(disks[0]!), await bench.pipeline(disks[0]!));
  const restartMs = await podRestart(bench, name, replicas);
  await bench.disksInUse(name, replicas);
  await bench.cleanUp();
  process.stdout.write(", Rolling");
  const rolling = await rollingMigration(bench, name, replicas);
  process.stdout.write(", Recreate of the same size\n");
  const reference = `recr${replicas}`;
  await create(bench, reference, replicas);
  await bench.clearRequestLog();
  const { downtimeMs, totalMs, status } = await bench.migrate(reference, replicas);
  return { replicas, pipelineMs, restartMs, ...rolling, recreate: { status, totalMs, downtimeMs, ...(await bench.throttled()) } };
}

function median(sorted: readonly number[]): number {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** What is not as a one-at-a-time move should be: fewer than N-1 Ready, a pod down twice or never back, a window over the aim. */
function flags(row: RollingRow): string[] {
  const found: string[] = [];
  if (row.fewest !== row.replicas - 1) found.push(`the fewest Ready was ${row.fewest}, not ${row.replicas - 1}`);
  const pods = row.windows.map((window) => window.pod);
  const twice = pods.filter((pod, index) => pods.indexOf(pod) !== index);
  if (twice.length > 0) found.push(`more than one window for ${[...new Set(twice)].join(", ")}`);
  if (new Set(pods).size !== row.replicas) found.push(`${new Set(pods).size} of ${row.replicas} pods were ever down`);
  const open = row.windows.filter((window) => window.ms === undefined).map((window) => window.pod);
  if (open.length > 0) found.push(`not Ready again when the migration ended: ${open.join(", ")}`);
  const closed = row.windows.flatMap((window) => window.ms ?? []);
  if (closed.length > 0 && Math.max(...closed) / (row.pipelineMs + row.restartMs) > AIM) found.push(`the longest window is over ${AIM}× the floor`);
  if (row.rolling.status !== "Succeeded" || row.recreate.status !== "Succeeded") found.push(`a migration did not succeed (Rolling ${row.rolling.status}, Recreate ${row.recreate.status})`);
  return found;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): void {
  for (const cells of [header, ...rows]) console.log(cells.map((cell) => cell.padStart(15)).join(""));
}

function print(rows: readonly RollingRow[]): void {
  console.log(`\nStrategy Rolling (one 20 GiB ESSD per replica, podManagementPolicy Parallel, PodDisruptionBudget maxUnavailable 1, ${FROM} → ${TO}; cloud durations × ${SCALE})`);
  console.log("Availability: the fewest Ready replicas during the move, and each replica's unavailability window against the floor");
  table(["replicas", "fewest Ready", "floor s", "window min s", "median s", "max s", "max/floor", "status"], rows.map((row) => {
    const closed = row.windows.flatMap((window) => window.ms ?? []).sort((a, b) => a - b);
    const floor = row.pipelineMs + row.restartMs;
    const spread = closed.length === 0 ? ["-", "-", "-", "-"] : [seconds(closed[0]!), seconds(median(closed)), seconds(closed.at(-1)!), `${(closed.at(-1)! / floor).toFixed(2)}×`];
    return [String(row.replicas), `${row.fewest}${row.fewest === row.replicas - 1 ? "" : " (!)"}`, seconds(floor), ...spread, row.rolling.status];
  }));
  console.log("Time: the Rolling migration against a Recreate migration of an identical StatefulSet, annotation → Succeeded");
  table(["replicas", "Rolling s", "Recreate s", "Rolling/Recr.", "Recr. down s", "Recr. status", "calls R/Rc", "throttled R/Rc"], rows.map((row) => [
    String(row.replicas), seconds(row.rolling.totalMs), seconds(row.recreate.totalMs), `${(row.rolling.totalMs / row.recreate.totalMs).toFixed(2)}×`, seconds(row.recreate.downtimeMs), row.recreate.status,
    `${row.rolling.calls}/${row.recreate.calls}`, `${row.rolling.throttled}/${row.recreate.throttled}`,
  ]));
  console.log("floor = slowest single-volume pipeline + one pod's restart (deleted → its replacement Ready); window = a replica's pod leaving Ready → its replacement Ready, both from a pod watch");
  for (const row of rows) {
    const windows = row.windows.map((window) => `${window.pod} ${window.ms === undefined ? "open" : seconds(window.ms)}`).join(", ");
    console.log(`  ${row.replicas}: pipeline ${seconds(row.pipelineMs)} s, restart ${seconds(row.restartMs)} s; windows in the order they began: ${windows}`);
    for (const flag of flags(row)) console.log(`  FLAG ${row.replicas}: ${flag}`);
  }
}

export async function measureRolling(bench: Bench, sizes: readonly number[]): Promise<void> {
  const rows: RollingRow[] = [];
  try {
    for (const replicas of sizes) rows.push(await measure(bench, replicas));
  } finally {
    // Should a size fail, the sizes measured before it are still printed.
    if (rows.length > 0) print(rows);
  }
}
