/**
 * The scale-to-zero step on a real cluster (the StatefulSet controller, kwok's pods, the
 * provisioner's attachments): run twice, or crashed and run again, it ends with no pod and every
 * source disk detached; its compensation, twice or after a crash, brings the replicas back on
 * their source disks.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { scaleToZero } from "../../../runner/steps/03-scale-to-zero.ts";
import { waitFor } from "../../../sandbox/processes.ts";
import {
  NAMESPACE, actTwice, assertOnSource, crashAtEachWrite, podCount, prepareApp, startStepSandbox,
  type App, type StepSandbox,
} from "../../support/step-sandbox.ts";

describe("the scale-to-zero step, on a real API server and the ECS emulator", () => {
  let sandbox: StepSandbox;
  before(async () => { sandbox = await startStepSandbox(); });
  after(async () => { await sandbox.stop(); });

  const statefulSet = (app: App) => sandbox.apps.readNamespacedStatefulSet({ namespace: NAMESPACE, name: app.name });

  /** No pod, no replica asked for, every source disk detached. */
  async function assertScaledDown(app: App, label: string): Promise<void> {
    assert.equal((await statefulSet(app)).spec?.replicas, 0, `0 replicas ${label}`);
    assert.equal(await podCount(sandbox, app), 0, `no pod ${label}`);
    const disks = (await sandbox.inventory()).disks.filter((disk) => [...app.sources.values()].includes(disk.diskId));
    assert.deepEqual(disks.map((disk) => disk.status), ["Available", "Available"], `the source disks detached ${label}`);
    await assertOnSource(sandbox, app);
  }

  /** Both replicas Ready again, on their source disks. */
  async function assertBackUp(app: App, label: string): Promise<void> {
    assert.equal((await statefulSet(app)).spec?.replicas, 2, `2 replicas asked for ${label}`);
    await waitFor(async () => (await statefulSet(app)).status?.readyReplicas === 2, 30_000, () => `${app.name} not Ready again ${label}`);
    await assertOnSource(sandbox, app);
  }

  const fresh = (name: string) => prepareApp(sandbox, { name }, "scale-to-zero");
  const scaledDown = (crashAt: number) => prepareApp(sandbox, { name: `undo-${crashAt}` }, "scale-to-zero", "past");

  it("run again once done, writes nothing: no pod comes back and the journal is as it was", async () => {
    await actTwice(sandbox, await fresh("twice"), (ctx) => scaleToZero.run(ctx), assertScaledDown);
  });

  it("crashed before its scale-down or before it journals when its wait began, completes when run again with no pod and every source disk detached", async (t) => {
    const covered = await crashAtEachWrite({ test: t, prepare: (crashAt) => fresh(`crash-${crashAt}`), act: (ctx) => scaleToZero.run(ctx), check: assertScaledDown });
    // The second write is the bounded wait's start (a journal condition), made while pods are still going.
    assert.deepEqual(covered[0], "workload.patch");
    assert.ok(covered.slice(1).every((write) => write === "journal.updateStatus"), covered.join(", "));
  });

  it("compensated twice, scales back up once, and the second compensation does nothing", async () => {
    assert.deepEqual(await actTwice(sandbox, await scaledDown(0), (ctx) => scaleToZero.compensate!(ctx), assertBackUp), { kind: "done" });
  });

  it("its compensation, crashed before its scale-up, completes when run again with the replicas back on their source disks", async (t) => {
    const covered = await crashAtEachWrite({ test: t, prepare: scaledDown, act: (ctx) => scaleToZero.compensate!(ctx), check: assertBackUp });
    assert.deepEqual(covered, ["workload.patch"]);
  });
});
