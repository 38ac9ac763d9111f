/**
 * The create-disks step on a real cluster and the ECS emulator (through the real SDK): run twice,
 * or crashed between any two of its writes and run again, it leaves one new disk per claim, in
 * the planned zone, made from the claim's snapshot, and journals it; its compensation deletes
 * them (they hold copies only), twice, after its own crash or after the step's, and leaves each
 * claim on its source disk.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createDisks } from "../../../runner/steps/05-create-disks.ts";
import {
  ZONES, actTwice, assertOnSource, crashAtEachWrite, madeFor, prepareApp, readJournalOf, startStepSandbox,
  type App, type StepSandbox,
} from "../../support/step-sandbox.ts";

describe("the create-disks step, on a real API server and the ECS emulator", () => {
  let sandbox: StepSandbox;
  before(async () => { sandbox = await startStepSandbox(); });
  after(async () => { await sandbox.stop(); });

  /** One new disk per claim in ECS, in the target zone, from its snapshot, the one the journal names. */
  async function assertOneDiskPerClaim(app: App, label: string): Promise<void> {
    const volumes = (await readJournalOf(sandbox, app)).status?.volumes ?? [];
    const made = await madeFor(sandbox, app);
    assert.deepEqual([...made.disks.keys()].sort(), [...app.claims].sort(), `new disks only for the app's claims ${label}`);
    for (const claim of app.claims) {
      const disks = made.disks.get(claim) ?? [];
      const volume = volumes.find((candidate) => candidate.claim === claim);
      assert.equal(disks.length, 1, `one new disk for ${claim} ${label}`);
      assert.equal(volume?.newDisk, disks[0]!.diskId, `the journal names the new disk of ${claim} ${label}`);
      assert.equal(disks[0]!.zoneId, ZONES[1]);
      assert.equal(disks[0]!.sourceSnapshotId, volume.snapshot, `the new disk of ${claim} is made from its snapshot ${label}`);
      assert.equal(volume.state, "disk-created");
    }
  }

  /** The new disks are gone; each claim is on its source disk with its data. */
  async function assertRolledBack(app: App, label: string): Promise<void> {
    assert.deepEqual([...(await madeFor(sandbox, app)).disks.keys()], [], `no new disk left ${label}`);
    await assertOnSource(sandbox, app);
  }

  const fresh = (name: string) => prepareApp(sandbox, { name }, "create-disks");
  const created = (crashAt: number) => prepareApp(sandbox, { name: `undo-${crashAt}` }, "create-disks", "past");

  it("run again once done, makes no second disk, writes nothing and leaves the journal as it was", async () => {
    await actTwice(sandbox, await fresh("twice"), (ctx) => createDisks.run(ctx), assertOneDiskPerClaim);
  });

  it("crashed between any two of its writes, completes when run again with one disk per claim, each journaled", async (t) => {
    const covered = await crashAtEachWrite({ test: t, prepare: (crashAt) => fresh(`crash-${crashAt}`), act: (ctx) => createDisks.run(ctx), check: assertOneDiskPerClaim });
    assert.deepEqual(covered, ["cloud.createDisk", "cloud.createDisk", "journal.updateStatus"]);
  });

  it("compensated twice, deletes the new disks once (each held a copy only), and the second compensation does nothing", async () => {
    const first = await actTwice(sandbox, await created(0), (ctx) => createDisks.compensate!(ctx), assertRolledBack);
    assert.deepEqual(first, { kind: "done" }, "nothing kept");
  });

  it("its compensation, crashed between any two of its writes, completes when run again and leaves each claim on its source disk", async (t) => {
    const covered = await crashAtEachWrite({ test: t, prepare: created, act: (ctx) => createDisks.compensate!(ctx), check: assertRolledBack });
    // A disk still initializing from its snapshot refuses a delete: it is waited for (bounded), which adds a call.
    assert.deepEqual(new Set(covered), new Set(["cloud.deleteDisk"]));
    assert.ok(covered.length >= 2);
  });

  it("crashed between any two of its writes and then compensated, deletes every disk it made, journaled or not", async (t) => {
    assert.ok(createDisks.compensateOnFailure, "its undo runs after its own failure");
    await crashAtEachWrite({
      test: t,
      prepare: (crashAt) => fresh(`fail-${crashAt}`),
      act: (ctx) => createDisks.run(ctx),
      recover: (ctx) => createDisks.compensate!(ctx),
      check: assertRolledBack,
    });
  });
});
