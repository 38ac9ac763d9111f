/**
 * OpenKruise Advanced StatefulSets at admission (issue 15): the same rules and messages as apps/v1,
 * their live ordinals (reserveOrdinals, ordinals.start) planned, and what a move cannot work with
 * denied with a message that says what to change.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SnapshotClusterView, type ClusterObjects } from "../../core/cluster-view.ts";
import type { DiskLookup } from "../../core/disk-cloud.ts";
import { KRUISE } from "../../core/workload/kinds.ts";
import { isLiveOrdinal, liveOrdinals } from "../../core/workload/ordinals.ts";
import { unreadyReplicas } from "../../core/assess-migration.ts";
import { decodeAdmissionReview } from "../../webhook/admission/review.ts";
import { validate } from "../../webhook/handlers/validate.ts";
import type { Decision } from "../../webhook/handlers/types.ts";
import { RUNNER, USER, reviewBody, scaleRequest, stsRequest, update } from "../support/admission.ts";
import { cloudAnswering } from "../support/cloud-answers.ts";
import { advancedStatefulSet, clusterWithDisks, statefulSet } from "../support/cluster-fixtures.ts";

const G = "cn-shanghai-g";
const M = "cn-shanghai-m";

function judge(request: ReturnType<typeof update>, objects: ClusterObjects, cloud: DiskLookup = cloudAnswering()): Promise<Decision> {
  return validate(request, { view: new SnapshotClusterView(objects), cloud, runnerIdentity: RUNNER });
}

type Spec = Parameters<typeof advancedStatefulSet>[0];

/** An Advanced StatefulSet on disks in `zones` (one per live ordinal) and the UPDATE that moves it to `target`. */
function kruiseMove(zones: string[], target: string, options: Spec = {}) {
  const old = advancedStatefulSet({ replicas: zones.length, ...options });
  const request = update(old, (next) => { next.metadata!.annotations = { ...next.metadata!.annotations, "zoneferry.io/target-zones": target }; }, { workload: KRUISE });
  return { old, request, cluster: clusterWithDisks(old, zones) };
}

function denial(decision: Decision): string {
  assert.equal(decision.verdict.allowed, false, "expected a denial");
  assert.equal(decision.enqueue, undefined, "a denied request must queue nothing");
  return decision.verdict.status!.message;
}

describe("the ordinals an Advanced StatefulSet runs", () => {
  it("skips reserveOrdinals: 3 replicas with [1] run pods 0, 2 and 3", () => {
    assert.deepEqual(liveOrdinals({ replicas: 3, reserveOrdinals: [1] }), [0, 2, 3]);
  });

  it("reads ranges written \"a-b\" and starts at ordinals.start", () => {
    assert.deepEqual(liveOrdinals({ replicas: 4, reserveOrdinals: ["1-2", 5] }), [0, 3, 4, 6]);
    assert.deepEqual(liveOrdinals({ replicas: 2, ordinals: { start: 3 }, reserveOrdinals: [3] }), [4, 5]);
  });

  it("never expands a huge reserved range, so a hostile spec costs one interval", () => {
    const started = performance.now();
    assert.deepEqual(liveOrdinals({ replicas: 2, reserveOrdinals: ["0-2000000000"] }), [2_000_000_001, 2_000_000_002]);
    assert.ok(performance.now() - started < 50);
  });

  it("ignores what is not an ordinal or a range, as kruise does", () => {
    assert.deepEqual(liveOrdinals({ replicas: 2, reserveOrdinals: ["x", "3-1", -1, 0.5] }), [0, 1]);
  });

  it("tells whether a pod's ordinal is live without walking the replicas before it", () => {
    const spec = { replicas: 3, reserveOrdinals: [1] };
    assert.deepEqual([0, 1, 2, 3, 4].map((ordinal) => isLiveOrdinal(spec, ordinal)), [true, false, true, true, false]);
    const huge = { replicas: 2_000_000_000, ordinals: { start: 5 }, reserveOrdinals: ["10-1000000000"] };
    const started = performance.now();
    assert.equal(isLiveOrdinal(huge, 4), false);
    assert.equal(isLiveOrdinal(huge, 500), false);
    assert.equal(isLiveOrdinal(huge, 2_000_000_000), true);
    assert.equal(isLiveOrdinal(huge, 2_999_999_995), true);
    assert.equal(isLiveOrdinal(huge, 2_999_999_996), false);
    assert.ok(performance.now() - started < 50);
  });

  it("names the unready replicas of reserveOrdinals [1] as pods 0, 2 and 3, and counts a huge rest from the pods alone", () => {
    const three = advancedStatefulSet({ replicas: 3, spec: { reserveOrdinals: [1] } });
    assert.deepEqual(unreadyReplicas(three, []), ["db-0 (not created)", "db-2 (not created)", "db-3 (not created)"]);
    const huge = advancedStatefulSet({ replicas: 2_000_000_000, spec: { reserveOrdinals: ["3-1000000000"] } });
    const started = performance.now();
    const unready = unreadyReplicas(huge, []);
    assert.ok(performance.now() - started < 100);
    assert.deepEqual(unready.slice(2, 4), ["db-2 (not created)", "db-1000000001 (not created)"]);
    assert.equal(unready.at(-1), "… and 1999999990 more");
  });
});

describe("admitting a move of an Advanced StatefulSet", () => {
  it("admits a move to one zone and queues it with kruise's API named in the job", async () => {
    const { request, cluster } = kruiseMove([M, M], G);
    const decision = await judge(request, cluster);
    assert.equal(decision.verdict.allowed, true, decision.verdict.status?.message);
    assert.equal(decision.enqueue?.apiVersion, "apps.kruise.io/v1beta1");
    assert.equal(decision.enqueue.statefulSet, "db");
    assert.equal(decision.enqueue.requestedBy, USER);
  });

  it("plans the live ordinals of reserveOrdinals [1]: pods 0, 2 and 3, never 1", async () => {
    const { request, cluster } = kruiseMove([M, M, M], G, { spec: { reserveOrdinals: [1] } });
    const decision = await judge({ ...request, dryRun: true }, cluster);
    assert.equal(decision.verdict.allowed, true, decision.verdict.status?.message);
    const plan = decision.verdict.warnings![0]!;
    assert.match(plan, /db-0 → cn-shanghai-g/);
    assert.match(plan, /db-2 → cn-shanghai-g/);
    assert.match(plan, /db-3 → cn-shanghai-g/);
    assert.doesNotMatch(plan, /db-1\b/);
  });

  it("denies a move whose claim of a live ordinal is missing, naming it (reserveOrdinals counted)", async () => {
    const { request, cluster } = kruiseMove([M, M], G, { spec: { reserveOrdinals: [0] } });
    const withoutTwo = { ...cluster, persistentVolumeClaims: cluster.persistentVolumeClaims.filter((claim) => claim.metadata!.name !== "data-db-2") };
    assert.match(denial(await judge(request, withoutTwo)), /PVC data-db-2 does not exist/);
  });

  it("denies a pre-delete lifecycle hook, which would hold every pod the move takes down", async () => {
    const { request, cluster } = kruiseMove([M, M], G, { spec: { lifecycle: { preDelete: { labelsHandler: { "example.com/drain": "true" } } } } });
    assert.match(denial(await judge(request, cluster)), /spec\.lifecycle\.preDelete \(label example\.com\/drain\) holds each pod in PreparingDelete.*remove spec\.lifecycle\.preDelete for the move/);
  });

  it("denies PersistentPodState pinning pods to their zone, and admits it when the zone is only preferred", async () => {
    const pinned = kruiseMove([M, M], G, { annotations: { "kruise.io/auto-generate-persistent-pod-state": "true", "kruise.io/required-persistent-topology": "topology.kubernetes.io/zone" } });
    assert.match(denial(await judge(pinned.request, pinned.cluster)), /pin every re-created pod to the zone it ran in, so a replica whose disk moved would never schedule/);
    const preferred = kruiseMove([M, M], G, { annotations: { "kruise.io/auto-generate-persistent-pod-state": "true", "kruise.io/preferred-persistent-topology": "topology.kubernetes.io/zone" } });
    assert.equal((await judge(preferred.request, preferred.cluster)).verdict.allowed, true);
  });

  it("denies a paused rollout as a staged one, and a partition as for apps/v1", async () => {
    const paused = kruiseMove([M, M], G, { spec: { updateStrategy: { type: "RollingUpdate", rollingUpdate: { paused: true } } } });
    paused.request.object!["status"] = { ...paused.old.status, currentRevision: "db-1", updateRevision: "db-2", updatedReplicas: 0 };
    assert.match(denial(await judge(paused.request, paused.cluster)), /updateStrategy\.rollingUpdate\.paused is true \(a paused rollout: 0 of 2 pods run revision db-2, the others db-1\)/);
    const canary = kruiseMove([M, M], G, { spec: { updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } } } });
    assert.match(denial(await judge(canary.request, canary.cluster)), /updateStrategy\.rollingUpdate\.partition is 1/);
  });

  it("admits paused with every pod on one revision: nothing is staged", async () => {
    const { request, cluster } = kruiseMove([M, M], G, { spec: { updateStrategy: { type: "RollingUpdate", rollingUpdate: { paused: true } } } });
    assert.equal((await judge(request, cluster)).verdict.allowed, true);
  });

  it("denies a move when an apps/v1 StatefulSet of the same name shares its claim names", async () => {
    const { request, cluster } = kruiseMove([M, M], G);
    assert.match(denial(await judge(request, { ...cluster, statefulSets: [statefulSet()] })), /an apps\/v1 StatefulSet of the same name exists in shop, and both name their claims <template>-db-<ordinal>/);
  });
});

describe("reading which kind a review is about", () => {
  it("tells an Advanced StatefulSet's scale from apps/v1's by the request's resource group", () => {
    const kruise = decodeAdmissionReview(reviewBody(scaleRequest("shop", "db", 2, 3, USER, KRUISE)));
    const native = decodeAdmissionReview(reviewBody(scaleRequest("shop", "db", 2, 3)));
    assert.ok(kruise.ok && native.ok);
    assert.equal(kruise.request.workload, KRUISE);
    assert.equal(native.request.workload.apiVersion, "apps/v1");
  });

  it("reads an apps.kruise.io StatefulSet as one, and refuses other groups' kinds", () => {
    const decoded = decodeAdmissionReview(reviewBody(stsRequest(advancedStatefulSet(), { workload: KRUISE })));
    assert.ok(decoded.ok);
    assert.equal(decoded.request.workload, KRUISE);
    const body = reviewBody(stsRequest(statefulSet()));
    (body["request"] as { kind: { group: string } }).kind.group = "apps.example.com";
    const refused = decodeAdmissionReview(body);
    assert.equal(refused.ok, false);
  });

  it("guards an Advanced StatefulSet's scale while its migration holds it, reading the held one of its kind", async () => {
    const held = advancedStatefulSet({ annotations: { "zoneferry.io/status": "Running", "zoneferry.io/migration-id": "0123456789ab", "zoneferry.io/step": "snapshot" } });
    const view = { advancedStatefulSets: [held], statefulSets: [statefulSet()] };
    const decision = await judge(scaleRequest("shop", "db", 2, 3, USER, KRUISE), view);
    assert.match(denial(decision), /held by zoneferry migration 0123456789ab/);
    assert.equal((await judge(scaleRequest("shop", "db", 2, 3), view)).verdict.allowed, true);
  });
});
