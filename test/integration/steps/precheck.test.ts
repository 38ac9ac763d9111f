/**
 * The precheck step on a real cluster and the ECS emulator: run twice, or crashed between any two
 * of its writes and run again, it leaves one journal recording the plan and every volume to move.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { precheck } from "../../../runner/steps/01-precheck.ts";
import { FROM_ZONE, ZONES, actTwice, contextOf, crashAtEachWrite, createApps, readJournalOf, startStepSandbox, type App, type StepSandbox } from "../../support/step-sandbox.ts";

describe("the precheck step, on a real API server and the ECS emulator", () => {
  let sandbox: StepSandbox;
  before(async () => { sandbox = await startStepSandbox(); });
  after(async () => { await sandbox.stop(); });

  const fresh = async (name: string) => {
    const [app] = await createApps(sandbox, [{ name }]);
    return { app: app!, context: contextOf(sandbox, app!) };
  };

  /** The journal records the plan, the replicas to restore and each volume to move, planned. */
  async function assertPlanned(app: App, label: string): Promise<void> {
    const journal = await readJournalOf(sandbox, app);
    assert.equal(journal.status?.phase, "Pending", `the journal is Pending ${label}`);
    assert.equal(journal.spec.originalReplicas, 2);
    assert.deepEqual(journal.spec.plan?.ordinals.map((ordinal) => ordinal.zone), [ZONES[1], ZONES[1]], `the plan moves both ordinals ${label}`);
    assert.deepEqual(journal.status.volumes, app.claims.map((claim) => ({
      claim, sourceDisk: app.sources.get(claim), sourcePersistentVolume: app.sources.get(claim), zone: ZONES[1], state: "planned",
    })), `every volume planned ${label}`);
    assert.ok(journal.spec.plan.ordinals.every((ordinal) => ordinal.volumes?.every((volume) => volume.fromZone === FROM_ZONE && volume.move)));
  }

  it("run again once done, writes nothing and leaves the journal as it was", async () => {
    await actTwice(sandbox, await fresh("twice"), (ctx) => precheck.run(ctx), assertPlanned);
  });

  it("crashed between any two of its writes, completes when run again with one journal recording the whole plan", async (t) => {
    const covered = await crashAtEachWrite({ test: t, prepare: (crashAt) => fresh(`crash-${crashAt}`), act: (ctx) => precheck.run(ctx), check: assertPlanned });
    assert.deepEqual(covered, ["journal.ensure", "journal.updateStatus", "journal.updateSpec"]);
  });

  it("has no compensation: it changes nothing but the journal", () => {
    assert.equal("compensate" in precheck, false);
  });
});
