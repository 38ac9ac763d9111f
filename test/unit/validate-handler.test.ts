import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1LabelSelector, V1Pod, V1PodDisruptionBudget, V1StatefulSet } from "@kubernetes/client-node";
import { SnapshotClusterView, type ClusterObjects, type ClusterView } from "../../core/cluster-view.ts";
import { NO_CLOUD, type DiskLookup } from "../../core/disk-cloud.ts";
import { unreadyReplicas } from "../../core/assess-migration.ts";
import { requestMigrationId } from "../../core/migration-id.ts";
import { CREATE_WARNING, UNSEEN_WARNING, validate } from "../../webhook/handlers/validate.ts";
import type { Decision } from "../../webhook/handlers/types.ts";
import { ARGO, RUNNER, USER, scaleRequest, stsRequest, update } from "../support/admission.ts";
import { cloudAnswering } from "../support/cloud-answers.ts";
import { NAMESPACE, clusterWithDisks, diskClaim, nasClaim, node, pendingClaim, readyStatus, statefulSet } from "../support/cluster-fixtures.ts";

const B = "cn-shanghai-b";
const G = "cn-shanghai-g";
const M = "cn-shanghai-m";

function judge(request: ReturnType<typeof update>, objects: ClusterObjects, cloud: DiskLookup = cloudAnswering()): Promise<Decision> {
  return validate(request, { view: new SnapshotClusterView(objects), cloud, runnerIdentity: RUNNER });
}

/** A StatefulSet running in `zones` (one per ordinal), and the UPDATE that asks to move it. */
function moveRequest(zones: string[], target: string, options: { templates?: string[]; whenScaled?: "Delete"; annotations?: Record<string, string> } = {}) {
  const old = statefulSet({ replicas: zones.length, ...options });
  const request = update(old, (next) => {
    next.metadata!.annotations = { ...next.metadata!.annotations, "zoneferry.io/target-zones": target, ...options.annotations };
  });
  return { old, request, cluster: clusterWithDisks(old, zones) };
}

function denial(decision: Decision): string {
  assert.equal(decision.verdict.allowed, false, "expected a denial");
  assert.equal(decision.verdict.status?.code, 403);
  assert.equal(decision.enqueue, undefined, "a denied request must queue nothing");
  return decision.verdict.status.message;
}

describe("admitting a new zone move", () => {
  it("admits a move of ESSD disks to a zone with nodes and queues it under its migration id", async () => {
    const { request, cluster } = moveRequest([M, M], G);
    const decision = await judge(request, cluster);
    assert.equal(decision.verdict.allowed, true);
    assert.deepEqual(decision.enqueue, {
      migrationId: decision.enqueue!.migrationId,
      namespace: NAMESPACE,
      statefulSet: "db",
      apiVersion: "apps/v1",
      targetZones: [G],
      retry: "",
      requestedBy: USER,
    });
    assert.match(decision.enqueue.migrationId, /^[0-9a-f]{12}$/);
  });

  it("treats a changed retry value as a new request for the same zones", async () => {
    const old = statefulSet({ annotations: { "zoneferry.io/target-zones": G, "zoneferry.io/status": "Failed" } });
    const request = update(old, (next) => { next.metadata!.annotations!["zoneferry.io/retry"] = "2"; });
    const decision = await judge(request, clusterWithDisks(old, [M, M]));
    assert.equal(decision.verdict.allowed, true);
    assert.ok(decision.enqueue !== undefined);
  });

  it("admits a re-apply of the same annotations without queueing anything (every GitOps sync)", async () => {
    const old = statefulSet({ annotations: { "zoneferry.io/target-zones": `${B}, ${G}`, "zoneferry.io/status": "Succeeded" } });
    const request = update(old, (next) => { next.metadata!.annotations!["zoneferry.io/target-zones"] = `${B},${G}`; next.metadata!.labels = { team: "shop" }; }, { user: ARGO });
    const decision = await judge(request, clusterWithDisks(old, [B, G]));
    assert.deepEqual(decision, { verdict: { allowed: true } });
  });

  it("admits a StatefulSet without zoneferry annotations untouched", async () => {
    const old = statefulSet();
    const decision = await judge(update(old, (next) => { next.spec!.replicas = 3; }), clusterWithDisks(old, [M, M]));
    assert.deepEqual(decision, { verdict: { allowed: true } });
  });

  it("admits a creation with target-zones but queues nothing and says why", async () => {
    const sts = statefulSet({ annotations: { "zoneferry.io/target-zones": G } });
    const decision = await judge(stsRequest(sts), { nodes: [node("n1", G)] });
    assert.deepEqual(decision, { verdict: { allowed: true, warnings: [CREATE_WARNING] } });
  });

  it("warns when the mutating webhook did not stamp the migration id", async () => {
    const { request, cluster } = moveRequest([M, M], G);
    const decision = await judge(request, cluster);
    assert.ok(decision.verdict.warnings?.some((warning) => /zoneferry.io\/migration-id is not stamped with [0-9a-f]{12}/.test(warning)));
  });
});

describe("denying a request that cannot be carried out", () => {
  it("denies malformed annotations with the annotation, the value and what is allowed", async () => {
    const { request, cluster } = moveRequest([M, M], "cn-shanghai-b,,x");
    const message = denial(await judge(request, cluster));
    assert.equal(message, 'zoneferry: StatefulSet shop/db has invalid annotations: annotation zoneferry.io/target-zones: "cn-shanghai-b,,x" has an empty item; expected comma-separated zone IDs such as "cn-shanghai-b,cn-shanghai-g"');
  });

  it("denies malformed annotations even at creation", async () => {
    const sts = statefulSet({ annotations: { "zoneferry.io/target-zones": G, "zoneferry.io/ready-timeout": "soon" } });
    assert.match(denial(await judge(stsRequest(sts), {})), /ready-timeout: "soon" is not a duration/);
  });

  it("denies a target zone without any node and counts the nodes seen there", async () => {
    const { request, cluster } = moveRequest([M, M], "cn-shanghai-x");
    const message = denial(await judge(request, cluster));
    assert.match(message, /^zoneferry: StatefulSet shop\/db cannot move to cn-shanghai-x: target zone cn-shanghai-x has no Ready, schedulable node \(0 nodes seen in that zone\); add nodes there or choose another zone$/);
  });

  it("denies a target zone whose nodes are all NotReady, cordoned or tainted, counting each reason", async () => {
    const { request, cluster } = moveRequest([M, M], G);
    const nodes = [node("g1", G, { ready: false }), node("g2", G, { unschedulable: true }), node("g3", G, { taint: "dedicated" }), node("m1", M)];
    const message = denial(await judge(request, { ...cluster, nodes }));
    assert.match(message, /target zone cn-shanghai-g has no Ready, schedulable node for these pods \(3 nodes seen in that zone: 1 not Ready, 1 cordoned, 1 tainted\)/);
  });

  it("counts a node the pod template's nodeSelector excludes as unusable", async () => {
    const { request, cluster } = moveRequest([M, M], G);
    request.object!.spec!["template"] = { spec: { nodeSelector: { pool: "db" }, containers: [] } };
    assert.match(denial(await judge(request, cluster)), /1 node seen in that zone: 1 excluded by the pod's nodeSelector or node affinity/);
  });

  it("accepts a tainted zone when the pod template tolerates the taint", async () => {
    const { request, cluster } = moveRequest([M, M], G);
    request.object!.spec!["template"] = { spec: { tolerations: [{ key: "dedicated", operator: "Exists" }], containers: [] } };
    const decision = await judge(request, { ...cluster, nodes: [node("g1", G, { taint: "dedicated" })] });
    assert.equal(decision.verdict.allowed, true);
  });

  it("denies disks that are not of the ESSD family and lists each PVC with its category", async () => {
    const old = statefulSet({ replicas: 2 });
    const request = update(old, (next) => { next.metadata!.annotations!["zoneferry.io/target-zones"] = G; });
    const cluster = clusterWithDisks(old, [M, M], { category: "cloud_ssd" });
    const message = denial(await judge(request, cluster));
    assert.match(message, /PVC data-db-0 is on cloud_ssd disk d-data-db-0, PVC data-db-1 is on cloud_ssd disk d-data-db-1; only ESSD-family disks \(cloud_essd, cloud_auto, cloud_essd_entry\) can be moved/);
  });

  it("reads the category from the CSI driver's disktype label, which carries the performance level", async () => {
    const { request, cluster } = moveRequest([M, M], G);
    for (const pv of cluster.persistentVolumes) {
      pv.metadata!.labels = { "csi.alibabacloud.com/disktype": "cloud_essd.PL1" };
      pv.spec!.csi!.volumeAttributes = {};
    }
    // ECS says otherwise: the label is what the driver wrote, and it wins.
    const cloud = cloudAnswering({ disks: { "d-data-db-0": { zoneId: M, category: "cloud_ssd" }, "d-data-db-1": { zoneId: M, category: "cloud_ssd" } } });
    const decision = await judge(request, cluster, cloud);
    assert.equal(decision.verdict.allowed, true);
    assert.deepEqual(cloud.calls.filter((call) => call.startsWith("DescribeDisks")), ["DescribeDisks d-data-db-0,d-data-db-1"], "ECS is still asked what the new disks must carry");
  });

  it("asks ECS for the category when the PV does not carry it, and denies an efficiency disk", async () => {
    const old = statefulSet({ replicas: 1 });
    const request = update(old, (next) => { next.metadata!.annotations!["zoneferry.io/target-zones"] = G; });
    const cluster = clusterWithDisks(old, [M], { categoryOnPv: false });
    const cloud = cloudAnswering({ disks: { "d-data-db-0": { zoneId: M, category: "cloud_efficiency" } } });
    assert.match(denial(await judge(request, cluster, cloud)), /PVC data-db-0 is on cloud_efficiency disk d-data-db-0/);
    assert.deepEqual(cloud.calls.filter((call) => call.startsWith("DescribeDisks")), ["DescribeDisks d-data-db-0"]);
  });

  it("does not take a topology-alltype category list on the PV as proof, and asks ECS", async () => {
    const old = statefulSet({ replicas: 1 });
    const request = update(old, (next) => { next.metadata!.annotations!["zoneferry.io/target-zones"] = G; });
    const cluster = clusterWithDisks(old, [M], { categoryOnPv: false, typeAttribute: "cloud_essd,cloud_ssd,cloud_efficiency" });
    const cloud = cloudAnswering({ disks: { "d-data-db-0": { zoneId: M, category: "cloud_ssd" } } });
    assert.match(denial(await judge(request, cluster, cloud)), /PVC data-db-0 is on cloud_ssd disk/);
  });

  it("denies a target zone where ECS does not sell the disk's category", async () => {
    const { request, cluster } = moveRequest([M, M], G);
    const cloud = cloudAnswering({ zones: { [G]: ["cloud_efficiency", "cloud_ssd"] } });
    assert.match(denial(await judge(request, cluster, cloud)), /ECS does not offer cloud_essd disks in target zone cn-shanghai-g \(DescribeAvailableResource\); choose another zone/);
  });

  it("denies while a PVC of the current replicas is not Bound, naming it", async () => {
    const { request, cluster } = moveRequest([M, M], G);
    const claims = cluster.persistentVolumeClaims.map((claim) => (claim.metadata!.name === "data-db-1" ? pendingClaim("data-db-1") : claim));
    const message = denial(await judge(request, { ...cluster, persistentVolumeClaims: claims }));
    assert.match(message, /PVC data-db-1 is Pending, not Bound; every PVC of the current replicas must be Bound before its disk can move/);
  });

  it("denies while a PVC of the current replicas does not exist yet", async () => {
    const { request, cluster } = moveRequest([M, M], G);
    const claims = cluster.persistentVolumeClaims.filter((claim) => claim.metadata!.name !== "data-db-1");
    assert.match(denial(await judge(request, { ...cluster, persistentVolumeClaims: claims })), /PVC data-db-1 does not exist/);
  });

  it("denies moving a regional ESSD disk, which serves every zone, and says to schedule the pods instead", async () => {
    const old = statefulSet({ replicas: 1 });
    const request = update(old, (next) => { next.metadata!.annotations!["zoneferry.io/target-zones"] = G; });
    const message = denial(await judge(request, clusterWithDisks(old, [M], { category: "cloud_regional_disk_auto" })));
    assert.match(message, /PVC data-db-0 is on regional ESSD disk d-data-db-0 \(cloud_regional_disk_auto\); a regional ESSD serves every zone of its region, so there is nothing to move: schedule the pods into the target zones instead/);
    assert.doesNotMatch(message, /only ESSD-family disks/);
  });

  it("denies moving a multi-attach disk other instances use too, naming the disk, the PVC and the instance count", async () => {
    const { request, cluster } = moveRequest([M, M], G);
    const cloud = cloudAnswering({ disks: { "d-data-db-1": { zoneId: M, category: "cloud_essd", multiAttach: true, mountedInstances: 3 } } });
    const message = denial(await judge(request, cluster, cloud));
    assert.match(message, /disk d-data-db-1 of PVC data-db-1 is multi-attach and attached to 3 instances; a move would take it away from the instances that are not this StatefulSet's, so detach it from them first/);
    assert.doesNotMatch(message, /data-db-0/);
  });

  it("admits a multi-attach disk only this StatefulSet's pod uses: the new disk is multi-attach too", async () => {
    const { request, cluster } = moveRequest([M], G);
    const cloud = cloudAnswering({ disks: { "d-data-db-0": { zoneId: M, category: "cloud_essd", multiAttach: true, mountedInstances: 1 } } });
    assert.equal((await judge(request, cluster, cloud)).verdict.allowed, true);
  });

  it("denies a disk with more tags than its new disk can take with zoneferry's own, saying how many to remove", async () => {
    const { request, cluster } = moveRequest([M], G);
    const tags = Object.fromEntries(Array.from({ length: 19 }, (_, index) => [`cost-${index}`, "x"]));
    // ECS's own and a previous run's tags are not copied, so they do not count.
    const cloud = cloudAnswering({ disks: { "d-data-db-0": { zoneId: M, category: "cloud_essd", tags: { ...tags, "acs:rm:rgId": "rg-1", "zoneferry.io/run": "abc" } } } });
    const message = denial(await judge(request, cluster, cloud));
    assert.match(message, /disk d-data-db-0 of PVC data-db-0 has more tags than its new disk can take \(ECS allows 20 per disk, zoneferry adds 3\); remove 2 of its tags and apply again/);
    const fits = cloudAnswering({ disks: { "d-data-db-0": { zoneId: M, category: "cloud_essd", tags: Object.fromEntries(Object.entries(tags).slice(0, 17)) } } });
    assert.equal((await judge(request, cluster, fits)).verdict.allowed, true);
  });

  it("reports every reason at once", async () => {
    const { request, cluster } = moveRequest([M, M], `${G},cn-shanghai-x`);
    const cloud = cloudAnswering({ zones: { [G]: ["cloud_ssd"] } });
    const message = denial(await judge(request, cluster, cloud));
    assert.match(message, /cn-shanghai-x has no Ready, schedulable node.*; ECS does not offer cloud_essd disks in target zone cn-shanghai-g/);
  });
});

describe("denying a move the replicas are not ready for", () => {
  const ADVICE = "every replica must be Ready before a move, because the move stops them all and one that cannot start now will not start after it: bring the replicas up (or scale the StatefulSet to those that run) and apply again";
  const EFFECT = "the move scales the StatefulSet to zero, which ends any staged rollout: its controller brings every pod back on the newest revision of the template";

  /** A move of `db` (2 replicas in M) whose StatefulSet is first shaped by `shape`. */
  function moveOf(shape: (sts: V1StatefulSet) => void, annotations: Record<string, string> = {}) {
    const old = statefulSet();
    shape(old);
    const request = update(old, (next) => {
      next.metadata!.annotations = { ...next.metadata!.annotations, "zoneferry.io/target-zones": G, ...annotations };
    });
    return { request, cluster: clusterWithDisks(old, [M, M]) };
  }

  it("says a Rolling move takes each replica down in turn only while the others are Ready, when a replica is not Ready", async () => {
    const { request, cluster } = moveOf((sts) => { sts.status!.readyReplicas = 1; }, { "zoneferry.io/strategy": "Rolling" });
    assert.equal(denial(await judge(request, cluster)), `zoneferry: StatefulSet shop/db cannot move to ${G}: only 1 of 2 replicas are Ready (status.readyReplicas); every replica must be Ready before a move, because the move takes each replica down in turn only while all the others are Ready, and one that cannot start now will not start after it: bring the replicas up (or scale the StatefulSet to those that run) and apply again`);
  });

  it("denies a Rolling move during a rollout too, saying each replica taken down comes back on the revision its controller picks", async () => {
    const { request, cluster } = moveOf((sts) => { sts.status = { ...readyStatus(2, "db-1"), updateRevision: "db-2", updatedReplicas: 1 }; }, { "zoneferry.io/strategy": "Rolling" });
    assert.match(denial(await judge(request, cluster)), /a rollout is under way \(updateStrategy RollingUpdate: 1 of 2 pods run revision db-2, the others db-1\); the move takes each replica down in turn and its controller makes it again on the revision it picks/);
  });

  it("denies a move while a replica is not Ready, counting them from the StatefulSet's status", async () => {
    const { request, cluster } = moveOf((sts) => { sts.status!.readyReplicas = 1; });
    assert.equal(denial(await judge(request, cluster)), `zoneferry: StatefulSet shop/db cannot move to ${G}: only 1 of 2 replicas are Ready (status.readyReplicas); ${ADVICE}`);
  });

  it("names each replica that is not Ready, and why, where the view has the pods (the runner's precheck)", async () => {
    const { request, cluster } = moveOf((sts) => { sts.status!.readyReplicas = 0; });
    const pending: V1Pod = {
      metadata: { name: "db-1", namespace: NAMESPACE, ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "uid-db" }] },
      status: { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) had volume node affinity conflict." }] },
    };
    const message = denial(await judge(request, { ...cluster, pods: [pending] }));
    assert.equal(message, `zoneferry: StatefulSet shop/db cannot move to ${G}: replica(s) not Ready: db-0 (not created), db-1 (Pending, Unschedulable: 0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) had volume node affinity conflict.); ${ADVICE}`);
  });

  it("denies a staged canary (a partition with pods on two revisions): the move would roll every pod to the canary's revision", async () => {
    const { request, cluster } = moveOf((sts) => {
      sts.spec!.updateStrategy = { type: "RollingUpdate", rollingUpdate: { partition: 1 } };
      sts.status = { ...readyStatus(2, "db-old"), updateRevision: "db-canary", updatedReplicas: 1, currentReplicas: 1 };
    });
    assert.equal(denial(await judge(request, cluster)), `zoneferry: StatefulSet shop/db cannot move to ${G}: updateStrategy.rollingUpdate.partition is 1 (a staged rollout: 1 of 2 pods run revision db-canary, the others db-old); ${EFFECT}: promote or revert the canary, set the partition to 0 and apply again (set it back after the move)`);
  });

  it("denies a partition even with every pod on one revision: a change of the template would no longer be staged", async () => {
    const { request, cluster } = moveOf((sts) => { sts.spec!.updateStrategy = { type: "RollingUpdate", rollingUpdate: { partition: 2 } }; });
    assert.match(denial(await judge(request, cluster)), /updateStrategy\.rollingUpdate\.partition is 2 \(a staged rollout\); the move scales the StatefulSet to zero/);
  });

  it("denies a move during a rolling update, saying to let it finish", async () => {
    const { request, cluster } = moveOf((sts) => { sts.status = { ...readyStatus(2, "db-1"), updateRevision: "db-2", updatedReplicas: 1 }; });
    assert.equal(denial(await judge(request, cluster)), `zoneferry: StatefulSet shop/db cannot move to ${G}: a rollout is under way (updateStrategy RollingUpdate: 1 of 2 pods run revision db-2, the others db-1); ${EFFECT}: let the rollout finish, or revert the template, then apply again`);
  });

  it("denies a move of an OnDelete StatefulSet with outdated pods, saying to delete them", async () => {
    const { request, cluster } = moveOf((sts) => {
      sts.spec!.updateStrategy = { type: "OnDelete" };
      sts.status = { ...readyStatus(2, "db-1"), updateRevision: "db-2", updatedReplicas: 0 };
    });
    assert.equal(denial(await judge(request, cluster)), `zoneferry: StatefulSet shop/db cannot move to ${G}: a rollout is under way (updateStrategy OnDelete: 0 of 2 pods run revision db-2, the others db-1); ${EFFECT}: delete the outdated pods (OnDelete) so they come back updated, or revert the template, then apply again`);
  });

  it("denies a request made in the same write as a change of the pod template", async () => {
    const old = statefulSet();
    const request = update(old, (next) => {
      next.metadata!.annotations = { ...next.metadata!.annotations, "zoneferry.io/target-zones": G };
      next.spec!.template.spec!.containers[0]!.image = "nginx:1.28";
      // As the API server hands it to validating webhooks: generation bumped, status as stored.
      next.metadata!.generation = 2;
    });
    assert.equal(denial(await judge(request, clusterWithDisks(old, [M, M]))), `zoneferry: StatefulSet shop/db cannot move to ${G}: the StatefulSet's spec changes (generation 2) and its controller has acted only on generation 1; apply the spec change on its own first, and the request once every replica is Ready again`);
  });
});

describe("strategy Rolling", () => {
  const ROLLING = { "zoneferry.io/strategy": "Rolling" };
  const NO_BUDGET = "strategy Rolling: no PodDisruptionBudget selects the replicas of StatefulSet shop/db; the move still takes one replica down at a time, but nothing else stops a voluntary disruption (a node drain, another eviction) from taking a second one meanwhile: add a PodDisruptionBudget with maxUnavailable: 1 that selects them";
  const ONE_REPLICA = "strategy Rolling with 1 replica: the move takes that replica down while its disks move, so the application is down for the move as with Recreate; add replicas first to keep serving";
  const budget = (selector: V1LabelSelector | undefined, namespace = NAMESPACE): V1PodDisruptionBudget => ({
    metadata: { name: "db", namespace },
    spec: { maxUnavailable: 1, ...(selector === undefined ? {} : { selector }) },
  });
  /** Allowed, and the warnings but the unstamped id's (these requests are not run through the mutating webhook). */
  const told = (decision: Decision): { allowed: boolean; warnings: string[] } => ({
    allowed: decision.verdict.allowed,
    warnings: (decision.verdict.warnings ?? []).filter((warning) => !warning.startsWith("zoneferry.io/migration-id is not stamped")),
  });
  /** A Rolling move of `db` (replicas in `zones`) in a cluster whose view holds `budgets`. */
  const rolling = (zones: string[], budgets: V1PodDisruptionBudget[] | undefined, annotations: Record<string, string> = ROLLING) => {
    const { request, cluster } = moveRequest(zones, G, { annotations });
    return { request, cluster: budgets === undefined ? cluster : { ...cluster, disruptionBudgets: budgets } };
  };

  it("admits a new request for strategy Rolling and queues it, without a warning when a budget covers the replicas", async () => {
    const { request, cluster } = rolling([M, M], [budget({ matchLabels: { app: "db" } })]);
    const decision = await judge(request, cluster);
    assert.deepEqual(told(decision), { allowed: true, warnings: [] });
    assert.equal(decision.enqueue?.statefulSet, "db");
  });

  it("admits Rolling at creation as any request, and a change of the strategy of a standing request, queueing nothing new", async () => {
    const sts = statefulSet({ annotations: { "zoneferry.io/target-zones": G, ...ROLLING } });
    assert.deepEqual(await judge(stsRequest(sts), { nodes: [node("n1", G)] }), { verdict: { allowed: true, warnings: [CREATE_WARNING] } });
    const old = statefulSet({ annotations: { "zoneferry.io/target-zones": G, "zoneferry.io/status": "Succeeded" } });
    const request = update(old, (next) => { next.metadata!.annotations!["zoneferry.io/strategy"] = "Rolling"; });
    assert.deepEqual(await judge(request, clusterWithDisks(old, [G, G])), { verdict: { allowed: true } });
  });

  it("warns, and still admits and queues, when no PodDisruptionBudget of the namespace selects the replicas", async () => {
    const elsewhere = budget({ matchLabels: { app: "db" } }, "other");
    const otherApp = budget({ matchLabels: { app: "web" } });
    const noSelector = budget(undefined);
    const excluded = budget({ matchExpressions: [{ key: "app", operator: "NotIn", values: ["db"] }] });
    const { request, cluster } = rolling([M, M], [elsewhere, otherApp, noSelector, excluded]);
    const decision = await judge(request, cluster);
    assert.deepEqual(told(decision), { allowed: true, warnings: [NO_BUDGET] });
    assert.ok(decision.enqueue !== undefined);
    assert.ok(NO_BUDGET.length < 400, "a warning of bounded size");
  });

  it("counts a budget that selects the replicas by expressions, or every pod of the namespace (an empty selector)", async () => {
    for (const selector of [{}, { matchExpressions: [{ key: "app", operator: "In", values: ["db", "web"] }, { key: "tier", operator: "DoesNotExist" }] }, { matchExpressions: [{ key: "app", operator: "Exists" }] }]) {
      const { request, cluster } = rolling([M, M], [budget(selector)]);
      assert.deepEqual(told(await judge(request, cluster)), { allowed: true, warnings: [] }, JSON.stringify(selector));
    }
  });

  it("says nothing of budgets where the view cannot tell (the runner's view, or budgets not listed yet)", async () => {
    const { request, cluster } = rolling([M, M], undefined);
    assert.deepEqual(told(await judge(request, cluster)), { allowed: true, warnings: [] });
    const view = new SnapshotClusterView(cluster);
    // The webhook's view before its budget informer has listed: undefined, not "none".
    const unlisted = new Proxy<ClusterView>(view, {
      get: (target, key) => {
        if (key === "listDisruptionBudgets") return () => undefined;
        const value: unknown = Reflect.get(target, key);
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const decision = await validate(request, { view: unlisted, cloud: cloudAnswering(), runnerIdentity: RUNNER });
    assert.deepEqual(told(decision), { allowed: true, warnings: [] });
  });

  it("warns that Rolling with one replica is an outage like Recreate's, instead of the budget warning", async () => {
    const { request, cluster } = rolling([M], []);
    const decision = await judge(request, cluster);
    assert.deepEqual(told(decision), { allowed: true, warnings: [ONE_REPLICA] });
  });

  it("admits podManagementPolicy Parallel: the runner checks every other replica Ready before each eviction", async () => {
    const old = statefulSet({ replicas: 3 });
    old.spec!.podManagementPolicy = "Parallel";
    const request = update(old, (next) => { next.metadata!.annotations = { ...next.metadata!.annotations, "zoneferry.io/target-zones": G, ...ROLLING }; });
    const decision = await judge(request, { ...clusterWithDisks(old, [M, M, M]), disruptionBudgets: [budget({ matchLabels: { app: "db" } })] });
    assert.deepEqual(told(decision), { allowed: true, warnings: [] });
    assert.ok(decision.enqueue !== undefined);
  });

  it("gives Recreate neither warning, and Rolling none when there is nothing to move", async () => {
    const recreate = rolling([M], [], {});
    assert.deepEqual(told(await judge(recreate.request, recreate.cluster)), { allowed: true, warnings: [] });
    const { request, cluster } = moveRequest([G], G, { annotations: ROLLING });
    assert.deepEqual(told(await judge(request, { ...cluster, disruptionBudgets: [] })), { allowed: true, warnings: ["nothing to move: all 1 disks already in target zones"] });
  });
});

describe("warning about what the move will not do", () => {
  it("warns that there is nothing to move when every disk is already in a target zone", async () => {
    const { request, cluster } = moveRequest([B, G], `${B},${G}`);
    const decision = await judge(request, cluster);
    assert.equal(decision.verdict.allowed, true);
    assert.ok(decision.verdict.warnings?.includes("nothing to move: all 2 disks already in target zones"));
  });

  it("warns that volumes that are not disks stay where they are", async () => {
    const { request, cluster } = moveRequest([M], G, { templates: ["data", "shared"] });
    const [nas, nasPv] = nasClaim("shared-db-0");
    const claims = cluster.persistentVolumeClaims.filter((claim) => claim.metadata!.name !== "shared-db-0");
    const decision = await judge(request, { ...cluster, persistentVolumeClaims: [...claims, nas], persistentVolumes: [...cluster.persistentVolumes, nasPv] });
    assert.equal(decision.verdict.allowed, true);
    assert.ok(decision.verdict.warnings?.includes("volumes that are not Alibaba Cloud disks stay where they are: shared-db-0 (nasplugin.csi.alibabacloud.com)"));
  });

  it("warns that a whenScaled Delete retention is switched to Retain for the migration", async () => {
    const { request, cluster } = moveRequest([M, M], G, { whenScaled: "Delete" });
    const decision = await judge(request, cluster);
    assert.ok(decision.verdict.warnings?.some((warning) => warning.startsWith("persistentVolumeClaimRetentionPolicy.whenScaled is Delete: the runner sets it to Retain")));
  });

  it("warns that an automatic snapshot policy is not carried to the new disk", async () => {
    const { request, cluster } = moveRequest([M], G);
    const cloud = cloudAnswering({ disks: { "d-data-db-0": { zoneId: M, category: "cloud_essd", autoSnapshotPolicyId: "sp-daily" } } });
    const decision = await judge(request, cluster, cloud);
    assert.equal(decision.verdict.allowed, true);
    assert.ok(decision.verdict.warnings?.includes("disk d-data-db-0 of PVC data-db-0 has automatic snapshot policy sp-daily, which ECS cannot set on a new disk: apply it to the new disk after the move"));
  });

  it("admits with an 'ECS unreachable' warning when no ECS answer is available", async () => {
    const { request, cluster } = moveRequest([M, M], G);
    const decision = await judge(request, cluster, NO_CLOUD);
    assert.equal(decision.verdict.allowed, true);
    assert.ok(decision.enqueue !== undefined);
    assert.ok(decision.verdict.warnings?.includes("ECS unreachable (no ECS endpoint is configured): could not check that cn-shanghai-g offers cloud_essd; the runner prechecks again"));
    assert.ok(decision.verdict.warnings?.includes("ECS unreachable (no ECS endpoint is configured): whether the new disks can carry each disk's attributes unchecked; the runner prechecks again"));
  });

  it("admits with an 'ECS unreachable' warning when a disk's category is unknown and ECS cannot say", async () => {
    const old = statefulSet({ replicas: 1 });
    const request = update(old, (next) => { next.metadata!.annotations!["zoneferry.io/target-zones"] = G; });
    const decision = await judge(request, clusterWithDisks(old, [M], { categoryOnPv: false }), NO_CLOUD);
    assert.equal(decision.verdict.allowed, true);
    assert.ok(decision.verdict.warnings?.some((warning) => warning.startsWith("ECS unreachable (no ECS endpoint is configured): category or zone of data-db-0 unchecked")));
  });
});

describe("the migration guard", () => {
  const held = (status = "Running", replicas = 2): V1StatefulSet =>
    statefulSet({ replicas, annotations: { "zoneferry.io/target-zones": G, "zoneferry.io/migration-id": "0123456789ab", "zoneferry.io/status": status, "zoneferry.io/step": "snapshot" } });

  // The mutating webhook holds replicas (test/unit/mutate-handler.test.ts); a change that reaches
  // validation was not held: the mutating webhook (failurePolicy Ignore) did not answer.
  it("denies a change of spec.replicas the mutating webhook did not hold, and says which migration holds the StatefulSet", async () => {
    const old = held("Running", 0);
    const message = denial(await judge(update(old, (next) => { next.spec!.replicas = 2; }, { user: ARGO }), {}));
    assert.equal(message, "zoneferry: StatefulSet shop/db is held by zoneferry migration 0123456789ab (status Running, step snapshot): spec.replicas cannot change until the migration ends; it is released when the migration ends (Succeeded, Failed or RollbackFailed), so apply again then");
  });

  it("denies a change of whenScaled the mutating webhook did not hold: Delete at 0 replicas would delete every claim", async () => {
    const old = held("Running", 0);
    old.spec!.persistentVolumeClaimRetentionPolicy = { whenDeleted: "Retain", whenScaled: "Retain" };
    const request = update(old, (next) => { next.spec!.persistentVolumeClaimRetentionPolicy!.whenScaled = "Delete"; }, { user: ARGO });
    assert.match(denial(await judge(request, {})), /\(status Running, step snapshot\): spec\.persistentVolumeClaimRetentionPolicy\.whenScaled cannot change until the migration ends/);
  });

  it("admits a write whose held fields are at their live values, the rest of it changed (what the mutating webhook lets through)", async () => {
    const old = held("Running", 0);
    const request = update(old, (next) => { next.metadata!.labels = { team: "shop" }; next.spec!.minReadySeconds = 5; }, { user: ARGO, dryRun: true });
    assert.deepEqual(await judge(request, {}), { verdict: { allowed: true } });
  });

  it("denies a change of the pod template during a migration", async () => {
    const old = held("Pending");
    const request = update(old, (next) => { next.spec!.template.metadata!.annotations = { "kubectl.kubernetes.io/restartedAt": "now" }; });
    assert.match(denial(await judge(request, {})), /spec\.template cannot change until the migration ends/);
  });

  it("denies a change of the zoneferry annotations during a migration, new target zones included", async () => {
    const old = held("RollingBack");
    const request = update(old, (next) => { next.metadata!.annotations!["zoneferry.io/target-zones"] = B; });
    assert.match(denial(await judge(request, {})), /held by zoneferry migration 0123456789ab \(status RollingBack, step snapshot\): the zoneferry annotations \(zoneferry.io\/target-zones\) cannot change/);
  });

  it("denies removing zoneferry's status annotations during a migration (a replace from Git)", async () => {
    const old = held("Running");
    const request = update(old, (next) => { delete next.metadata!.annotations!["zoneferry.io/status"]; });
    assert.match(denial(await judge(request, {})), /the zoneferry annotations \(zoneferry.io\/status\)/);
  });

  it("lets a user cancel a migration by removing zoneferry.io/target-zones, with the other request annotations a reverted commit removes", async () => {
    const old = held("Running", 0);
    old.metadata!.annotations!["zoneferry.io/check-interval"] = "1s";
    const cancel = update(old, (next) => {
      delete next.metadata!.annotations!["zoneferry.io/target-zones"];
      delete next.metadata!.annotations!["zoneferry.io/check-interval"];
    }, { user: ARGO });
    assert.equal((await judge(cancel, {})).verdict.allowed, true);
    const smuggled = update(old, (next) => {
      delete next.metadata!.annotations!["zoneferry.io/target-zones"];
      next.metadata!.annotations!["zoneferry.io/retain-source"] = "true";
      next.spec!.replicas = 2;
    }, { user: ARGO });
    assert.match(denial(await judge(smuggled, {})), /spec\.replicas, the zoneferry annotations \(zoneferry.io\/retain-source\) cannot change/);
  });

  it("denies kubectl scale through the scale subresource during a migration", async () => {
    const sts = held("Running", 0);
    const message = denial(await judge(scaleRequest(NAMESPACE, "db", 0, 3), { statefulSets: [sts] }));
    assert.match(message, /held by zoneferry migration 0123456789ab .*: spec\.replicas cannot change/);
  });

  it("holds a StatefulSet whose ZoneMigration journal is still running, even without the status annotation", async () => {
    const old = statefulSet({ annotations: { "zoneferry.io/target-zones": G } });
    const journal = { metadata: { name: "db-abcdefabcdef", namespace: NAMESPACE }, spec: { statefulSet: "db", migrationId: "abcdefabcdef" }, status: { phase: "Running" as const, step: "create-disks" } };
    const request = update(old, (next) => { next.metadata!.annotations!["zoneferry.io/target-zones"] = B; });
    assert.match(denial(await judge(request, { ...clusterWithDisks(old, [M, M]), zoneMigrations: [journal] })), /held by zoneferry migration abcdefabcdef \(status Running, step create-disks\)/);
  });

  it("lets zoneferry's runner identity scale and annotate a held StatefulSet", async () => {
    const old = held("Running");
    const runnerWrite = update(old, (next) => { next.spec!.replicas = 0; next.metadata!.annotations!["zoneferry.io/step"] = "scale-to-zero"; }, { user: RUNNER });
    assert.equal((await judge(runnerWrite, {})).verdict.allowed, true);
    assert.equal((await judge(scaleRequest(NAMESPACE, "db", 2, 0, RUNNER), { statefulSets: [old] })).verdict.allowed, true);
  });

  it("lets other fields of a held StatefulSet change", async () => {
    const old = held("Running");
    const decision = await judge(update(old, (next) => { next.spec!.minReadySeconds = 10; next.metadata!.labels = { tier: "db" }; }, { user: ARGO }), {});
    assert.deepEqual(decision, { verdict: { allowed: true } });
  });

  it("releases the StatefulSet once the migration has ended", async () => {
    for (const status of ["Succeeded", "Failed", "RollbackFailed"]) {
      const old = held(status, 0);
      const decision = await judge(update(old, (next) => { next.spec!.replicas = 2; }), {});
      assert.equal(decision.verdict.allowed, true, status);
      assert.equal((await judge(scaleRequest(NAMESPACE, "db", 0, 3), { statefulSets: [old] })).verdict.allowed, true, status);
    }
  });

  it("denies a new request while another migration of the StatefulSet is pending", async () => {
    const old = held("Pending");
    const request = update(old, (next) => { next.metadata!.annotations!["zoneferry.io/retry"] = "again"; });
    assert.match(denial(await judge(request, clusterWithDisks(old, [M, M]))), /held by zoneferry migration 0123456789ab \(status Pending/);
  });
});

describe("a request that already ran", () => {
  it("denies repeating it, naming the journal kept as its record, and says to set a new retry value", async () => {
    const { request, cluster } = moveRequest([M, M], G);
    const id = requestMigrationId(NAMESPACE, "db", { targetZones: [G], retry: "" });
    const journal = { metadata: { name: `db-${id}`, namespace: NAMESPACE }, spec: { statefulSet: "db", migrationId: id, targetZones: [G] }, status: { phase: "RollbackFailed" as const } };
    assert.equal(denial(await judge(request, { ...cluster, zoneMigrations: [journal] })), `zoneferry: StatefulSet ${NAMESPACE}/db: this request already ran (ZoneMigration db-${id} ended RollbackFailed), and its record is kept; to run the same request again, set zoneferry.io/retry to a new value`);
    const retried = moveRequest([M, M], G, { annotations: { "zoneferry.io/retry": "2" } });
    assert.equal((await judge(retried.request, { ...retried.cluster, zoneMigrations: [journal] })).verdict.allowed, true, "with a new retry value it is a new request");
  });
});

describe("reading the cluster", () => {
  it("plans all volumes of an ordinal into the same zone and checks each template's disk", async () => {
    const { request, cluster } = moveRequest([M, M], `${B},${G}`, { templates: ["data", "logs"] });
    const decision = await judge(request, cluster);
    assert.equal(decision.verdict.allowed, true);
  });

  it("ignores disks of ordinals above the replica count", async () => {
    const { request, cluster } = moveRequest([M], G);
    const [strayClaim, strayPv] = diskClaim("data-db-7", M, "d-stray", { category: "cloud_ssd" });
    const decision = await judge(request, { ...cluster, persistentVolumeClaims: [...cluster.persistentVolumeClaims, strayClaim], persistentVolumes: [...cluster.persistentVolumes, strayPv] });
    assert.equal(decision.verdict.allowed, true);
  });
});

describe("bounding what a request costs and what its answer tells", () => {
  /** A view that counts its claim lookups: a too-large StatefulSet must be denied before any. */
  function countingView(objects: ClusterObjects): { view: SnapshotClusterView; lookups: () => number } {
    const view = new SnapshotClusterView(objects);
    let lookups = 0;
    const get = view.getPersistentVolumeClaim.bind(view);
    view.getPersistentVolumeClaim = (namespace, name) => { lookups++; return get(namespace, name); };
    return { view, lookups: () => lookups };
  }

  it("denies replicas: 2147483647 at once, naming the limit, before it looks up a single claim", async () => {
    const { old, request, cluster } = moveRequest([M, M], G);
    const huge = update(old, (next) => { next.metadata!.annotations!["zoneferry.io/target-zones"] = G; next.spec!.replicas = 2_147_483_647; });
    const { view, lookups } = countingView(cluster);
    const started = performance.now();
    const decision = await validate(huge, { view, cloud: cloudAnswering(), runnerIdentity: RUNNER });
    assert.ok(performance.now() - started < 100);
    assert.equal(denial(decision), "zoneferry: StatefulSet shop/db cannot move to cn-shanghai-g: spec.replicas is 2147483647; zoneferry moves StatefulSets of at most 1000 replicas (MAX_REPLICAS, set where zoneferry is installed), so scale it down first or ask for the limit to be raised");
    assert.equal(lookups(), 0);
    assert.equal((await judge(request, cluster)).verdict.allowed, true, "the same StatefulSet at 2 replicas is admitted");
  });

  it("takes MAX_REPLICAS from the context: a StatefulSet at the limit is admitted, one above it denied", async () => {
    const { request, cluster } = moveRequest([M, M, M], G);
    const context = (maxReplicas: number) => ({ view: new SnapshotClusterView(cluster), cloud: cloudAnswering(), runnerIdentity: RUNNER, maxReplicas });
    assert.equal((await validate(request, context(3))).verdict.allowed, true);
    assert.match(denial(await validate(request, context(2))), /spec\.replicas is 3; zoneferry moves StatefulSets of at most 2 replicas/);
  });

  it("denies a StatefulSet with more claim templates than ECS attaches disks to an instance", async () => {
    const templates = Array.from({ length: 65 }, (_, index) => `vol${index}`);
    const { request, cluster } = moveRequest([M], G, { templates });
    assert.match(denial(await judge(request, cluster)), /spec\.volumeClaimTemplates has 65 claim templates; zoneferry moves StatefulSets of at most 64/);
  });

  it("names at most ten claims that are not Bound and counts the rest", async () => {
    const zones = Array.from({ length: 30 }, () => M);
    const { request, cluster } = moveRequest(zones, G);
    const message = denial(await judge(request, { ...cluster, persistentVolumeClaims: [] }));
    assert.match(message, /PVC data-db-9 does not exist … and 20 more; every PVC of the current replicas must be Bound/);
    assert.doesNotMatch(message, /data-db-10 /);
  });

  it("names at most ten replicas that are not Ready and counts the rest, without walking every ordinal (the runner's precheck)", () => {
    const huge = statefulSet({ replicas: 2_147_483_647 });
    const started = performance.now();
    const unready = unreadyReplicas(huge, []);
    assert.ok(performance.now() - started < 100);
    assert.deepEqual(unready.slice(0, 2), ["db-0 (not created)", "db-1 (not created)"]);
    assert.equal(unready.length, 11);
    assert.equal(unready.at(-1), "… and 2147483637 more");
  });

  it("counts only the replicas beyond those named that are not Ready", () => {
    const ready = (ordinal: number): V1Pod => ({
      metadata: { name: `db-${ordinal}`, namespace: NAMESPACE, ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "uid-db" }] },
      status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
    });
    const pods = [0, 1, 2, 3, 4, 20, 21, 22, 23, 24].map(ready);
    const unready = unreadyReplicas(statefulSet({ replicas: 30 }), pods);
    assert.equal(unready[0], "db-5 (not created)");
    assert.equal(unready[9], "db-14 (not created)");
    assert.equal(unready.at(-1), "… and 10 more");
  });

  it("admits an UPDATE of a StatefulSet the view does not hold under its uid without a word about the cluster, and queues nothing", async () => {
    // A forged review for another namespace's StatefulSet: its claims are Pending, which a real check would name.
    const { old, cluster } = moveRequest([M, M], G);
    const claims = cluster.persistentVolumeClaims.map((claim) => pendingClaim(claim.metadata!.name!));
    const forgedOld = { ...old, metadata: { ...old.metadata, uid: "forged-uid" } };
    const forged = update(forgedOld, (next) => { next.metadata!.annotations!["zoneferry.io/target-zones"] = G; });
    const decision = await judge(forged, { ...cluster, persistentVolumeClaims: claims });
    assert.deepEqual(decision, { verdict: { allowed: true, warnings: [UNSEEN_WARNING] } });
    assert.doesNotMatch(JSON.stringify(decision), /data-db|d-data|Pending, not Bound/);
  });

  it("treats a StatefulSet missing from the view as unseen, as a view a moment behind the API server would", async () => {
    const { request, cluster } = moveRequest([M, M], G);
    const decision = await judge(request, { ...cluster, statefulSets: [] });
    assert.deepEqual(decision, { verdict: { allowed: true, warnings: [UNSEEN_WARNING] } });
  });
});
