/**
 * The restore-replicas step on a real cluster (scheduler, kwok's pods, the provisioner's
 * attachments): run twice, or crashed between any two of its writes and run again, the replicas
 * run Ready in their planned zone on the new disks, and the journal says since when each new disk
 * served; its compensation, twice or after a crash, takes the pods away again, and the rollback
 * after it brings the app back on its source disks without deleting a disk the app ran on.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { boundTogether } from "../../../runner/bindings.ts";
import { RECREATE_STEPS } from "../../../runner/steps/index.ts";
import { restoreReplicas } from "../../../runner/steps/07-restore-replicas.ts";
import { waitFor } from "../../../sandbox/processes.ts";
import {
  NAMESPACE, ZONES, actTwice, assertOnSource, compensateStep, crashAtEachWrite, madeFor, podCount, prepareApp, readJournalOf, reclaimPolicy, startStepSandbox,
  type App, type StepSandbox,
} from "../../support/step-sandbox.ts";

describe("the restore-replicas step, on a real API server and the ECS emulator", () => {
  let sandbox: StepSandbox;
  before(async () => { sandbox = await startStepSandbox(); });
  after(async () => { await sandbox.stop(); });

  /** Each claim Bound to its new PV, whose disk holds the claim's data. */
  async function assertOnNewDisks(app: App, label: string): Promise<void> {
    const volumes = (await readJournalOf(sandbox, app)).status?.volumes ?? [];
    for (const volume of volumes) {
      const claim = await sandbox.core.readNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, name: volume.claim });
      assert.ok(boundTogether(claim, await sandbox.core.readPersistentVolume({ name: volume.newPersistentVolume! })), `${volume.claim} on its new PV ${label}`);
      assert.equal(await sandbox.control.content(volume.newDisk!), app.contents.get(volume.claim), `the new disk of ${volume.claim} holds its data ${label}`);
    }
  }

  /** Both replicas Ready in the target zone, on the new disks, each journaled as served. */
  async function assertRestored(app: App, label: string): Promise<void> {
    const pods = (await sandbox.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `app=${app.name}` })).items;
    assert.equal(pods.length, 2, `2 pods ${label}`);
    for (const pod of pods) {
      const node = await sandbox.core.readNode({ name: pod.spec!.nodeName! });
      assert.equal(node.metadata?.labels?.["topology.kubernetes.io/zone"], ZONES[1], `${pod.metadata!.name!} runs in the target zone ${label}`);
    }
    const volumes = (await readJournalOf(sandbox, app)).status?.volumes ?? [];
    assert.ok(volumes.every((volume) => volume.servedAt !== undefined), `each new disk journaled as served ${label}`);
    await assertOnNewDisks(app, label);
  }

  /** No pod; the claims still on the new disks (the rebind is undone after this). */
  async function assertStopped(app: App, label: string): Promise<void> {
    assert.equal(await podCount(sandbox, app), 0, `no pod ${label}`);
    await assertOnNewDisks(app, label);
  }

  const fresh = (name: string) => prepareApp(sandbox, { name }, "restore-replicas");
  const restored = (crashAt: number) => prepareApp(sandbox, { name: `undo-${crashAt}` }, "restore-replicas", "past");

  it("run again once done, writes nothing and leaves the replicas and the journal as they were", async () => {
    await actTwice(sandbox, await fresh("twice"), (ctx) => restoreReplicas.run(ctx), assertRestored);
  });

  it("crashed between any two of its writes, completes when run again with the replicas Ready in their planned zone", async (t) => {
    const covered = await crashAtEachWrite({ test: t, prepare: (crashAt) => fresh(`crash-${crashAt}`), act: (ctx) => restoreReplicas.run(ctx), check: assertRestored });
    assert.deepEqual(covered, ["journal.updateStatus", "workload.patch", "journal.updateStatus"]);
  });

  it("compensated twice, takes the pods away once, and the second compensation does nothing", async () => {
    assert.deepEqual(await actTwice(sandbox, await restored(0), (ctx) => restoreReplicas.compensate!(ctx), assertStopped), { kind: "done" });
  });

  it("its compensation, crashed before its scale-down, completes when run again with no pod left", async (t) => {
    const covered = await crashAtEachWrite({ test: t, prepare: restored, act: (ctx) => restoreReplicas.compensate!(ctx), check: assertStopped });
    assert.deepEqual(covered, ["workload.patch"]);
  });

  it("rolled back after it served, the app runs on its source disks again and the new disks it wrote to are kept with a snapshot", async () => {
    const { app, context } = await restored(100);
    // The saga's order: the latest first, create-disks' (compensateLast) at the very end.
    const order = ["restore-replicas", "rebind", "scale-to-zero", "protect", "create-disks"];
    const outcomes = new Map<string, unknown>();
    for (const name of order) outcomes.set(name, await compensateStep(RECREATE_STEPS.find((step) => step.name === name)!, context));
    await assertOnSource(sandbox, app);
    await waitFor(async () => (await sandbox.apps.readNamespacedStatefulSet({ namespace: NAMESPACE, name: app.name })).status?.readyReplicas === 2, 30_000, () => `${app.name} not Ready again`);
    for (const claim of app.claims) assert.equal(await reclaimPolicy(sandbox, app.sources.get(claim)!), "Delete", `the source PV of ${claim} has its policy back`);
    const volumes = (await readJournalOf(sandbox, app)).status?.volumes ?? [];
    const made = await madeFor(sandbox, app);
    for (const volume of volumes) {
      assert.deepEqual(made.disks.get(volume.claim)?.map((disk) => disk.diskId), [volume.newDisk], `the new disk of ${volume.claim} is kept: the app ran on it`);
      assert.ok(volume.keptSnapshot !== undefined && made.snapshots.get(volume.claim)?.some((snapshot) => snapshot.snapshotId === volume.keptSnapshot), `a snapshot of the kept disk of ${volume.claim}`);
    }
    const kept = outcomes.get("create-disks") as { kind: string; kept?: string };
    assert.equal(kept.kind, "done");
    for (const volume of volumes) assert.match(kept.kept ?? "", new RegExp(`new disk ${volume.newDisk!} .*of PVC ${volume.claim}`), "the result names each kept disk");
  });
});
