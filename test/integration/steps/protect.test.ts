/**
 * The protect step on a real cluster: run twice, or crashed between any two of its API calls and
 * run again, every source PV is on Retain and the StatefulSet's whenScaled too, the originals
 * journaled before anything changed; its compensation, twice or after a crash, gives them back.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { protect } from "../../../runner/steps/02-protect.ts";
import {
  NAMESPACE, actTwice, assertOnSource, crashAtEachWrite, prepareApp, readJournalOf, reclaimPolicy, startStepSandbox,
  type App, type StepSandbox,
} from "../../support/step-sandbox.ts";

describe("the protect step, on a real API server and the ECS emulator", () => {
  let sandbox: StepSandbox;
  before(async () => { sandbox = await startStepSandbox(); });
  after(async () => { await sandbox.stop(); });

  const whenScaled = async (app: App): Promise<string | undefined> =>
    (await sandbox.apps.readNamespacedStatefulSet({ namespace: NAMESPACE, name: app.name })).spec?.persistentVolumeClaimRetentionPolicy?.whenScaled;

  /** Every source PV and whenScaled on Retain; the originals and each claim's shape journaled. */
  async function assertProtected(app: App, label: string): Promise<void> {
    const journal = await readJournalOf(sandbox, app);
    assert.equal(journal.spec.originalWhenScaled, "Delete", `the original whenScaled journaled ${label}`);
    assert.equal(await whenScaled(app), "Retain", `whenScaled on Retain ${label}`);
    for (const claim of app.claims) {
      const volume = journal.status?.volumes?.find((candidate) => candidate.claim === claim);
      assert.equal(volume?.originalReclaimPolicy, "Delete", `the original policy of ${claim}'s PV journaled ${label}`);
      assert.deepEqual(volume.originalClaim?.labels, { app: app.name }, `the shape of ${claim} journaled ${label}`);
      assert.equal(volume.originalClaim.spec.storageClassName, "alicloud-disk-essd");
      assert.equal(await reclaimPolicy(sandbox, app.sources.get(claim)!), "Retain", `the source PV of ${claim} on Retain ${label}`);
    }
  }

  /** The policies as they were, and the data on the source disks. */
  async function assertUnprotected(app: App, label: string): Promise<void> {
    assert.equal(await whenScaled(app), "Delete", `whenScaled back to Delete ${label}`);
    for (const claim of app.claims) assert.equal(await reclaimPolicy(sandbox, app.sources.get(claim)!), "Delete", `the source PV of ${claim} back to Delete ${label}`);
    await assertOnSource(sandbox, app);
  }

  const fresh = (name: string) => prepareApp(sandbox, { name, whenScaled: "Delete" }, "protect");
  const protectedApp = (crashAt: number) => prepareApp(sandbox, { name: `undo-${crashAt}`, whenScaled: "Delete" }, "protect", "past");

  it("run again once done, writes nothing and leaves the journal as it was", async () => {
    await actTwice(sandbox, await fresh("twice"), (ctx) => protect.run(ctx), assertProtected);
  });

  it("crashed between any two of its API calls, completes when run again with every original journaled and every policy on Retain", async (t) => {
    const covered = await crashAtEachWrite({ test: t, prepare: (crashAt) => fresh(`crash-${crashAt}`), act: (ctx) => protect.run(ctx), check: assertProtected });
    assert.deepEqual(covered, ["journal.updateStatus", "core.patchPersistentVolume", "core.patchPersistentVolume", "journal.updateSpec", "workload.patch"]);
  });

  it("compensated twice, gives every policy back once, and the second compensation does nothing", async () => {
    assert.deepEqual(await actTwice(sandbox, await protectedApp(0), (ctx) => protect.compensate!(ctx), assertUnprotected), { kind: "done" });
  });

  it("its compensation, crashed between any two of its API calls, completes when run again with every policy as it was", async (t) => {
    const covered = await crashAtEachWrite({ test: t, prepare: protectedApp, act: (ctx) => protect.compensate!(ctx), check: assertUnprotected });
    assert.deepEqual(covered, ["core.patchPersistentVolume", "core.patchPersistentVolume", "workload.patch"]);
  });
});
