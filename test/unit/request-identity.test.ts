/**
 * The request identity and the queueing, written once in core/ (core/migration-id.ts,
 * core/migration-queue.ts), and what the webhook answers the runner today: nothing but "allowed",
 * which is why the chart can keep the runner's writes from the webhooks without changing behaviour.
 */
import { KRUISE } from "../../core/workload/kinds.ts";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SnapshotClusterView } from "../../core/cluster-view.ts";
import { NO_CLOUD } from "../../core/disk-cloud.ts";
import { currentRequest, migrationId, requestMigrationId } from "../../core/migration-id.ts";
import { MIGRATION_JOB_NAME, migrationJob, queueMigration, type MigrationJobData, type MigrationQueueWriter } from "../../core/migration-queue.ts";
import { mutate } from "../../webhook/handlers/mutate.ts";
import { validate } from "../../webhook/handlers/validate.ts";
import { RUNNER, USER, scaleRequest, update } from "../support/admission.ts";
import { NAMESPACE, statefulSet } from "../support/cluster-fixtures.ts";

const ZONES = "cn-shanghai-g, cn-shanghai-b";

describe("the request identity", () => {
  it("reads the current request and its id from the annotations, as the webhook, precheck and the reconciler do", () => {
    const current = currentRequest(NAMESPACE, "db", { "zoneferry.io/target-zones": ZONES, "zoneferry.io/retry": "2" });
    assert.ok(current !== undefined);
    assert.deepEqual(current.request.targetZones, ["cn-shanghai-g", "cn-shanghai-b"]);
    assert.equal(current.migrationId, migrationId({ namespace: NAMESPACE, name: "db", targetZones: ["cn-shanghai-g", "cn-shanghai-b"], retry: "2" }));
    assert.equal(current.migrationId, requestMigrationId(NAMESPACE, "db", current.request));
  });

  it("has no current request without target-zones or with invalid annotations", () => {
    assert.equal(currentRequest(NAMESPACE, "db", {}), undefined);
    assert.equal(currentRequest(NAMESPACE, "db", { "zoneferry.io/target-zones": ZONES, "zoneferry.io/check-interval": "often" }), undefined);
  });

  it("makes the job of a request: its id, the StatefulSet and its API, the zones and retry, and who asked", () => {
    const current = currentRequest(NAMESPACE, "db", { "zoneferry.io/target-zones": ZONES })!;
    assert.deepEqual(migrationJob({ namespace: NAMESPACE, name: "db" }, current, USER), {
      migrationId: current.migrationId, namespace: NAMESPACE, statefulSet: "db", apiVersion: "apps/v1", targetZones: ["cn-shanghai-g", "cn-shanghai-b"], retry: "", requestedBy: USER,
    });
  });

  it("names an Advanced StatefulSet's API in its job, so the runner reads and writes it through kruise's", () => {
    const current = currentRequest(NAMESPACE, "db", { "zoneferry.io/target-zones": ZONES })!;
    assert.equal(migrationJob({ namespace: NAMESPACE, name: "db", kind: KRUISE }, current, USER).apiVersion, "apps.kruise.io/v1beta1");
  });
});

describe("queueing a migration", () => {
  const job = migrationJob({ namespace: NAMESPACE, name: "db" }, currentRequest(NAMESPACE, "db", { "zoneferry.io/target-zones": ZONES })!, USER);
  function queueWith(state: "none" | "waiting" | "completed" | "failed") {
    const calls: string[] = [];
    const queue: MigrationQueueWriter = {
      add: (name: string, data: MigrationJobData, options: { jobId: string }) => { calls.push(`add ${name} ${options.jobId} ${data.migrationId}`); return Promise.resolve(); },
      getJob: () => Promise.resolve(state === "none" ? undefined : {
        isCompleted: () => Promise.resolve(state === "completed"),
        isFailed: () => Promise.resolve(state === "failed"),
        remove: () => { calls.push("remove"); return Promise.resolve(); },
      }),
    };
    return { queue, calls };
  }

  it("adds the job under its migration id", async () => {
    const { queue, calls } = queueWith("none");
    await queueMigration(queue, job);
    assert.deepEqual(calls, [`add ${MIGRATION_JOB_NAME} ${job.migrationId} ${job.migrationId}`]);
  });

  it("adds nothing while the same request is in flight", async () => {
    const { queue, calls } = queueWith("waiting");
    await queueMigration(queue, job);
    assert.deepEqual(calls, []);
  });

  it("replaces a finished run of the same request (moved away and back)", async () => {
    for (const state of ["completed", "failed"] as const) {
      const { queue, calls } = queueWith(state);
      await queueMigration(queue, job);
      assert.deepEqual(calls, ["remove", `add migrate ${job.migrationId} ${job.migrationId}`], state);
    }
  });
});

describe("what the webhook answers the runner's writes", () => {
  const context = { view: new SnapshotClusterView({}), cloud: NO_CLOUD, runnerIdentity: RUNNER };
  const held = (status: string) => statefulSet({ annotations: { "zoneferry.io/target-zones": "cn-shanghai-g", "zoneferry.io/migration-id": "0123456789ab", "zoneferry.io/status": status, "zoneferry.io/step": "snapshot" } });

  it("is a bare allow for every write the runner makes, held or not, so exempting it in matchConditions changes nothing", async () => {
    const writes = ["Pending", "Running", "RollingBack", "Succeeded"].flatMap((status) => [
      update(held(status), (next) => { next.metadata!.annotations!["zoneferry.io/status"] = "Running"; next.metadata!.annotations!["zoneferry.io/step"] = "rebind"; next.metadata!.annotations!["zoneferry.io/message"] = "moving"; }, { user: RUNNER }),
      update(held(status), (next) => { next.spec!.replicas = 0; }, { user: RUNNER }),
      update(held(status), (next) => { next.spec!.persistentVolumeClaimRetentionPolicy = { whenDeleted: "Retain", whenScaled: "Retain" }; }, { user: RUNNER }),
      scaleRequest(NAMESPACE, "db", 2, 0, RUNNER),
    ]);
    for (const write of writes) {
      assert.deepEqual(await validate(write, { ...context, view: new SnapshotClusterView({ statefulSets: [held("Running")] }) }), { verdict: { allowed: true } });
      assert.deepEqual(await mutate(write, context), { verdict: { allowed: true } });
    }
  });
});
