/**
 * The rebind step on a real cluster (the PV controller binds what it does) and the ECS emulator:
 * run twice, or crashed between any two of its API calls and run again, each claim ends Bound to
 * the PV of its new disk, with one such PV, and its source PV Released on Retain. Its undo is
 * tested in rebind-undo.test.ts.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { boundTogether } from "../../../runner/bindings.ts";
import { orUndefined } from "../../../runner/kube-patch.ts";
import { rebind } from "../../../runner/steps/06-rebind.ts";
import { NAMESPACE, actTwice, assertOnSource, crashAtEachWrite, prepareApp, readJournalOf, startStepSandbox, type App, type StepSandbox } from "../../support/step-sandbox.ts";

describe("the rebind step, on a real API server and the ECS emulator", () => {
  let sandbox: StepSandbox;
  before(async () => { sandbox = await startStepSandbox(); });
  after(async () => { await sandbox.stop(); });

  const readPv = (name: string) => orUndefined(sandbox.core.readPersistentVolume({ name }));

  /** Each claim Bound to its new disk's PV (the only PV of that disk), with its labels; the source PV Released on Retain. */
  async function assertRebound(app: App, label: string): Promise<void> {
    const volumes = (await readJournalOf(sandbox, app)).status?.volumes ?? [];
    const pvs = (await sandbox.core.listPersistentVolume()).items;
    for (const claim of app.claims) {
      const volume = volumes.find((candidate) => candidate.claim === claim)!;
      assert.equal(volume.newPersistentVolume, volume.newDisk, `the journal names the new PV of ${claim} ${label}`);
      assert.equal(volume.state, "rebound", `${claim} journaled rebound ${label}`);
      const bound = await sandbox.core.readNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, name: claim });
      assert.ok(boundTogether(bound, await readPv(volume.newDisk!)), `${claim} Bound to its new PV ${volume.newDisk!} ${label}`);
      assert.deepEqual(bound.metadata?.labels, { app: app.name }, `${claim} keeps its labels ${label}`);
      assert.deepEqual(pvs.filter((pv) => pv.spec?.csi?.volumeHandle === volume.newDisk).map((pv) => pv.metadata?.name), [volume.newDisk], `one PV of the new disk of ${claim} ${label}`);
      const source = await readPv(app.sources.get(claim)!);
      assert.equal(source?.status?.phase, "Released", `the source PV of ${claim} is Released ${label}`);
      assert.equal(source.spec?.persistentVolumeReclaimPolicy, "Retain", `the source PV of ${claim} stays on Retain ${label}`);
      assert.equal(await sandbox.control.content(volume.newDisk!), app.contents.get(claim), `the new disk of ${claim} holds its data ${label}`);
    }
  }

  const fresh = (name: string) => prepareApp(sandbox, { name }, "rebind");

  it("lets go of no source disk that was attached after its snapshot was taken: it fails for good naming the disk, every claim still on its source", async () => {
    const { app, context } = await prepareApp(sandbox, { name: "touched" }, "rebind");
    const source = app.sources.get(app.claims[0]!)!;
    // ECS's times are to the second: the attach must come in a later second than the snapshot.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await sandbox.control.attach(source, "i-someone-else");
    await sandbox.control.detach(source);
    await assert.rejects(rebind.run(context), new RegExp(`^PermanentMigrationError: source disk\\(s\\) ${source} of PVC ${app.claims[0]!} was attached at \\S+, after its snapshot s-\\w+: it may hold writes its new disk lacks, so the rebind cannot go on$`));
    await assertOnSource(sandbox, app);
  });

  it("run again once done, writes nothing and leaves every claim on its new PV and the journal as it was", async () => {
    await actTwice(sandbox, await fresh("twice"), (ctx) => rebind.run(ctx), assertRebound);
  });

  it("crashed between any two of its API calls, completes when run again with each claim on one new PV and the source kept", async (t) => {
    const covered = await crashAtEachWrite({ test: t, prepare: (crashAt) => fresh(`crash-${crashAt}`), act: (ctx) => rebind.run(ctx), check: assertRebound });
    assert.ok(covered.length >= 7, `rebind's writes: ${covered.join(", ")}`);
  });
});
