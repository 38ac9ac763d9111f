/**
 * What the migration benchmarks share (bench/migration-bench.ts for Recreate, bench/rolling-bench.ts
 * for Rolling): the sandbox they run on, with the emulator's latency model and the runner's rate
 * limit at the same scale, and `Bench`, which makes StatefulSets there, times one volume's
 * snapshot-and-disk pipeline straight through the SDK, annotates a StatefulSet for a migration and
 * waits for its end, and reads the emulator's request log.
 */
import { AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1StatefulSet } from "@kubernetes/client-node";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EcsDiskCloud } from "../core/ecs/ecs-disk-cloud.ts";
import { createEcsClient } from "../core/ecs/ecs-sdk.ts";
import type { DiskCloud } from "../core/disk-cloud.ts";
import { down, up } from "../sandbox/sandbox.ts";

export const SCALE = 0.2;
export const NS = "bench";
export const FROM = "cn-shanghai-b";
export const TO = "cn-shanghai-g";
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

const ENDED = ["Succeeded", "Failed", "RollbackFailed"];

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
export const seconds = (ms: number): string => (ms / 1000).toFixed(2);

export async function until(check: () => Promise<boolean>, timeoutMs: number, what: string, everyMs = 20): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return Date.now();
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export class Bench {
  readonly kubeconfig: KubeConfig;
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly cloud: DiskCloud;
  readonly env: Readonly<Record<string, string>>;

  constructor(env: Readonly<Record<string, string>>) {
    this.env = env;
    this.kubeconfig = new KubeConfig();
    this.kubeconfig.loadFromFile(env["KUBECONFIG"]!);
    this.apps = this.kubeconfig.makeApiClient(AppsV1Api);
    this.core = this.kubeconfig.makeApiClient(CoreV1Api);
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

  /** N replicas (podManagementPolicy Parallel) with one 20 GiB ESSD each, all in FROM, Ready. */
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

  /** Until every one of the StatefulSet's disks is attached; answers them, by ordinal. */
  async disksInUse(name: string, replicas: number): Promise<string[]> {
    const disks = await this.sourceDisks(name, replicas);
    // kwok's pods are Ready before ECS has made their disks and the provisioner attached them.
    await until(async () => (await this.cloud.describeDisks(disks)).every((disk) => disk.status === "In_use"), 120_000, "source disks attached", 200);
    return disks;
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

  /** Annotates like a GitOps apply (target TO, checks every second, and `extra`); answers when it was sent. */
  async annotate(name: string, extra: Readonly<Record<string, string>> = {}): Promise<number> {
    const annotations = { "zoneferry.io/target-zones": TO, "zoneferry.io/check-interval": "1s", ...extra };
    const sentAt = Date.now();
    await this.apps.patchNamespacedStatefulSet({ namespace: NS, name, body: { metadata: { annotations } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    return sentAt;
  }

  /** Polls every 100 ms until the migration ends: its status, and when the end was seen. */
  async ended(name: string): Promise<{ status: string; endedAt: number }> {
    let status = "";
    const endedAt = await until(async () => {
      status = (await this.statefulSet(name)).metadata?.annotations?.["zoneferry.io/status"] ?? "";
      return ENDED.includes(status);
    }, 600_000, "the migration's end", 100);
    return { status, endedAt };
  }

  /**
   * A Recreate migration: annotates, and times replicas below N until all N Ready in their new zone
   * (the downtime), and the annotation until the status says it ended (the total).
   */
  async migrate(name: string, replicas: number): Promise<{ downtimeMs: number; totalMs: number; status: string }> {
    const annotatedAt = await this.annotate(name);
    const down = await until(async () => ((await this.statefulSet(name)).status?.readyReplicas ?? 0) < replicas, 120_000, "replicas going down");
    const upAgain = await until(async () => {
      const current = await this.statefulSet(name);
      return current.spec?.replicas === replicas && current.status?.readyReplicas === replicas;
    }, 600_000, "replicas back");
    const { status, endedAt } = await this.ended(name);
    return { downtimeMs: upAgain - down, totalMs: endedAt - annotatedAt, status };
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

/** Starts a sandbox (2 nodes per zone) with the benchmark's emulator and runner settings, runs `measure` on it, stops it unless `keep`. */
export async function onSandbox(keep: boolean, measure: (bench: Bench) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "zf-bench-"));
  const say = (line: string): void => { process.stdout.write(`[sandbox] ${line}\n`); };
  // Kept for inspection: the runner logs each wait and its reason too.
  const env = await up({ dir, nodesPerZone: 2, emulator: EMULATOR, runnerEnv: { ...RUNNER_ENV, ...(keep ? { LOG_LEVEL: "debug" } : {}) }, log: say });
  try {
    const bench = new Bench(env);
    await bench.core.createNamespace({ body: { metadata: { name: NS } } });
    await measure(bench);
  } finally {
    if (keep) say(`left up in ${dir}; stop it with: npm run sandbox -- down --dir ${dir}`);
    else await down(dir);
  }
}
