import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, KubeConfig, PatchStrategy, PolicyV1Api, StorageV1Api, setHeaderOptions } from "@kubernetes/client-node";
import request from "supertest";
import { controlPlaneBinaries, startControlPlane, type ControlPlane } from "../../sandbox/control-plane.ts";
import { waitFor } from "../../sandbox/processes.ts";
import { startInformerView, type InformerClusterView } from "../../webhook/informer-view.ts";
import { NAMESPACE, clusterWithDisks, node, statefulSet } from "../support/cluster-fixtures.ts";
import { seed } from "../support/kube-seed.ts";
import { capturingLogger, testApp } from "../support/webhook-app.ts";

describe("the cluster view behind admission, on a real API server", () => {
  let plane: ControlPlane;
  let kubeconfig: KubeConfig;
  let view: InformerClusterView;
  const { logger, logs } = capturingLogger();

  before(async () => {
    plane = await startControlPlane(controlPlaneBinaries(process.env));
    kubeconfig = new KubeConfig();
    kubeconfig.loadFromFile(plane.kubeconfig);
    await seed(kubeconfig, clusterWithDisks(statefulSet({ replicas: 2 }), ["cn-shanghai-m", "cn-shanghai-m"]));
    view = startInformerView(kubeconfig, { logger, backoffMs: 100, maxBackoffMs: 1_000 });
  });
  after(async () => {
    await view.stop();
    await plane.stop();
  });

  it("becomes ready once every informer has listed, without waiting for the ZoneMigration CRD", async () => {
    const { app } = testApp({ view });
    await view.whenSynced();
    assert.equal(view.synced(), true);
    assert.equal((await request(app).get("/readyz")).status, 200);
    assert.deepEqual(view.listZoneMigrations(NAMESPACE), []);
  });

  it("answers from the listed objects, each reduced to what the checks read", () => {
    assert.equal(view.listNodes().length, 3);
    const sts = view.getStatefulSet(NAMESPACE, "db");
    assert.match(sts?.metadata?.uid ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(sts?.spec, undefined, "the checks read the request's StatefulSet, never the view's spec");
    assert.equal(view.getPersistentVolumeClaim(NAMESPACE, "data-db-1")?.status?.phase, "Bound");
    assert.equal(view.getPersistentVolume("d-data-db-0")?.spec?.csi?.volumeHandle, "d-data-db-0");
    assert.equal(view.getStorageClass("alicloud-disk-essd")?.provisioner, "diskplugin.csi.alibabacloud.com");
    for (const object of [sts, view.listNodes()[0], view.getPersistentVolume("d-data-db-0")]) {
      assert.equal(object?.metadata?.managedFields, undefined);
      assert.match(object?.metadata?.resourceVersion ?? "", /^\d+$/, "the watch resumes from it");
    }
  });

  it("lists in pages as it does whole, and watches on from the list", async () => {
    const paged = startInformerView(kubeconfig, { logger, listPageSize: 1 });
    try {
      await paged.whenSynced();
      const names = (nodes: readonly { metadata?: { name?: string } }[]) => nodes.map((n) => n.metadata?.name).sort();
      assert.deepEqual(names(paged.listNodes()), names(view.listNodes()));
      assert.deepEqual(paged.getPersistentVolume("d-data-db-1"), view.getPersistentVolume("d-data-db-1"));
      const core = kubeconfig.makeApiClient(CoreV1Api);
      await core.patchNode({ name: "node-cn-shanghai-b-0", body: { spec: { unschedulable: true } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
      await waitFor(() => Promise.resolve(paged.listNodes().some((n) => n.metadata?.name === "node-cn-shanghai-b-0" && n.spec?.unschedulable === true)), 10_000, () => "the cordon never showed");
      await core.patchNode({ name: "node-cn-shanghai-b-0", body: { spec: { unschedulable: null } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
      await waitFor(() => Promise.resolve(paged.listNodes().some((n) => n.metadata?.name === "node-cn-shanghai-b-0" && n.spec?.unschedulable === undefined)), 10_000, () => "the uncordon never showed");
    } finally {
      await paged.stop();
    }
  });

  it("sees objects created and deleted after it started", async () => {
    const core = kubeconfig.makeApiClient(CoreV1Api);
    await core.createNode({ body: node("late-node", "cn-shanghai-g") });
    await waitFor(() => Promise.resolve(view.listNodes().some((n) => n.metadata?.name === "late-node")), 10_000, () => "the new node never showed");
    // Nodes, not PVCs: PVCs and PVs keep their protection finalizers here, where no controller removes them.
    await core.deleteNode({ name: "node-cn-shanghai-m-0" });
    await waitFor(() => Promise.resolve(view.listNodes().every((n) => n.metadata?.name !== "node-cn-shanghai-m-0")), 10_000, () => "the deleted node stayed");
  });

  it("holds the PodDisruptionBudgets of each namespace, by their selectors, once listed", async () => {
    await waitFor(() => Promise.resolve(view.listDisruptionBudgets?.(NAMESPACE) !== undefined), 10_000, () => "the budgets were never listed");
    assert.deepEqual(view.listDisruptionBudgets?.(NAMESPACE), []);
    await kubeconfig.makeApiClient(PolicyV1Api).createNamespacedPodDisruptionBudget({
      namespace: NAMESPACE,
      body: { metadata: { name: "db", namespace: NAMESPACE }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: "db" } } } },
    });
    await waitFor(() => Promise.resolve(view.listDisruptionBudgets?.(NAMESPACE)?.length === 1), 10_000, () => "the new budget never showed");
    assert.deepEqual(view.listDisruptionBudgets(NAMESPACE)?.map((budget) => budget.spec?.selector?.matchLabels), [{ app: "db" }]);
    assert.deepEqual(view.listDisruptionBudgets("other"), []);
  });

  it("keeps answering while the API server is down and catches up after it is back", async () => {
    const core = kubeconfig.makeApiClient(CoreV1Api);
    const restart = plane.restartApiServer();
    // While it restarts, the last good cache still answers.
    assert.equal(view.getStatefulSet(NAMESPACE, "db")?.metadata?.name, "db");
    await restart;
    await core.createNode({ body: node("after-restart", "cn-shanghai-b") });
    await kubeconfig.makeApiClient(StorageV1Api).deleteStorageClass({ name: "alicloud-disk-essd" });
    await waitFor(
      () => Promise.resolve(view.listNodes().some((n) => n.metadata?.name === "after-restart") && view.getStorageClass("alicloud-disk-essd") === undefined),
      // The restart alone takes about 12 s (the API server's graceful shutdown), more under load.
      60_000,
      () => `the view did not catch up after the restart; logs: ${JSON.stringify(logs.slice(-5))}`,
    );
    assert.ok(logs.some((line) => line["msg"] === "watch failed; re-listing after a backoff"), "the broken watch was noticed and rebuilt");
    assert.equal(view.synced(), true);
  });
});
