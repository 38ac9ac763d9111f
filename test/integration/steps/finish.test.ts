/**
 * The finish step on a real cluster and the ECS emulator, after a whole forward run: run twice,
 * or crashed between any two of its API calls and run again, the new PVs get the source's reclaim
 * policy, and each source PV and disk is deleted once, the claim still on its new disk with its
 * data and the snapshot kept.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { boundTogether } from "../../../runner/bindings.ts";
import { orUndefined } from "../../../runner/kube-patch.ts";
import { finish } from "../../../runner/steps/08-finish.ts";
import { waitFor } from "../../../sandbox/processes.ts";
import {
  NAMESPACE, actTwice, crashAtEachWrite, runStep, madeFor, prepareApp, readJournalOf, reclaimPolicy, startStepSandbox,
  type App, type StepSandbox,
} from "../../support/step-sandbox.ts";

describe("the finish step, on a real API server and the ECS emulator", () => {
  let sandbox: StepSandbox;
  before(async () => { sandbox = await startStepSandbox(); });
  after(async () => { await sandbox.stop(); });

  /** The sources gone (PV and disk), each claim on its new PV with the source's policy and its data, the snapshots kept. */
  async function assertFinished(app: App, label: string): Promise<void> {
    const volumes = (await readJournalOf(sandbox, app)).status?.volumes ?? [];
    const world = await sandbox.inventory();
    const made = await madeFor(sandbox, app);
    for (const volume of volumes) {
      const source = app.sources.get(volume.claim)!;
      // Deleted: finalizers may hold it a moment.
      await waitFor(async () => (await orUndefined(sandbox.core.readPersistentVolume({ name: source }))) === undefined, 15_000, () => `the source PV of ${volume.claim} is not gone ${label}`);
      assert.ok(!world.disks.some((disk) => disk.diskId === source), `the source disk of ${volume.claim} is deleted ${label}`);
      const claim = await sandbox.core.readNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, name: volume.claim });
      assert.ok(boundTogether(claim, await sandbox.core.readPersistentVolume({ name: volume.newPersistentVolume! })), `${volume.claim} on its new PV ${label}`);
      assert.equal(await reclaimPolicy(sandbox, volume.newPersistentVolume!), "Delete", `the new PV of ${volume.claim} has the source's policy ${label}`);
      assert.equal(await sandbox.control.content(volume.newDisk!), app.contents.get(volume.claim), `the new disk of ${volume.claim} holds its data ${label}`);
      assert.deepEqual(made.disks.get(volume.claim)?.map((disk) => disk.diskId), [volume.newDisk], `one new disk of ${volume.claim} ${label}`);
      assert.deepEqual(made.snapshots.get(volume.claim)?.map((snapshot) => snapshot.snapshotId), [volume.snapshot], `the snapshot of ${volume.claim} kept ${label}`);
    }
  }

  const fresh = (name: string) => prepareApp(sandbox, { name }, "finish");

  it("run again once done, writes nothing and deletes nothing more", async () => {
    await actTwice(sandbox, await fresh("twice"), (ctx) => finish.run(ctx), assertFinished);
  });

  it("crashed between any two of its API calls, completes when run again with each source deleted once and each claim on its new disk", async (t) => {
    const covered = await crashAtEachWrite({ test: t, prepare: (crashAt) => fresh(`crash-${crashAt}`), act: (ctx) => finish.run(ctx), check: assertFinished });
    assert.deepEqual([...covered].sort(), ["cloud.deleteDisk", "cloud.deleteDisk", "core.deletePersistentVolume", "core.deletePersistentVolume", "core.patchPersistentVolume", "core.patchPersistentVolume"]);
  });

  it("keeps a source disk attached again after its snapshot was taken, saying when, and deletes the other sources", async () => {
    const { app, context } = await fresh("reattached");
    const [touched, untouched] = app.claims;
    const source = app.sources.get(touched!)!;
    // ECS's times are to the second: the attach must come in a later second than the snapshot.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await sandbox.control.attach(source, "i-someone-else");
    await sandbox.control.detach(source);
    await assert.rejects(runStep(finish, context), (error: Error) => {
      assert.match(error.message, new RegExp(`^source disk ${source} of PVC ${touched!} kept: it was attached at \\S+, after its snapshot s-\\w+ was taken \\(\\S+\\): it may hold writes its new disk lacks$`));
      return true;
    });
    const world = await sandbox.inventory();
    assert.ok(world.disks.some((disk) => disk.diskId === source), "the re-attached source is kept");
    assert.ok(!world.disks.some((disk) => disk.diskId === app.sources.get(untouched!)), "the other source is deleted");
  });

  it("is the point of no return: it has no compensation", () => {
    assert.equal("compensate" in finish, false);
    assert.equal(finish.pastPointOfNoReturn, true);
  });
});
