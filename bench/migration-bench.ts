/**
 * Application downtime of a Recreate migration, on the sandbox, for StatefulSets of 1, 4, 16 and
 * 64 replicas (one 20 GiB ESSD each), next to two references measured in the same run on the same
 * disks:
 *   - the floor: one volume's snapshot-and-disk pipeline (the slowest of three, polled every 10 ms,
 *     straight through the SDK) plus one restart of the StatefulSet (scale to 0, pods gone, scale
 *     back, all Ready): no migration can be shorter;
 *   - one volume at a time: the same restart plus every volume's pipeline in turn, as a script
 *     moving disk after disk would.
 * The emulator's latency model has ECS's ratios, 5 times faster (instant access 5 s + 50 ms/GiB,
 * a disk 10 s + 100 ms/GiB: one 20 GiB volume's pipeline takes 3.6 s); rates are scaled alike: the
 * runner's ECS_RATE_LIMIT is 20 calls per cloud second (100/s here) and the emulator throttles
 * beyond 25 per cloud second (125/s here). A throttled answer counts as a broken rate limit and is
 * reported. Kubernetes is not sped up (its controllers bind about 5 PVCs a second at their default
 * API rate), so a larger speed-up would make its share of the downtime look larger than it is.
 *
 *   npm run bench:migration -- [--sizes 1,4,16,64] [--keep]   (--keep leaves the sandbox up to inspect)
 */
import { AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1StatefulSet } from "@kubernetes/client-node";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { EcsDiskCloud } from "../core/ecs/ecs-disk-cloud.ts";
import { createEcsClient } from "../core/ecs/ecs-sdk.ts";
import type { DiskCloud } from "../core/disk-cloud.ts";
import { down, up } from "../sandbox/sandbox.ts";

const { values } = parseArgs({ options: { sizes: { type: "string", default: "1,4,16,64" }, keep: { type: "boolean", default: false } } });
const SIZES = values.sizes.split(",").map(Number);
const SCALE = 0.2;
const NS = "bench";
const FROM = "cn-shanghai-b";
const TO = "cn-shanghai-g";
const EMULATOR = {
  timeScale: SCALE,
  transitions: {
    instantAccess: { baseMs: 5_000, perGiBMs: 50 },
    snapshot: { baseMs: 30_000, perGiBMs: 1_000 },
    diskCreate: { baseMs: 10_000, perGiBMs: 100 },
    diskInitializing: { baseMs: 60_000 },
  },
  throttle: { requestsPerSecond: 25 / SCALE },
};
const RUNNER_ENV = { ECS_RATE_LIMIT: String(20 / SCALE), RUNNER_CONCURRENCY: "4" };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number): string => (ms / 1000).toFixed(2);

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string, everyMs = 20): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return Date.now();
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

class Bench {
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly cloud: DiskCloud;
  readonly env: Readonly<Record<string, string>>;

  constructor(env: Readonly<Record<string, string>>) {
    this.env = env;
    const kubeconfig = new KubeConfig();
    kubeconfig.loadFromFile(env["KUBECONFIG"]!);
    this.apps = kubeconfig.makeApiClient(AppsV1Api);
    this.core = kubeconfig.makeApiClient(CoreV1Api);
    const accessKey = { id: env["ALIBABA_CLOUD_ACCESS_KEY_ID"]!, secret: env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]! };
    this.cloud = new EcsDiskCloud(createEcsClient({ regionId: env["ECS_REGION_ID"]!, endpoint: env["ECS_ENDPOINT"]!, protocol: "http", connectTimeoutMs: 5_000, readTimeoutMs: 10_000, accessKey }), env["ECS_REGION_ID"]!);
  }

  async statefulSet(name: string): Promise<V1StatefulSet> {
    return this.apps.readNamespacedStatefulSet({ namespace: NS, name });
  }

  async setNodes(zones: readonly string[], unschedulable: boolean): Promise<void> {
    const nodes = await this.core.listNode();
    for (const node of nodes.items.filter((candidate) => zones.includes(candidate.metadata?.labels?.["topology.kubernetes.io/zone"] ?? ""))) {
      await this.core.patchNode({ name: node.metadata!.name!, body: { spec: { unschedulable } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    }
  }

  /** N replicas with one 20 GiB ESSD each, all in FROM, Ready. */
  async create(name: string, replicas: number): Promise<void> {
    const others = ["cn-shanghai-g", "cn-shanghai-m"];
    await this.setNodes(others, true);
    try {
      await this.apps.createNamespacedStatefulSet({
        namespace: NS,
        body: {
          metadata: { name, namespace: NS },
          spec: {
            replicas,
            serviceName: name,
            podManagementPolicy: "Parallel",
            selector: { matchLabels: { app: name } },
            template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "db", image: "postgres:17" }] } },
            volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], storageClassName: "alicloud-disk-essd", resources: { requests: { storage: "20Gi" } } } }],
          },
        },
      });
      await until(async () => (await this.statefulSet(name)).status?.readyReplicas === replicas, 300_000, `${name} Ready`, 200);
    } finally {
      await this.setNodes(others, false);
    }
  }

  async sourceDisks(name: string, replicas: number): Promise<string[]> {
    const claims = await Promise.all(Array.from({ length: replicas }, (_, ordinal) => this.core.readNamespacedPersistentVolumeClaim({ namespace: NS, name: `data-${name}-${ordinal}` })));
    return claims.map((claim) => claim.spec!.volumeName!);
  }

  /** What the reference pipelines made, deleted at the end (ECS refuses a fresh disk while it initializes). */
  readonly #made: { disk: string; snapshot: string }[] = [];

  /** One volume's snapshot → Available → disk in TO → Available. */
  async pipeline(diskId: string): Promise<number> {
    const started = Date.now();
    const snapshotId = await this.cloud.createSnapshot({ diskId, tags: { bench: "floor" }, clientToken: `bench-${diskId}-${started}`, retentionDays: 1 });
    await until(async () => (await this.cloud.describeSnapshots([snapshotId]))[0]?.available === true, 60_000, "snapshot", 10);
    const made = await this.cloud.createDisk({ zoneId: TO, category: "cloud_essd", sizeGiB: 20, snapshotId, tags: { bench: "floor" }, clientToken: `bench-d-${diskId}-${started}` });
    const ended = await until(async () => (await this.cloud.describeDisks([made]))[0]?.status === "Available", 60_000, "disk", 10);
    this.#made.push({ disk: made, snapshot: snapshotId });
    return ended - started;
  }

  /** Deletes what the reference pipelines made, once ECS lets it. */
  async cleanUp(): Promise<void> {
    const made = this.#made.splice(0);
    await Promise.all(made.map(async ({ disk, snapshot }) => {
      await until(async () => {
        await this.cloud.deleteDisk(disk);
        return true;
      }, 120_000, "disk deletable", 500);
      await this.cloud.deleteSnapshot(snapshot, { force: true });
    }));
  }

  async scale(name: string, replicas: number): Promise<void> {
    await this.apps.patchNamespacedStatefulSetScale({ namespace: NS, name, body: { spec: { replicas } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
  }

  /** Scale to 0, all pods gone, scale back, all Ready. */
  async restart(name: string, replicas: number): Promise<number> {
    const started = Date.now();
    await this.scale(name, 0);
    await until(async () => ((await this.statefulSet(name)).status?.replicas ?? 0) === 0, 120_000, "pods gone");
    await this.scale(name, replicas);
    return (await until(async () => (await this.statefulSet(name)).status?.readyReplicas === replicas, 300_000, "pods back")) - started;
  }

  /** Annotates like a GitOps apply and times replicas below N until all N Ready in their new zone. */
  async migrate(name: string, replicas: number): Promise<{ downtimeMs: number; status: string }> {
    const annotations = { "zoneferry.io/target-zones": TO, "zoneferry.io/check-interval": "1s" };
    await this.apps.patchNamespacedStatefulSet({ namespace: NS, name, body: { metadata: { annotations } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    const down = await until(async () => ((await this.statefulSet(name)).status?.readyReplicas ?? 0) < replicas, 120_000, "replicas going down");
    const upAgain = await until(async () => {
      const current = await this.statefulSet(name);
      return current.spec?.replicas === replicas && current.status?.readyReplicas === replicas;
    }, 600_000, "replicas back");
    let status = "";
    await until(async () => {
      status = (await this.statefulSet(name)).metadata?.annotations?.["zoneferry.io/status"] ?? "";
      return ["Succeeded", "Failed", "RollbackFailed"].includes(status);
    }, 600_000, "the migration's end", 100);
    return { downtimeMs: upAgain - down, status };
  }

  /** Forgets the emulator's request log, so `throttled` counts one migration's calls. */
  async clearRequestLog(): Promise<void> {
    await fetch(`${this.env["ECS_EMULATOR_URL"]!}/_emulator/requests`, { method: "DELETE" });
  }

  /** ECS calls answered with flow control since the log was cleared, and the calls in all. */
  async throttled(): Promise<{ throttled: number; calls: number }> {
    const log = (await (await fetch(`${this.env["ECS_EMULATOR_URL"]!}/_emulator/requests`)).json()) as { code?: string }[];
    return { throttled: log.filter((entry) => entry.code?.startsWith("Throttling") === true).length, calls: log.length };
  }
}

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
  const disks = await bench.sourceDisks(name, replicas);
  // kwok's pods are Ready before ECS has made their disks and the provisioner attached them.
  await until(async () => (await bench.cloud.describeDisks(disks)).every((disk) => disk.status === "In_use"), 120_000, "source disks attached", 200);
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

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "zf-bench-"));
  const say = (line: string): void => { process.stdout.write(`[sandbox] ${line}\n`); };
  // Kept for inspection: the runner logs each wait and its reason too.
  const env = await up({ dir, nodesPerZone: 2, emulator: EMULATOR, runnerEnv: { ...RUNNER_ENV, ...(values.keep ? { LOG_LEVEL: "debug" } : {}) }, log: say });
  try {
    const bench = new Bench(env);
    await bench.core.createNamespace({ body: { metadata: { name: NS } } });
    const rows: Row[] = [];
    for (const replicas of SIZES) rows.push(await measure(bench, replicas));
    print(rows);
  } finally {
    if (values.keep) say(`left up in ${dir}; stop it with: npm run sandbox -- down --dir ${dir}`);
    else await down(dir);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
