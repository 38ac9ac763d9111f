/**
 * The rebind step's undo on a real cluster and the ECS emulator: compensated twice, or crashed
 * between any two of its API calls and run again, or run after rebind itself crashed half-way (it
 * runs after its own failure), it puts each claim back on its source PV and removes the new PVs
 * without deleting the new disks (create-disks' undo decides about those).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { orUndefined } from "../../../runner/kube-patch.ts";
import { rebind } from "../../../runner/steps/06-rebind.ts";
import { waitFor } from "../../../sandbox/processes.ts";
import {
  actTwice, assertOnSource, crashAtEachWrite, madeFor, prepareApp, readJournalOf, reclaimPolicy, startStepSandbox,
  type App, type StepSandbox,
} from "../../support/step-sandbox.ts";

describe("the rebind step's undo, on a real API server and the ECS emulator", () => {
  let sandbox: StepSandbox;
  before(async () => { sandbox = await startStepSandbox(); });
  after(async () => { await sandbox.stop(); });

  /** Each claim back on its source PV, the new PVs gone, the new disks kept in ECS. */
  async function assertUndone(app: App, label: string): Promise<void> {
    await assertOnSource(sandbox, app);
    const volumes = (await readJournalOf(sandbox, app)).status?.volumes ?? [];
    const made = await madeFor(sandbox, app);
    for (const volume of volumes) {
      // Deleted: pv-protection lets it go once the PV controller has seen it Released.
      await waitFor(async () => (await orUndefined(sandbox.core.readPersistentVolume({ name: volume.newDisk! }))) === undefined, 15_000, () => `the new PV of ${volume.claim} is not gone ${label}`);
      assert.deepEqual(made.disks.get(volume.claim)?.map((disk) => disk.diskId), [volume.newDisk], `the new disk of ${volume.claim} is kept ${label}`);
      assert.equal(await reclaimPolicy(sandbox, app.sources.get(volume.claim)!), "Retain", `protect's undo, not rebind's, gives the source PV of ${volume.claim} its policy back ${label}`);
    }
  }

  const fresh = (name: string) => prepareApp(sandbox, { name }, "rebind");
  const rebound = (crashAt: number) => prepareApp(sandbox, { name: `undo-${crashAt}` }, "rebind", "past");

  it("compensated twice, puts each claim back on its source PV once, and the second compensation does nothing", async () => {
    assert.deepEqual(await actTwice(sandbox, await rebound(0), (ctx) => rebind.compensate!(ctx), assertUndone), { kind: "done" });
  });

  it("its compensation, crashed between any two of its API calls, completes when run again with each claim on its source PV", async (t) => {
    const covered = await crashAtEachWrite({ test: t, prepare: rebound, act: (ctx) => rebind.compensate!(ctx), check: assertUndone });
    assert.ok(covered.length >= 6, `rebind's undo writes: ${covered.join(", ")}`);
  });

  it("crashed between any two of its API calls and then rolled back (its undo runs after its own failure), leaves each claim on its source PV", async (t) => {
    assert.ok(rebind.compensateOnFailure, "its undo runs after its own failure");
    await crashAtEachWrite({ test: t, prepare: (crashAt) => fresh(`fail-${crashAt}`), act: (ctx) => rebind.run(ctx), recover: (ctx) => rebind.compensate!(ctx), check: assertUndone });
  });
});
