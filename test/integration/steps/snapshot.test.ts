/**
 * The snapshot step on a real cluster and the ECS emulator (through the real SDK): run twice, and
 * crashed between any two of its writes then run again, it leaves one snapshot per claim, of the
 * claim's source disk, and journals it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { snapshot } from "../../../runner/steps/04-snapshot.ts";
import { actTwice, crashAtEachWrite, madeFor, prepareApp, readJournalOf, startStepSandbox, type App, type StepSandbox } from "../../support/step-sandbox.ts";

describe("the snapshot step, on a real API server and the ECS emulator", () => {
  let sandbox: StepSandbox;
  before(async () => { sandbox = await startStepSandbox(); });
  after(async () => { await sandbox.stop(); });

  /** One snapshot per claim in ECS, of its source disk, the one the journal names. */
  async function assertOneSnapshotPerClaim(app: App, label: string): Promise<void> {
    const volumes = (await readJournalOf(sandbox, app)).status?.volumes ?? [];
    const made = await madeFor(sandbox, app);
    assert.deepEqual([...made.snapshots.keys()].sort(), [...app.claims].sort(), `snapshots only of the app's claims ${label}`);
    for (const claim of app.claims) {
      const snapshots = made.snapshots.get(claim) ?? [];
      assert.equal(snapshots.length, 1, `one snapshot of ${claim} ${label}`);
      assert.equal(snapshots[0]!.sourceDiskId, app.sources.get(claim), `the snapshot of ${claim} is of its source disk ${label}`);
      const volume = volumes.find((candidate) => candidate.claim === claim);
      assert.equal(volume?.snapshot, snapshots[0]!.snapshotId, `the journal names the snapshot of ${claim} ${label}`);
      assert.equal(volume.state, "snapshotted");
    }
    assert.deepEqual([...made.disks.keys()], [], "no disk made");
  }

  const fresh = (name: string) => prepareApp(sandbox, { name }, "snapshot");

  it("run again once done, makes no second snapshot, writes nothing and leaves the journal as it was", async () => {
    await actTwice(sandbox, await fresh("twice"), (ctx) => snapshot.run(ctx), assertOneSnapshotPerClaim);
  });

  it("crashed between any two of its writes, completes when run again with one snapshot per claim, each journaled", async (t) => {
    const covered = await crashAtEachWrite({ test: t, prepare: (crashAt) => fresh(`crash-${crashAt}`), act: (ctx) => snapshot.run(ctx), check: assertOneSnapshotPerClaim });
    assert.deepEqual(covered, ["cloud.createSnapshot", "cloud.createSnapshot", "journal.updateStatus"]);
  });

  it("has no compensation: a rollback keeps the snapshots, the user's backup", () => {
    assert.equal("compensate" in snapshot, false);
  });
});
