/**
 * The runner acts only on what chains back to the StatefulSet's own claims (runner/provenance.ts,
 * runner/job-gate.ts), on a real API server and the ECS emulator: a journal edited to name another
 * claim's disk, a disk this run did not make, or a journal the runner never created, is refused
 * before anything is touched, and the other disk keeps its data.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { OWNED_ANNOTATIONS, USER_ANNOTATIONS } from "../../../core/annotations.ts";
import { ZONE_MIGRATION_GROUP, ZONE_MIGRATION_PLURAL, ZONE_MIGRATION_VERSION } from "../../../core/zone-migration.ts";
import { boundTogether } from "../../../runner/bindings.ts";
import type { MigrationContext } from "../../../runner/context.ts";
import { gateJob, tellStatefulSet, type Gate } from "../../../runner/job-gate.ts";
import { MigrationJournal, journalName } from "../../../runner/journal/journal.ts";
import { JournalSeal } from "../../../runner/journal/seal.ts";
import { reportStep } from "../../../runner/report.ts";
import { createDisks } from "../../../runner/steps/05-create-disks.ts";
import { rebind } from "../../../runner/steps/06-rebind.ts";
import { finish } from "../../../runner/steps/08-finish.ts";
import { snapshot } from "../../../runner/steps/04-snapshot.ts";
import { NAMESPACE, ZONES, compensateStep, contextOf, createApps, prepareApp, readJournalOf, startStepSandbox, untilSettled, type App, type StepSandbox } from "../../support/step-sandbox.ts";

describe("acting only on what chains back to the StatefulSet's own claims", () => {
  let sandbox: StepSandbox;
  let victim: App;
  before(async () => {
    sandbox = await startStepSandbox();
    victim = (await createApps(sandbox, [{ name: "victim", replicas: 1 }]))[0]!;
  });
  after(async () => { await sandbox.stop(); });

  const victimDisk = (): string => victim.sources.get("data-victim-0")!;

  /** Someone who may write ZoneMigrations' status edits volume 0 of `app`'s journal. */
  async function tamper(app: App, change: Record<string, string>): Promise<void> {
    await sandbox.journal.updateStatus(NAMESPACE, journalName(app.name, app.job.migrationId), (status) => {
      Object.assign(status.volumes![0]!, change);
    });
  }

  /** The victim's disk is still there, holding its data, its claim Bound to it. */
  async function assertVictimUntouched(): Promise<void> {
    const world = await sandbox.inventory();
    assert.ok(world.disks.some((disk) => disk.diskId === victimDisk()), "the victim's disk exists");
    assert.equal(await sandbox.control.content(victimDisk()), victim.contents.get("data-victim-0"), "and holds its data");
    assert.ok(!world.snapshots.some((found) => found.sourceDiskId === victimDisk()), "no snapshot was taken of it");
    const [claim, pv] = await Promise.all([
      sandbox.core.readNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, name: "data-victim-0" }),
      sandbox.core.readPersistentVolume({ name: victimDisk() }),
    ]);
    assert.ok(boundTogether(claim, pv), "its claim is still Bound to its PV");
    assert.equal(pv.spec?.persistentVolumeReclaimPolicy, "Delete", "its PV's policy is untouched");
  }

  it("refuses to snapshot a disk the journal names for a claim when the claim's PV holds another, and copies nothing", async () => {
    const { app, context } = await prepareApp(sandbox, { name: "thief", replicas: 1 }, "snapshot");
    await tamper(app, { sourceDisk: victimDisk(), sourcePersistentVolume: victimDisk() });
    await assert.rejects(snapshot.run(context), /^ProvenanceError: refusing to act: PV d-\w+ belongs to PVC steps\/data-victim-0, not steps\/data-thief-0; the journal does not chain back/);
    await assertVictimUntouched();
  });

  it("refuses to give the claim a PV of a disk this migration did not make", async () => {
    const { app, context } = await prepareApp(sandbox, { name: "swap", replicas: 1 }, "rebind");
    await tamper(app, { newDisk: victimDisk() });
    await assert.rejects(untilSettled(() => rebind.run(context)), new RegExp(`disk ${victimDisk()} was not made by this migration for PVC data-swap-0`));
    await assertVictimUntouched();
    const claim = await sandbox.core.readNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, name: "data-swap-0" });
    assert.equal(claim.spec?.volumeName, app.sources.get("data-swap-0"), "the claim stays on its own disk");
  });

  it("keeps, and names, a disk the journal calls new but this migration did not make, when it rolls back", async () => {
    const { app, context } = await prepareApp(sandbox, { name: "undo", replicas: 1 }, "rebind");
    const stray = await seedDisk();
    await tamper(app, { newDisk: stray });
    const outcome = await compensateStep(createDisks, context);
    assert.equal(outcome.kind, "done");
    assert.match(outcome.kept ?? "", new RegExp(`new disk ${stray} in \\S+ \\(the journal names it for PVC data-undo-0, but it was not made by this migration: not touched\\)`));
    assert.ok((await sandbox.inventory()).disks.some((disk) => disk.diskId === stray), "the disk is still there");
  });

  it("deletes no source disk whose snapshot is not this migration's copy of it, and says why", async () => {
    const { app, context } = await prepareApp(sandbox, { name: "end", replicas: 1 }, "finish");
    const stray = await seedDisk();
    await tamper(app, { sourceDisk: stray });
    await assert.rejects(untilSettled(() => finish.run(context)), new RegExp(`source disk ${stray} of PVC data-end-0 kept: snapshot s-\\w+ is of disk d-\\w+, not of PVC data-end-0's source disk ${stray} \\(not touched`));
    assert.ok((await sandbox.inventory()).disks.some((disk) => disk.diskId === stray), "the disk is still there");
  });

  it("ends a job whose journal it did not create, acting on nothing, and tells the StatefulSet that asked why", async () => {
    const [app] = await createApps(sandbox, [{ name: "forged", replicas: 1 }]);
    await stamp(app!, "Pending");
    const name = journalName(app!.name, app!.job.migrationId);
    // Planned, Running, naming the victim's disk: what a tenant with write access would make.
    await sandbox.kubeconfig.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: ZONE_MIGRATION_GROUP, version: ZONE_MIGRATION_VERSION, plural: ZONE_MIGRATION_PLURAL, namespace: NAMESPACE,
      body: { apiVersion: `${ZONE_MIGRATION_GROUP}/${ZONE_MIGRATION_VERSION}`, kind: "ZoneMigration", metadata: { name }, spec: { statefulSet: app!.name, migrationId: app!.job.migrationId, targetZones: app!.job.targetZones, plan: { ordinals: [{ ordinal: 0, zone: ZONES[1] }] } } },
    });
    const gate = await passGate(contextOf(sandbox, app!));
    assert.equal(gate.kind, "end");
    const expected = new RegExp(`^ZoneMigration steps/${name} was not created by zoneferry's runner \\(it carries no valid zoneferry.io/seal\\)`);
    assert.match(gate.message, expected);
    const annotations = await annotationsOf(app!.name);
    assert.equal(annotations[OWNED_ANNOTATIONS.status], "Failed");
    assert.match(annotations[OWNED_ANNOTATIONS.message] ?? "", expected);
    await assertVictimUntouched();
  });

  it("refuses a journal another runner's key sealed, as one nobody sealed", async () => {
    const [app] = await createApps(sandbox, [{ name: "otherkey", replicas: 1 }]);
    const sts = await sandbox.apps.readNamespacedStatefulSet({ namespace: NAMESPACE, name: app!.name });
    const elsewhere = new MigrationJournal(sandbox.kubeconfig, { seal: new JournalSeal(randomBytes(32)) });
    await elsewhere.ensure({ namespace: NAMESPACE, statefulSet: sts, migrationId: app!.job.migrationId, targetZones: app!.job.targetZones, request: REQUEST });
    const gate = await passGate(contextOf(sandbox, app!));
    assert.match(gate.kind === "end" ? gate.message : "", /was not created by zoneferry's runner/);
  });

  it("never runs a finished request again nor replaces its journal, and tells the StatefulSet only when it shows the request newly admitted", async () => {
    const [app] = await createApps(sandbox, [{ name: "repeat", replicas: 1 }]);
    const sts = await sandbox.apps.readNamespacedStatefulSet({ namespace: NAMESPACE, name: app!.name });
    const name = journalName(app!.name, app!.job.migrationId);
    await sandbox.journal.ensure({ namespace: NAMESPACE, statefulSet: sts, migrationId: app!.job.migrationId, targetZones: app!.job.targetZones, request: REQUEST });
    const ended = await sandbox.journal.updateStatus(NAMESPACE, name, (status) => {
      Object.assign(status, { phase: "RollbackFailed", step: "rebind", message: "rollback could not undo: rebind (left: PV x)", finishedAt: new Date().toISOString() });
    });
    await stamp(app!, "RollbackFailed", "rollback could not undo: rebind (left: PV x)");
    const context = contextOf(sandbox, app!);
    // A forged repeat: the StatefulSet still shows the run that ended.
    const repeat = await passGate(context);
    assert.match(repeat.kind === "end" ? repeat.message : "", new RegExp(`^request ${app!.job.migrationId} already ran: ZoneMigration ${name} ended RollbackFailed at .*; nothing was done\\. To run the same request again, set zoneferry.io/retry to a new value$`));
    assert.equal((await annotationsOf(app!.name))[OWNED_ANNOTATIONS.message], "rollback could not undo: rebind (left: PV x)", "the operator's record on the StatefulSet is untouched");
    // The same request admitted again (moved away and back): the user is told.
    await stamp(app!, "Pending");
    await passGate(context);
    assert.match((await annotationsOf(app!.name))[OWNED_ANNOTATIONS.message] ?? "", /already ran: .*set zoneferry.io\/retry to a new value$/);
    const kept = await readJournalOf(sandbox, app!);
    assert.equal(kept.metadata.uid, ended.metadata.uid, "the finished journal is the same object");
    assert.equal(kept.status?.phase, "RollbackFailed");
  });

  it("ends a job whose data was edited to no longer make its migration id", async () => {
    const [app] = await createApps(sandbox, [{ name: "edited", replicas: 1 }]);
    const context = contextOf(sandbox, { ...app!, job: { ...app!.job, targetZones: [ZONES[2]] } });
    const gate = await passGate(context);
    assert.match(gate.kind === "end" ? gate.message : "", /^the job's data makes migration [0-9a-f]{12}, not [0-9a-f]{12}: it was not queued by zoneferry/);
  });

  it("writes no status annotation and no Event to a StatefulSet that carries no request (a forged job)", async () => {
    const [app] = await createApps(sandbox, [{ name: "bystander", replicas: 1 }]);
    await sandbox.apps.patchNamespacedStatefulSet(
      { namespace: NAMESPACE, name: app!.name, body: { metadata: { annotations: { [USER_ANNOTATIONS.targetZones]: null, [OWNED_ANNOTATIONS.migrationId]: null } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    const gate = await gateJob(contextOf(sandbox, app!), { journals: sandbox.journal, concluded: false });
    assert.deepEqual(gate, { kind: "end", message: `StatefulSet ${NAMESPACE}/bystander does not carry migration ${app!.job.migrationId}: not acted on`, status: "Failed", refused: true }, "refused, with nothing to tell");
    await reportStep(contextOf(sandbox, app!), "precheck", "forward");
    assert.equal((await annotationsOf(app!.name))[OWNED_ANNOTATIONS.status], undefined, "no status annotation");
    const events = await sandbox.core.listNamespacedEvent({ namespace: NAMESPACE, fieldSelector: `involvedObject.name=${app!.name}` });
    assert.deepEqual(events.items.filter((event) => event.reason?.startsWith("Zoneferry") === true).map((event) => event.reason), [], "no Event");
  });

  it("ends a job whose request was cancelled before it began, telling the StatefulSet that nothing was done", async () => {
    const [app] = await createApps(sandbox, [{ name: "early", replicas: 1 }]);
    await sandbox.apps.patchNamespacedStatefulSet(
      { namespace: NAMESPACE, name: app!.name, body: { metadata: { annotations: { [USER_ANNOTATIONS.targetZones]: null, [OWNED_ANNOTATIONS.status]: "Pending" } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    const gate = await passGate(contextOf(sandbox, app!));
    assert.equal(gate.kind === "end" && gate.refused, false, "not refused: the user's own cancel");
    const annotations = await annotationsOf(app!.name);
    assert.equal(annotations[OWNED_ANNOTATIONS.status], "Failed");
    assert.equal(annotations[OWNED_ANNOTATIONS.message], "cancelled before it began: zoneferry.io/target-zones was removed; nothing was done");
    assert.equal(await sandbox.journal.read(NAMESPACE, journalName(app!.name, app!.job.migrationId)), undefined, "no journal made");
  });

  /** The job's gate, and what it tells the StatefulSet written, as the worker does under the Lease. */
  async function passGate(context: MigrationContext): Promise<Gate> {
    const gate = await gateJob(context, { journals: sandbox.journal, concluded: false });
    await tellStatefulSet(context, gate);
    return gate;
  }

  const REQUEST = { checkIntervalMs: 1_000, readyTimeoutMs: 60_000, healthDurationMs: 0, snapshotRetentionDays: 1, retainSource: false, strategy: "Recreate" as const, retry: "" };

  async function seedDisk(): Promise<string> {
    const seeded = await sandbox.control.seedDisk({ zoneId: ZONES[1], category: "cloud_essd", size: 20, status: "Available" });
    return seeded.DiskId ?? seeded.diskId ?? "";
  }

  /** The mutating webhook's stamp (and a status), as admission leaves it. */
  async function stamp(app: App, status: string, message?: string): Promise<void> {
    await sandbox.apps.patchNamespacedStatefulSet(
      { namespace: NAMESPACE, name: app.name, body: { metadata: { annotations: { [OWNED_ANNOTATIONS.migrationId]: app.job.migrationId, [OWNED_ANNOTATIONS.status]: status, [OWNED_ANNOTATIONS.message]: message ?? null } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  }

  async function annotationsOf(name: string): Promise<Record<string, string>> {
    return (await sandbox.apps.readNamespacedStatefulSet({ namespace: NAMESPACE, name })).metadata?.annotations ?? {};
  }
});
