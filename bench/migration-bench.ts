/**
 * Application downtime of a migration, on the sandbox. With --strategy Recreate (the default), for
 * StatefulSets of 1, 4, 16 and 64 replicas (one 20 GiB ESSD each, podManagementPolicy Parallel),
 * next to two references measured in the same run on the same disks:
 *   - the floor: one volume's snapshot-and-disk pipeline (the slowest of three, polled every 10 ms,
 *     straight through the SDK) plus one restart of the StatefulSet (scale to 0, pods gone, scale
 *     back, all Ready): no migration can be shorter;
 *   - one volume at a time: the same restart plus every volume's pipeline in turn, as a script
 *     moving disk after disk would.
 * With --strategy Rolling (sizes 3, 8 and 16 by default), bench/rolling-bench.ts measures instead
 * (see its header): the fewest Ready replicas, each replica's unavailability against one volume's
 * pipeline plus one pod's restart, and the total time against a Recreate migration of the same size.
 * The emulator's latency model has ECS's ratios, 5 times faster (instant access 5 s + 50 ms/GiB,
 * a disk 10 s + 100 ms/GiB: one 20 GiB volume's pipeline takes 3.6 s); rates are scaled alike: the
 * runner's ECS_RATE_LIMIT is 20 calls per cloud second (100/s here) and the emulator throttles
 * beyond 25 per cloud second (125/s here). A throttled answer counts as a broken rate limit and is
 * reported. Kubernetes is not sped up (its controllers bind about 5 PVCs a second at their default
 * API rate), so a larger speed-up would make its share of the downtime look larger than it is.
 *
 *   npm run bench:migration -- [--strategy Recreate|Rolling] [--sizes 1,4,16,64] [--keep]   (--keep leaves the sandbox up to inspect)
 */
import { parseArgs } from "node:util";
import { FROM, SCALE, TO, onSandbox, seconds, type Bench } from "./migration-sandbox.ts";
import { measureRolling } from "./rolling-bench.ts";

const { values } = parseArgs({ options: { strategy: { type: "string", default: "Recreate" }, sizes: { type: "string" }, keep: { type: "boolean", default: false } } });
if (values.strategy !== "Recreate" && values.strategy !== "Rolling") throw new Error(`--strategy is Recreate or Rolling, not ${values.strategy}`);
const SIZES = (values.sizes ?? (values.strategy === "Rolling" ? "3,8,16" : "1,4,16,64")).split(",").map(Number);

interface Row {
  readonly replicas: number;
  readonly pipelineMs: number;
  readonly restartMs: number;
  readonly serialMs: number;
  readonly downtimeMs: number;
  readonly status: string;
  readonly throttled: number;
  readonly calls: number;
}

async function measure(bench: Bench, replicas: number): Promise<Row> {
  const name = `db${replicas}`;
  process.stdout.write(`[bench] ${replicas} replica(s): creating`);
  await bench.create(name, replicas);
  const disks = await bench.disksInUse(name, replicas);
  process.stdout.write(", floor");
  const pipelineMs = Math.max(await bench.pipeline(disks[0]!), await bench.pipeline(disks[0]!), await bench.pipeline(disks[0]!));
  const restartMs = await bench.restart(name, replicas);
  process.stdout.write(", one volume at a time");
  let serialMs = 0;
  for (const disk of disks) serialMs += await bench.pipeline(disk);
  process.stdout.write(", zoneferry\n");
  await bench.cleanUp();
  await bench.clearRequestLog();
  const { downtimeMs, status } = await bench.migrate(name, replicas);
  return { replicas, pipelineMs, restartMs, serialMs, downtimeMs, status, ...(await bench.throttled()) };
}

function print(rows: readonly Row[]): void {
  console.log(`\nMigration downtime (Recreate, one 20 GiB ESSD per replica, ${FROM} → ${TO}; cloud durations × ${SCALE})`);
  const header = ["replicas", "floor s", "1-at-a-time s", "zoneferry s", "zoneferry/floor", "1-at-a-time/floor", "status", "ECS calls", "throttled"];
  console.log(header.map((cell) => cell.padStart(17)).join(""));
  for (const row of rows) {
    const floor = row.pipelineMs + row.restartMs;
    const serial = row.serialMs + row.restartMs;
    const cells = [String(row.replicas), seconds(floor), seconds(serial), seconds(row.downtimeMs), `${(row.downtimeMs / floor).toFixed(2)}×`, `${(serial / floor).toFixed(2)}×`, row.status, String(row.calls), String(row.throttled)];
    console.log(cells.map((cell) => cell.padStart(17)).join(""));
  }
  console.log("floor = slowest single-volume pipeline + one restart of the StatefulSet; 1-at-a-time = every volume's pipeline in turn + one restart");
  for (const row of rows) console.log(`  ${row.replicas}: pipeline ${seconds(row.pipelineMs)} s, restart ${seconds(row.restartMs)} s, serial pipelines ${seconds(row.serialMs)} s`);
}

async function recreate(bench: Bench): Promise<void> {
  const rows: Row[] = [];
  for (const replicas of SIZES) rows.push(await measure(bench, replicas));
  print(rows);
}

onSandbox(values.keep, async (bench) => (values.strategy === "Rolling" ? measureRolling(bench, SIZES) : recreate(bench))).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
