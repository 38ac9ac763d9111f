/**
 * What every step works with: the job's request, the Kubernetes and cloud clients, the journal.
 * Steps keep nothing in memory between runs: what they must remember (the plan, snapshot and disk
 * ids, original policies) goes to the journal before anything relies on it.
 */
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { DiskCloud } from "../core/disk-cloud.ts";
import type { SnapshotSharing } from "../core/snapshot-sharing.ts";
import { claimShapedFor } from "../core/disk-volumes.ts";
import { DEFAULT_MAX_REPLICAS } from "../core/size-limits.ts";
import type { MigrationJobData } from "../core/migration-queue.ts";
import { workloadKind, type Workload } from "../core/workload/kinds.ts";
import { journalName, type MigrationJournal } from "./journal/journal.ts";
import type { VolumeProgress, ZoneMigrationResource } from "./journal/types.ts";
import { PermanentMigrationError } from "./faults.ts";
import { OPEN_FENCE, type Fence } from "./fence.ts";
import { fenced } from "./fenced.ts";
import { memoized } from "./journal/memoized-journal.ts";
import { currentStep } from "./saga/step-scope.ts";
import type { WriteSeam } from "./write-seam.ts";
import { workloadClient, type WorkloadClient } from "./workload/workload-client.ts";

/** The runner's configuration the steps need (core/config.ts `runner`). */
export interface RunnerSettings {
  /** How long new snapshots and disks may take to become Available (RUNNER_CLOUD_WAIT_TIMEOUT). */
  readonly cloudWaitTimeoutMs: number;
  /** The largest StatefulSet a migration is planned for (MAX_REPLICAS), as the webhook's. */
  readonly maxReplicas: number;
  /** WORKLOADS_KRUISE: Advanced StatefulSets are migrated; off, a job for one is refused at precheck. */
  readonly kruise: boolean;
  /**
   * ECS_SERVICE_KEY_ID: the region's ECS service key, whose snapshots Resource Sharing refuses to
   * share; an export of a disk encrypted with it is refused before anything changes (core/shareable.ts).
   */
  readonly serviceKeyId?: string;
}

export const DEFAULT_RUNNER_SETTINGS: RunnerSettings = { cloudWaitTimeoutMs: 1_800_000, maxReplicas: DEFAULT_MAX_REPLICAS, kruise: false };

/**
 * One replica of strategy Rolling: the steps of its move act on its volumes only, and their waits
 * have their own clocks (runner/steps/rolling/).
 */
export interface ReplicaScope {
  readonly ordinal: number;
  /** The claims of this ordinal that move. */
  readonly claims: ReadonlySet<string>;
}

export interface MigrationContext {
  readonly job: MigrationJobData;
  /** Strategy Rolling: the replica a step works on; absent, every moving volume. */
  readonly replica?: ReplicaScope;
  /** Told when a Rolling replica is Ready again, with how long it was down (the runner's metric). */
  readonly onReplicaBack?: (ordinal: number, downMs: number) => void;
  /** Checked before every write (the clients below are fenced): see runner/fence.ts. */
  readonly fence: Fence;
  readonly settings: RunnerSettings;
  readonly kubeconfig: KubeConfig;
  /** The job's StatefulSet's API, apps/v1 or apps.kruise.io (runner/workload/). */
  readonly workload: WorkloadClient;
  readonly core: CoreV1Api;
  readonly cloud: DiskCloud;
  /**
   * Resource Sharing, for exports and restores across accounts (RESOURCE_SHARING_ENDPOINT); absent
   * when not configured, and then an export or restore fails at once saying so.
   */
  readonly sharing?: SnapshotSharing;
  readonly journal: MigrationJournal;
  readonly logger: Logger;
  readonly now: () => number;
  /**
   * For a write made without a fenced client (the status annotations, Events): the write seam,
   * then the fence. Fenced clients do both themselves.
   */
  readonly beforeWrite: (call: string) => Promise<void>;
}

/** The context of one run of a job: every write of its clients goes through `fence` (absent: never closed). */
export function migrationContext(parts: Omit<MigrationContext, "workload" | "core" | "now" | "settings" | "fence" | "beforeWrite"> & { now?: () => number; settings?: RunnerSettings; fence?: Fence; seam?: WriteSeam }): MigrationContext {
  const { seam, ...rest } = parts;
  const fence = parts.fence ?? OPEN_FENCE;
  const before = seam === undefined ? undefined : (call: string): Promise<void> => seam({ migrationId: parts.job.migrationId, namespace: parts.job.namespace, statefulSet: parts.job.statefulSet, step: currentStep(), call });
  return {
    ...rest,
    fence,
    cloud: fenced(parts.cloud, fence, before),
    ...(parts.sharing === undefined ? {} : { sharing: fenced(parts.sharing, fence, before) }),
    journal: fenced(memoized(parts.journal), fence, before),
    settings: parts.settings ?? DEFAULT_RUNNER_SETTINGS,
    workload: fenced(workloadClient(parts.kubeconfig, workloadKind(parts.job.apiVersion)), fence, before),
    core: fenced(parts.kubeconfig.makeApiClient(CoreV1Api), fence, before),
    now: parts.now ?? Date.now,
    beforeWrite: async (call) => {
      await before?.(call);
      fence.check();
    },
  };
}

export function journalNameOf(context: MigrationContext): string {
  return journalName(context.job.statefulSet, context.job.migrationId);
}

export async function readStatefulSet(context: MigrationContext): Promise<Workload> {
  return context.workload.read(context.job.namespace, context.job.statefulSet);
}

/** The journal, which the precheck created: its absence later means someone removed it. */
export async function readJournal(context: MigrationContext): Promise<ZoneMigrationResource> {
  const journal = await context.journal.read(context.job.namespace, journalNameOf(context));
  if (journal === undefined) throw new PermanentMigrationError(`the ZoneMigration journal ${journalNameOf(context)} is gone`);
  return journal;
}

/**
 * The volumes to move, as the journal records them; a claim not named as one of the StatefulSet's
 * is refused before anything acts on it (the live templates are checked too: runner/provenance.ts).
 */
export async function movingVolumes(context: MigrationContext): Promise<VolumeProgress[]> {
  const volumes = inScope(context, (await readJournal(context)).status?.volumes ?? []);
  const foreign = volumes.filter((volume) => !claimShapedFor(context.job.statefulSet, volume.claim)).map((volume) => volume.claim);
  if (foreign.length > 0) throw new PermanentMigrationError(`refusing to act: PVC(s) ${foreign.join(", ")} in the journal are not named as claims of StatefulSet ${context.job.namespace}/${context.job.statefulSet}; the journal does not chain back to its own claims (was it edited?)`);
  return volumes;
}

/** The volumes the step now running acts on: one replica's under strategy Rolling, else all. */
export function inScope<T extends { readonly claim: string }>(context: MigrationContext, volumes: readonly T[]): T[] {
  const scope = context.replica;
  return scope === undefined ? [...volumes] : volumes.filter((volume) => scope.claims.has(volume.claim));
}

export async function recordVolume(context: MigrationContext, claim: string, change: Partial<VolumeProgress>): Promise<void> {
  await recordVolumes(context, new Map([[claim, change]]));
}

/** Records changes to many volumes in one journal write (64 parallel writes would mostly conflict). */
export async function recordVolumes(context: MigrationContext, changes: ReadonlyMap<string, Partial<VolumeProgress>>): Promise<void> {
  if (changes.size === 0) return;
  await context.journal.updateStatus(context.job.namespace, journalNameOf(context), (status) => {
    for (const volume of status.volumes ?? []) {
      const change = changes.get(volume.claim);
      if (change !== undefined) Object.assign(volume, change);
    }
  });
}

/**
 * Runs `make` for every item at once and records what succeeded in one journal write, before the
 * first failure (if any) is thrown: nothing made is forgotten.
 */
export async function makeAll<T extends { claim: string }>(context: MigrationContext, items: readonly T[], make: (item: T) => Promise<Partial<VolumeProgress>>): Promise<void> {
  const results = await Promise.allSettled(items.map(make));
  const made = new Map<string, Partial<VolumeProgress>>();
  results.forEach((result, index) => {
    if (result.status === "fulfilled") made.set(items[index]!.claim, result.value);
  });
  await recordVolumes(context, made);
  const failed = results.find((result) => result.status === "rejected");
  if (failed !== undefined) throw failed.reason;
}

/** The claim a run's snapshot or disk was made for, from its tags. */
export function claimOfTags(context: MigrationContext, tags: Readonly<Record<string, string>>): string | undefined {
  const tagged = tags["zoneferry.io/pvc"];
  const prefix = `${context.job.namespace}.`;
  return tagged?.startsWith(prefix) === true ? tagged.slice(prefix.length) : undefined;
}

/**
 * A run of a migration: the journal's uid. The same request can run again (moved away and back),
 * and a later run must never adopt an earlier run's snapshot (stale data) or replay its ClientToken
 * (ECS would answer with the earlier, since deleted, disk).
 */
export function runId(journal: ZoneMigrationResource): string {
  return (journal.metadata.uid ?? "").replace(/-/g, "").slice(0, 12);
}

/** Tags on everything one run made in the cloud. */
export function runTags(context: MigrationContext, journal: ZoneMigrationResource): Record<string, string> {
  return { "zoneferry.io/migration-id": context.job.migrationId, "zoneferry.io/run": runId(journal) };
}

/** Tags that find a run's snapshot or disk of one claim again after a crash. */
export function cloudTags(context: MigrationContext, journal: ZoneMigrationResource, claim: string): Record<string, string> {
  return { ...runTags(context, journal), "zoneferry.io/pvc": `${context.job.namespace}.${claim}` };
}

/** ClientTokens: deterministic per run, at most 64 ASCII characters. */
export function clientToken(context: MigrationContext, journal: ZoneMigrationResource, kind: "snap" | "disk" | "kept", claim: string): string {
  const token = `zf-${context.job.migrationId}-${runId(journal)}-${kind}-${claim}`;
  return token.length <= 64 ? token : `${token.slice(0, 51)}-${fnv(token)}`;
}

function fnv(text: string): string {
  let hash = 0x811c9dc5;
  for (const char of text) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, "0").slice(0, 12);
}
