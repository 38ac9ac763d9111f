/**
 * Fencing on a real API server: one Lease per migration decides which worker may act, and a
 * worker that lost it (another took it, or it was paused past the Lease's duration) stops before
 * its next write. The API server's record of the Lease shows who held it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoordinationV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { FencedError, LeaseHeldError, MigrationLease } from "../../runner/fence.ts";
import { fenced } from "../../runner/fenced.ts";
import { controlPlaneBinaries, startControlPlane, type ControlPlane } from "../../sandbox/control-plane.ts";
import { NAMESPACE } from "../support/cluster-fixtures.ts";
import { ensureNamespace } from "../support/kube-seed.ts";

describe("the migration Lease that fences every side effect to one worker", () => {
  let plane: ControlPlane;
  let kubeconfig: KubeConfig;
  const leases = (): CoordinationV1Api => kubeconfig.makeApiClient(CoordinationV1Api);
  const holderOf = async (name: string): Promise<string | undefined> => (await leases().readNamespacedLease({ namespace: NAMESPACE, name })).spec?.holderIdentity;

  before(async () => {
    plane = await startControlPlane(controlPlaneBinaries(process.env));
    kubeconfig = new KubeConfig();
    kubeconfig.loadFromFile(plane.kubeconfig);
    await ensureNamespace(kubeconfig, NAMESPACE);
  });
  after(async () => {
    await plane.stop();
  });

  it("lets the second worker act only once the first has given the Lease back", async () => {
    const first = new MigrationLease(kubeconfig, { namespace: NAMESPACE, name: "zoneferry-a", identity: "worker-1" });
    const second = new MigrationLease(kubeconfig, { namespace: NAMESPACE, name: "zoneferry-a", identity: "worker-2" });
    await first.acquire();
    assert.equal(await holderOf("zoneferry-a"), "worker-1");
    await assert.rejects(second.acquire(), (error: unknown) => error instanceof LeaseHeldError && /held by worker-1/.test(error.message) && error.retryInMs > 0);
    first.check();
    await first.release();
    assert.equal(await holderOf("zoneferry-a"), "");
    await second.acquire();
    assert.equal(await holderOf("zoneferry-a"), "worker-2");
    await second.release();
  });

  it("stops a worker paused past the Lease's duration before its next write, and another takes over", async () => {
    let clock = 0;
    const paused = new MigrationLease(kubeconfig, { namespace: NAMESPACE, name: "zoneferry-b", identity: "worker-paused" }, { durationMs: 2_000, marginMs: 500, monotonic: () => clock });
    await paused.acquire();
    const core = fenced(kubeconfig.makeApiClient(CoreV1Api), paused);
    await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata: { name: "written-while-held" } } });
    // The process stops for longer than the Lease lasts (a GC pause, a SIGSTOP): its renewals stop too.
    clock += 1_600;
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    const successor = new MigrationLease(kubeconfig, { namespace: NAMESPACE, name: "zoneferry-b", identity: "worker-successor" });
    await successor.acquire();
    assert.equal(await holderOf("zoneferry-b"), "worker-successor");
    assert.throws(() => { paused.check(); }, FencedError);
    await assert.rejects(core.createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata: { name: "written-after-the-pause" } } }), FencedError);
    const names = (await kubeconfig.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: NAMESPACE })).items.map((map) => map.metadata?.name);
    assert.ok(names.includes("written-while-held"));
    assert.ok(!names.includes("written-after-the-pause"), "the paused worker's write never reached the API server");
    await paused.release();
    assert.equal(await holderOf("zoneferry-b"), "worker-successor", "a fenced worker does not give back a Lease it no longer holds");
    await successor.release();
  });

  it("closes the fence of a worker whose Lease another worker overwrote, at its next renewal", async () => {
    const loser = new MigrationLease(kubeconfig, { namespace: NAMESPACE, name: "zoneferry-c", identity: "worker-loser" }, { durationMs: 1_500, marginMs: 200 });
    await loser.acquire();
    const lease = await leases().readNamespacedLease({ namespace: NAMESPACE, name: "zoneferry-c" });
    await leases().replaceNamespacedLease({ namespace: NAMESPACE, name: "zoneferry-c", body: { ...lease, spec: { ...lease.spec, holderIdentity: "worker-thief" } } });
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.throws(() => { loser.check(); }, /another worker took the Lease/);
    await loser.release();
    assert.equal(await holderOf("zoneferry-c"), "worker-thief");
  });

  it("lets only reads through a closed fence", async () => {
    const lease = new MigrationLease(kubeconfig, { namespace: NAMESPACE, name: "zoneferry-d", identity: "worker-d" });
    await lease.acquire();
    lease.close("BullMQ lost the job's lock");
    const core = fenced(kubeconfig.makeApiClient(CoreV1Api), lease);
    const names = (await core.listNamespacedConfigMap({ namespace: NAMESPACE })).items.map((map) => map.metadata?.name);
    assert.ok(names.includes("written-while-held"), "the read went through and saw what was written");
    await assert.rejects(core.deleteNamespacedConfigMap({ namespace: NAMESPACE, name: "written-while-held" }), /BullMQ lost the job's lock/);
    await lease.release();
  });
});
