/**
 * The sandbox's parts in this process, for step-level tests: a real cluster (etcd, kube-apiserver,
 * controllers, scheduler, kwok nodes in three zones) with the ZoneMigration CRD, the ECS emulator,
 * the disk provisioner, and no runner or webhook: tests build a MigrationContext and call a step's
 * `run` and `compensate` themselves. Apps are StatefulSets whose disks the provisioner made in one
 * zone, each disk holding a known content; helpers drive steps to `done` and check where data is.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1StatefulSet } from "@kubernetes/client-node";
import { pino } from "pino";
import { OWNED_ANNOTATIONS, USER_ANNOTATIONS } from "../../core/annotations.ts";
import type { DiskCloud } from "../../core/disk-cloud.ts";
import { EcsDiskCloud } from "../../core/ecs/ecs-disk-cloud.ts";
import { createEcsClient } from "../../core/ecs/ecs-sdk.ts";
import { migrationId } from "../../core/migration-id.ts";
import type { MigrationJobData } from "../../core/migration-queue.ts";
import { defaultEmulatorConfig, startEcsEmulator, type EcsEmulator } from "../../emulator/ecs/index.ts";
import { boundTogether } from "../../runner/bindings.ts";
import { migrationContext, type MigrationContext } from "../../runner/context.ts";
import { faultKind } from "../../runner/faults.ts";
import { installZoneMigrationCrd } from "../../runner/journal/crd.ts";
import { MigrationJournal, journalName } from "../../runner/journal/journal.ts";
import type { ZoneMigrationResource } from "../../runner/journal/types.ts";
import type { Step, StepOutcome } from "../../runner/saga/step.ts";
import { RECREATE_STEPS } from "../../runner/steps/index.ts";
import { startCluster, type Cluster } from "../../sandbox/cluster.ts";
import { controlPlaneBinaries } from "../../sandbox/control-plane.ts";
import { startDiskProvisioner, type DiskProvisioner } from "../../sandbox/disk-provisioner/index.ts";
import { waitFor } from "../../sandbox/processes.ts";
import { ensureStorageClasses } from "../../sandbox/storage-classes.ts";
import { crashSeam, SimulatedCrash } from "./crashing-clients.ts";
import { emulatorControl, type EmulatorControl } from "./ecs-emulator-control.ts";
import { TEST_SEAL } from "./journal-seal.ts";

export const REGION = "cn-shanghai";
export const ZONES = ["cn-shanghai-b", "cn-shanghai-g", "cn-shanghai-m"] as const;
export const NAMESPACE = "steps";
/** The runner's key: its calls are told apart from the provisioner's in the request log. */
export const RUNNER_KEY = { id: "step-runner-key", secret: "step-runner-secret" };
const PROVISIONER_KEY = { id: "step-provisioner-key", secret: "step-provisioner-secret" };

export interface InventoryDisk {
  readonly diskId: string;
  readonly zoneId: string;
  readonly status: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly sourceSnapshotId?: string;
}

export interface InventorySnapshot {
  readonly snapshotId: string;
  readonly sourceDiskId: string;
  readonly status: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface Inventory {
  readonly disks: readonly InventoryDisk[];
  readonly snapshots: readonly InventorySnapshot[];
}

export interface StepSandbox {
  readonly kubeconfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  /** The runner's DiskCloud: the real SDK adapter, pointed at the emulator. */
  readonly cloud: DiskCloud;
  readonly control: EmulatorControl;
  readonly journal: MigrationJournal;
  inventory(): Promise<Inventory>;
  /** ECS actions the runner's key called since the request log was last cleared. */
  runnerActions(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Starts every part; on a failed start, stops what it started. */
export async function startStepSandbox(): Promise<StepSandbox> {
  let emulator: EcsEmulator | undefined;
  let cluster: Cluster | undefined;
  let provisioner: DiskProvisioner | undefined;
  const stop = async (): Promise<void> => {
    // Each stop runs even when one before it fails: nothing may outlive the file.
    try {
      await provisioner?.stop();
    } finally {
      try {
        await cluster?.stop();
      } finally {
        await emulator?.close();
      }
    }
  };
  try {
    emulator = await startEcsEmulator({
      port: 0,
      config: defaultEmulatorConfig({
        regionId: REGION,
        accounts: [{ accessKeyId: RUNNER_KEY.id, accessKeySecret: RUNNER_KEY.secret }, { accessKeyId: PROVISIONER_KEY.id, accessKeySecret: PROVISIONER_KEY.secret }],
        zones: ZONES.map((zoneId) => ({ zoneId, categories: ["cloud_essd", "cloud_auto", "cloud_essd_entry"] })),
        // A cloud a thousand times faster than the real one: disks and snapshots are ready in milliseconds.
        timeScale: 0.001,
      }),
    });
    cluster = await startCluster(controlPlaneBinaries(process.env), { zones: ZONES });
    const { kubeconfig } = cluster;
    await ensureStorageClasses(kubeconfig);
    await installZoneMigrationCrd(kubeconfig);
    const core = kubeconfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    const cloudWith = (key: { id: string; secret: string }): DiskCloud => new EcsDiskCloud(
      createEcsClient({ regionId: REGION, endpoint: emulator!.endpoint, protocol: "http", connectTimeoutMs: 5_000, readTimeoutMs: 5_000, accessKey: key }),
      REGION,
    );
    provisioner = await startDiskProvisioner({ kubeconfig, cloud: cloudWith(PROVISIONER_KEY), emulatorUrl: emulator.url, logger: pino({ level: "silent" }), resyncMs: 500 });
    const url = emulator.url;
    const control = emulatorControl(url);
    return {
      kubeconfig,
      core,
      apps: kubeconfig.makeApiClient(AppsV1Api),
      cloud: cloudWith(RUNNER_KEY),
      control,
      journal: new MigrationJournal(kubeconfig, { seal: TEST_SEAL }),
      inventory: async () => (await (await fetch(`${url}/_emulator/inventory`)).json()) as Inventory,
      runnerActions: async () => (await control.requests()).filter((entry) => (entry as { accessKeyId?: string }).accessKeyId === RUNNER_KEY.id).map((entry) => entry.action),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A StatefulSet on disks in one zone, with a migration request to another. */
export interface App {
  readonly name: string;
  readonly job: MigrationJobData;
  readonly claims: readonly string[];
  /** Source PV of each claim, as the provisioner made it (named by its disk). */
  readonly sources: ReadonlyMap<string, string>;
  /** What each claim's source disk holds. */
  readonly contents: ReadonlyMap<string, string>;
}

export interface AppSpec {
  readonly name: string;
  readonly replicas?: number;
  /** Where the disks go; the first zone when absent. */
  readonly to?: string;
  readonly whenScaled?: "Retain" | "Delete";
}

/** The app's disks are made in this zone. */
export const FROM_ZONE = ZONES[0];

function statefulSetOf(spec: AppSpec, to: string): V1StatefulSet {
  const { name } = spec;
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    // As admission leaves a request: the mutating webhook's stamp with it.
    metadata: { name, namespace: NAMESPACE, annotations: { [USER_ANNOTATIONS.targetZones]: to, [USER_ANNOTATIONS.checkInterval]: "1s", [USER_ANNOTATIONS.readyTimeout]: "1m", [OWNED_ANNOTATIONS.migrationId]: migrationId({ namespace: NAMESPACE, name, targetZones: [to], retry: "" }) } },
    spec: {
      replicas: spec.replicas ?? 2,
      serviceName: name,
      podManagementPolicy: "Parallel",
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "main", image: "nginx:1.27" }] } },
      volumeClaimTemplates: [{ metadata: { name: "data", labels: { app: name } }, spec: { accessModes: ["ReadWriteOnce"], storageClassName: "alicloud-disk-essd", resources: { requests: { storage: "20Gi" } } } }],
      ...(spec.whenScaled === undefined ? {} : { persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: spec.whenScaled } }),
    },
  };
}

/**
 * Creates the StatefulSets, Ready, their disks in FROM_ZONE, each disk given a content; each
 * annotated to move to its `to` (the second zone by default).
 */
export async function createApps(sandbox: StepSandbox, specs: readonly AppSpec[]): Promise<App[]> {
  return Promise.all(specs.map((spec) => createApp(sandbox, spec)));
}

/**
 * The claims come first, placed on a FROM_ZONE node as the scheduler would place them (so the
 * provisioner makes their disks there without cordoning other zones); the StatefulSet adopts them.
 */
async function createApp(sandbox: StepSandbox, spec: AppSpec): Promise<App> {
  const { name } = spec;
  const replicas = spec.replicas ?? 2;
  const to = spec.to ?? ZONES[1];
  const sts = statefulSetOf(spec, to);
  const template = sts.spec!.volumeClaimTemplates![0]!;
  const claims = Array.from({ length: replicas }, (_, ordinal) => `data-${name}-${ordinal}`);
  await Promise.all(claims.map((claim) => sandbox.core.createNamespacedPersistentVolumeClaim({
    namespace: NAMESPACE,
    body: { metadata: { name: claim, labels: { ...template.metadata?.labels }, annotations: { "volume.kubernetes.io/selected-node": `node-${FROM_ZONE}-0` } }, spec: template.spec! },
  })));
  await sandbox.apps.createNamespacedStatefulSet({ namespace: NAMESPACE, body: sts });
  await waitFor(async () => ((await sandbox.apps.readNamespacedStatefulSet({ namespace: NAMESPACE, name })).status?.readyReplicas ?? 0) === replicas, 60_000, () => `${name} not Ready`);
  const sources = new Map<string, string>();
  const contents = new Map<string, string>();
  for (const claim of claims) {
    const pv = (await sandbox.core.readNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, name: claim })).spec!.volumeName!;
    const content = `${claim}: rows 1..${100 + sources.size}`;
    await sandbox.control.setContent(pv, content);
    sources.set(claim, pv);
    contents.set(claim, content);
  }
  const disks = (await sandbox.inventory()).disks.filter((disk) => [...sources.values()].includes(disk.diskId));
  assert.deepEqual(disks.map((disk) => disk.zoneId), claims.map(() => FROM_ZONE), `${name}'s disks were made in ${FROM_ZONE}`);
  const id = migrationId({ namespace: NAMESPACE, name, targetZones: [to], retry: "" });
  return { name, claims, sources, contents, job: { migrationId: id, namespace: NAMESPACE, statefulSet: name, targetZones: [to], retry: "", requestedBy: "step-test" } };
}

/** The runner's context for `app`, its clients on the sandbox's API server and emulator. */
export function contextOf(sandbox: StepSandbox, app: App): MigrationContext {
  return migrationContext({ job: app.job, kubeconfig: sandbox.kubeconfig, cloud: sandbox.cloud, journal: sandbox.journal, logger: pino({ level: "silent" }) });
}

/**
 * Calls `call` until it answers anything but `wait`, sleeping the asked delay (at most 1 s) between
 * calls; a transient fault (ECS's "try again later", an API conflict) is retried as the saga would,
 * a few times. A simulated crash ends it at once.
 */
export async function untilSettled(call: () => Promise<StepOutcome>, timeoutMs = 60_000): Promise<StepOutcome> {
  const deadline = Date.now() + timeoutMs;
  for (let retries = 0; ;) {
    let outcome: StepOutcome;
    try {
      outcome = await call();
    } catch (error) {
      if (error instanceof SimulatedCrash || faultKind(error) !== "transient" || ++retries > 8) throw error;
      await sleep(250);
      continue;
    }
    if (outcome.kind !== "wait") return outcome;
    if (Date.now() > deadline) throw new Error(`still waiting after ${timeoutMs} ms: ${outcome.reason}`);
    await sleep(Math.min(outcome.delayMs, 1_000));
  }
}

/** Runs a step to its end (waits re-checked), as the saga would; answers its final outcome. */
export async function runStep(step: Step<MigrationContext>, context: MigrationContext): Promise<StepOutcome> {
  return untilSettled(() => step.run(context));
}

/** Runs a step's compensation to its end. */
export async function compensateStep(step: Step<MigrationContext>, context: MigrationContext): Promise<StepOutcome> {
  assert.ok(step.compensate !== undefined, `${step.name} has a compensation`);
  return untilSettled(() => step.compensate!(context));
}

/** Runs every step before `stepName`, each to done, as a forward run would. */
export async function runStepsBefore(context: MigrationContext, stepName: string): Promise<void> {
  const index = RECREATE_STEPS.findIndex((step) => step.name === stepName);
  assert.ok(index >= 0, `no step ${stepName}`);
  for (const step of RECREATE_STEPS.slice(0, index)) {
    const outcome = await runStep(step, context);
    assert.equal(outcome.kind, "done", `${step.name} ended ${JSON.stringify(outcome)}`);
  }
}

export async function readJournalOf(sandbox: StepSandbox, app: App): Promise<ZoneMigrationResource> {
  const journal = await sandbox.journal.read(NAMESPACE, journalName(app.name, app.job.migrationId));
  assert.ok(journal !== undefined, `the journal of ${app.name} exists`);
  return journal;
}

/** What a journal records, without the server's bookkeeping (resourceVersion, managedFields). */
export function recorded(journal: ZoneMigrationResource): Pick<ZoneMigrationResource, "spec" | "status"> {
  return { spec: journal.spec, ...(journal.status === undefined ? {} : { status: journal.status }) };
}

/** Disks and snapshots ECS holds that the app's migration made (its zoneferry.io/migration-id tag, any run), by claim. */
export async function madeFor(sandbox: StepSandbox, app: App): Promise<{ disks: Map<string, InventoryDisk[]>; snapshots: Map<string, InventorySnapshot[]> }> {
  const world = await sandbox.inventory();
  const byClaim = <T extends { tags: Readonly<Record<string, string>> }>(records: readonly T[]): Map<string, T[]> => {
    const found = new Map<string, T[]>();
    for (const record of records.filter((candidate) => candidate.tags["zoneferry.io/migration-id"] === app.job.migrationId)) {
      const claim = (record.tags["zoneferry.io/pvc"] ?? "").slice(NAMESPACE.length + 1);
      found.set(claim, [...(found.get(claim) ?? []), record]);
    }
    return found;
  };
  return { disks: byClaim(world.disks), snapshots: byClaim(world.snapshots) };
}

/**
 * The app's data is safe on its source: each claim Bound to its source PV, the source disk in ECS
 * holding what was written to it.
 */
export async function assertOnSource(sandbox: StepSandbox, app: App): Promise<void> {
  const world = await sandbox.inventory();
  for (const claim of app.claims) {
    const source = app.sources.get(claim)!;
    await waitFor(async () => boundTogether(
      await sandbox.core.readNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, name: claim }),
      await sandbox.core.readPersistentVolume({ name: source }),
    ), 30_000, () => `PVC ${claim} not Bound to its source PV ${source}`);
    assert.ok(world.disks.some((disk) => disk.diskId === source), `source disk ${source} of ${claim} exists`);
    assert.equal(await sandbox.control.content(source), app.contents.get(claim), `source disk ${source} holds ${claim}'s data`);
  }
}

/** The reclaim policy of a PV. */
export async function reclaimPolicy(sandbox: StepSandbox, pv: string): Promise<string | undefined> {
  return (await sandbox.core.readPersistentVolume({ name: pv })).spec?.persistentVolumeReclaimPolicy;
}

/** Pods of the app now. */
export async function podCount(sandbox: StepSandbox, app: App): Promise<number> {
  return (await sandbox.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `app=${app.name}` })).items.length;
}

/** A fresh app, with every step before `stepName` run to done on it (`stepName` too, when `past`). */
export async function prepareApp(sandbox: StepSandbox, spec: AppSpec, stepName: string, past: "past" | "before" = "before"): Promise<{ app: App; context: MigrationContext }> {
  const [app] = await createApps(sandbox, [spec]);
  const context = contextOf(sandbox, app!);
  await runStepsBefore(context, stepName);
  if (past === "past") {
    const step = RECREATE_STEPS.find((candidate) => candidate.name === stepName)!;
    assert.equal((await runStep(step, context)).kind, "done", `${stepName} done`);
  }
  return { app: app!, context };
}

/** What a step did when run again after it was done: it must be nothing. */
export interface SecondRun {
  readonly outcome: StepOutcome;
  /** The writes of the second run (calls of the context's clients). */
  readonly writes: readonly string[];
  /** ECS actions of the runner's key during the second run. */
  readonly actions: readonly string[];
  readonly journalBefore: Pick<ZoneMigrationResource, "spec" | "status">;
  readonly journalAfter: Pick<ZoneMigrationResource, "spec" | "status">;
  readonly inventoryBefore: Inventory;
  readonly inventoryAfter: Inventory;
}

/** Runs `act` (a step's run or compensation, waits re-checked) once more, recording what it did. */
export async function actAgain(sandbox: StepSandbox, app: App, context: MigrationContext, act: (context: MigrationContext) => Promise<StepOutcome>): Promise<SecondRun> {
  const journalBefore = recorded(await readJournalOf(sandbox, app));
  const inventoryBefore = await sandbox.inventory();
  await sandbox.control.clearRequests();
  const seam = crashSeam(context);
  const outcome = await untilSettled(() => act(seam.context));
  return {
    outcome,
    writes: seam.written(),
    actions: await sandbox.runnerActions(),
    journalBefore,
    journalAfter: recorded(await readJournalOf(sandbox, app)),
    inventoryBefore,
    inventoryAfter: await sandbox.inventory(),
  };
}

/** Asserts that a second run did nothing: done, no write, no ECS write, the same journal and inventory. */
export function assertNothingDone(again: SecondRun): void {
  assert.equal(again.outcome.kind, "done");
  assert.deepEqual(again.writes, [], "no write the second time");
  assert.deepEqual(again.actions.filter((action) => !/^Describe/.test(action)), [], "only ECS reads the second time");
  assert.deepEqual(again.journalAfter, again.journalBefore, "the same journal");
  const ids = (world: Inventory): string[] => [...world.disks.map((disk) => disk.diskId), ...world.snapshots.map((snapshot) => snapshot.snapshotId)];
  assert.deepEqual(ids(again.inventoryAfter), ids(again.inventoryBefore), "the same disks and snapshots in ECS");
}

/**
 * Runs `act` (a step's run or compensation) to done on a prepared app and checks it; runs it again:
 * that must do nothing (assertNothingDone) and leave the check true. Answers the first outcome.
 */
export async function actTwice(sandbox: StepSandbox, prepared: { app: App; context: MigrationContext }, act: (context: MigrationContext) => Promise<StepOutcome>, check: (app: App, label: string) => Promise<void>): Promise<StepOutcome> {
  const { app, context } = prepared;
  const first = await untilSettled(() => act(context));
  assert.equal(first.kind, "done");
  await check(app, "(once)");
  assertNothingDone(await actAgain(sandbox, app, context, act));
  await check(app, "(twice)");
  return first;
}

export interface CrashCase {
  /** Prepares a fresh state to act on (a new app for each crash point). */
  readonly prepare: (crashAt: number) => Promise<{ app: App; context: MigrationContext }>;
  /** The step's run or its compensation. */
  readonly act: (context: MigrationContext) => Promise<StepOutcome>;
  /**
   * What runs, with healthy clients, after the crash (or after the run that did not crash): the
   * step's own compensation, for a rollback after a failure half-way. @defaultValue `act` again
   */
  readonly recover?: (context: MigrationContext) => Promise<StepOutcome>;
  /** What must hold once the recovery after the crash is done; `label` names the crash point. */
  readonly check: (app: App, label: string) => Promise<void>;
  /** The test, told the crash points covered. */
  readonly test?: { diagnostic(message: string): void };
}

/**
 * For N = 1, 2, …: a fresh state, `act` crashed at its Nth write, then run again (or `recover`
 * run) with healthy clients to done, and checked; until a run makes fewer than N writes.
 * Answers the writes of the run that did not crash (the crash points covered).
 */
export async function crashAtEachWrite(crash: CrashCase): Promise<readonly string[]> {
  // The next states are prepared while this one is crashed and checked (each is its own app):
  // preparing is mostly waiting for controllers.
  const prepare = (crashAt: number): Promise<{ app: App; context: MigrationContext }> => {
    const prepared = crash.prepare(crashAt);
    // Awaited below, unless a check fails first: then its failure is not the one to report.
    prepared.catch(() => undefined);
    return prepared;
  };
  const ahead = [prepare(1), prepare(2)];
  for (let crashAt = 1; ; crashAt++) {
    const { app, context } = await ahead.shift()!;
    ahead.push(prepare(crashAt + 2));
    const seam = crashSeam(context, crashAt);
    let outcome: StepOutcome | undefined;
    try {
      outcome = await untilSettled(() => crash.act(seam.context));
    } catch (error) {
      if (!(error instanceof SimulatedCrash)) throw error;
    }
    if (!seam.crashed()) {
      assert.equal(outcome?.kind, "done");
      if (crash.recover !== undefined) assert.equal((await untilSettled(() => crash.recover!(context))).kind, "done");
      await crash.check(app, `(no crash: ${seam.written().length} writes)`);
      await Promise.all(ahead);
      crash.test?.diagnostic(`crash points: ${seam.written().join(", ")}`);
      return seam.written();
    }
    // In-flight requests of the "dead" process land before its successor starts, as they would.
    await sleep(100);
    const recovered = await untilSettled(() => (crash.recover ?? crash.act)(context));
    const label = `(crash at write ${crashAt}, ${seam.written().at(-1) ?? "?"})`;
    assert.equal(recovered.kind, "done", `done after a crash ${label}`);
    await crash.check(app, label);
  }
}
