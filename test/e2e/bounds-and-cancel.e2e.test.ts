/**
 * Every wait ends, every migration can be cancelled, and the runner re-checks what it relies on:
 * on the sandbox, with the holds a real cluster has (a pod's finalizer, a backup tool's finalizer on
 * a PVC), a user removing the request, and a scale-up that got past the guard.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../../sandbox/processes.ts";
import { SandboxSession } from "../support/sandbox-session.ts";

const NS = "bounds";
const FROM = "cn-shanghai-b";
const TO = "cn-shanghai-g";

describe("bounded waits, cancel and re-checked premises on the sandbox", () => {
  const sandbox = new SandboxSession("zf-bounds-", NS);
  const kubectl = (...args: string[]): Promise<string> => sandbox.kubectl(...args);
  const request = async (name: string, extra: string[] = []): Promise<void> => {
    await kubectl("-n", NS, "annotate", "statefulset", name, "zoneferry.io/check-interval=1s", "zoneferry.io/ready-timeout=30s", `zoneferry.io/target-zones=${TO}`, ...extra);
  };
  const fault = async (rule: Record<string, unknown>): Promise<void> => {
    await sandbox.emulator("/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(rule) });
  };
  const untilStep = async (name: string, step: string): Promise<void> => {
    await waitFor(async () => (await sandbox.annotation(name, "step")) === step, 60_000, () => `the migration of ${name} never reached ${step}`);
  };
  const diskExists = async (diskId: string): Promise<boolean> => (await sandbox.inventory()).disks.some((disk) => disk.diskId === diskId);
  const policyOf = (pv: string): Promise<string> => kubectl("get", "pv", pv, "-o", "jsonpath={.spec.persistentVolumeReclaimPolicy}");

  /** The app back in FROM on its source disk, holding `content`. */
  async function assertBackOnSource(name: string, source: string, content = `${name}-0 rows 1..100`): Promise<void> {
    await waitFor(async () => (await sandbox.readyReplicas(name)) === 1, 60_000, () => `${name} not Ready again`);
    assert.equal(await sandbox.zoneOfPod(`${name}-0`), FROM);
    assert.equal(await sandbox.diskOf(`data-${name}-0`), source, "the PVC is bound to its original PV again");
    assert.equal(await sandbox.contentOf(`data-${name}-0`), content);
  }

  before(async () => { await sandbox.up(); });
  after(async () => {
    await sandbox.emulator("/faults", { method: "DELETE" });
    await sandbox.down();
  });

  it("rolls back, naming the pod and its finalizer, when a pod stays Terminating past ready-timeout, and the app returns once the pod goes", async () => {
    await sandbox.statefulSet("lingering", 1, { zones: [FROM] });
    const source = await sandbox.diskOf("data-lingering-0");
    await kubectl("-n", NS, "patch", "pod", "lingering-0", "--type=merge", "-p", '{"metadata":{"finalizers":["example.com/hold"]}}');
    await request("lingering");
    assert.equal(await sandbox.ended("lingering"), "Failed");
    assert.match(await sandbox.annotation("lingering", "message"), /^step scale-to-zero failed: pod\(s\) lingering-0 \(Terminating, finalizers: example\.com\/hold\) still there after 30s; rolled back$/);
    assert.equal(await kubectl("-n", NS, "get", "statefulset", "lingering", "-o", "jsonpath={.spec.replicas}"), "1", "the replicas are back");
    await kubectl("-n", NS, "patch", "pod", "lingering-0", "--type=merge", "-p", '{"metadata":{"finalizers":null}}');
    await assertBackOnSource("lingering", source);
    assert.deepEqual(await sandbox.newDisksOf("data-lingering-0"), [], "nothing was made");
  });

  it("cancels a migration when zoneferry.io/target-zones is removed: rolled back at the next step, the app back on its disk, no new disk left", async () => {
    await sandbox.statefulSet("cancelled", 1, { zones: [FROM] });
    const source = await sandbox.diskOf("data-cancelled-0");
    await fault({ action: "CreateDisk", delayMs: 3_000, times: 1 });
    await request("cancelled");
    await untilStep("cancelled", "create-disks");
    // As a user, not the runner: the guard lets exactly this change through.
    await kubectl("-n", NS, "annotate", "statefulset", "cancelled", "zoneferry.io/target-zones-");
    assert.equal(await sandbox.ended("cancelled"), "Failed");
    assert.match(await sandbox.annotation("cancelled", "message"), /^cancelled at step (rebind|restore-replicas): zoneferry\.io\/target-zones was removed, which cancels the migration; rolled back$/);
    await assertBackOnSource("cancelled", source);
    await waitFor(async () => (await sandbox.newDisksOf("data-cancelled-0")).length === 0, 60_000, () => "the new disk was not deleted");
    assert.equal(await policyOf(source), "Delete", "the source PV has its policy back");
  });

  it("rolls back onto the disk the app wrote to when its StatefulSet is scaled up past the guard before the rebind", async () => {
    await sandbox.statefulSet("bypass", 1, { zones: [FROM] });
    const source = await sandbox.diskOf("data-bypass-0");
    await fault({ action: "CreateDisk", delayMs: 4_000, times: 1 });
    await request("bypass");
    await untilStep("bypass", "create-disks");
    // With the runner's own rights, which the guard lets through: an admin, a tool, a cluster without our webhook.
    await sandbox.kubectl("--kubeconfig", sandbox.env["RUNNER_KUBECONFIG"]!, "-n", NS, "scale", "statefulset", "bypass", "--replicas=1");
    await waitFor(async () => (await sandbox.readyReplicas("bypass")) === 1, 30_000, () => "the bypassing scale-up did not bring the pod back");
    // The app writes after the snapshot was taken: only the source disk has this.
    await sandbox.emulator(`/disks/${source}/content`, { method: "PUT", body: "bypass-0 rows 1..150" });
    assert.equal(await sandbox.ended("bypass"), "Failed");
    assert.match(await sandbox.annotation("bypass", "message"), /^step rebind failed: the StatefulSet came back up during the migration \(spec\.replicas is 1 and pod\(s\) bypass-0 exist\), past zoneferry's guard: the app may have written to its disks since they were stopped, so the rebind cannot go on; rolled back$/);
    await assertBackOnSource("bypass", source, "bypass-0 rows 1..150");
  });

  it("never gives a PVC's disk the Delete policy back while a backup tool's finalizer holds the PVC: the rebind and its undo stop at ready-timeout, naming it, and the source disk survives the PVC", async () => {
    await sandbox.statefulSet("guarded", 1, { zones: [FROM] });
    const source = await sandbox.diskOf("data-guarded-0");
    await kubectl("-n", NS, "patch", "pvc", "data-guarded-0", "--type=merge", "-p", '{"metadata":{"finalizers":["kubernetes.io/pvc-protection","example.com/backup"]}}');
    await request("guarded");
    assert.equal(await sandbox.ended("guarded", 180_000), "RollbackFailed");
    const message = await sandbox.annotation("guarded", "message");
    assert.match(message, /^step rebind failed: still waiting for old PVC data-guarded-0 to go \(held by finalizer\(s\) example\.com\/backup\) after 30s; rollback could not undo: rebind \(still waiting for PVC data-guarded-0 to go and be made again \(held by finalizer\(s\) example\.com\/backup\) after 30s\)/);
    assert.match(message, new RegExp(`PV ${source} of PVC data-guarded-0 kept on Retain`));
    assert.equal(await policyOf(source), "Retain");
    const kept = await sandbox.newDisksOf("data-guarded-0");
    assert.equal(kept.length, 1, "the new disk is kept too: the claim reaches neither disk for sure");
    // The backup tool lets go: the PVC goes, and its disk must not go with it.
    await kubectl("-n", NS, "patch", "pvc", "data-guarded-0", "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]');
    await waitFor(async () => (await kubectl("get", "pv", source, "-o", "jsonpath={.status.phase}")) === "Released", 30_000, () => "the source PV was not Released");
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    assert.ok(await diskExists(source), "the source disk is still there");
    assert.equal(await (await sandbox.emulator(`/disks/${source}/content`)).text(), "guarded-0 rows 1..100");
  });
});
