/**
 * What acknowledging an ended migration does, as docs/gitops.md and docs/operations.md tell it:
 * the webhooks' answers (mutating, then validating) to a Git revert that removes the request
 * after a Failed or RollbackFailed run, and to removing zoneferry's annotations by hand. The
 * request's removal is admitted and clears nothing: zoneferry's status stays on the StatefulSet.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1StatefulSet } from "@kubernetes/client-node";
import { SnapshotClusterView, type ClusterObjects } from "../../core/cluster-view.ts";
import { NO_CLOUD } from "../../core/disk-cloud.ts";
import type { AdmissionRequest } from "../../webhook/admission/review.ts";
import { mutate } from "../../webhook/handlers/mutate.ts";
import { validate } from "../../webhook/handlers/validate.ts";
import { ARGO, RUNNER, update } from "../support/admission.ts";
import { NAMESPACE, statefulSet } from "../support/cluster-fixtures.ts";

const ID = "3f9c2a7d41b0";
const ENDED = (status: string): V1StatefulSet => statefulSet({
  annotations: {
    "zoneferry.io/target-zones": "cn-shanghai-g",
    "zoneferry.io/retry": "1",
    "zoneferry.io/migration-id": ID,
    "zoneferry.io/status": status,
    "zoneferry.io/step": "restore-replicas",
    "zoneferry.io/message": "step restore-replicas failed: …; rolled back",
  },
});
/** The ZoneMigration of that run, ended: the record the webhook keeps to deny a repeat. */
const RECORD = (status: string): ClusterObjects => ({
  zoneMigrations: [{ metadata: { name: `db-${ID}`, namespace: NAMESPACE }, spec: { statefulSet: "db", migrationId: ID, targetZones: ["cn-shanghai-g"] }, status: { phase: status as "Failed" } }],
});

/** Both webhooks in the API server's order: whether the mutating one patched, whether both allowed, whether a migration was queued. */
async function admit(request: AdmissionRequest, objects: ClusterObjects): Promise<{ patched: boolean; allowed: boolean; queued: boolean }> {
  const context = { view: new SnapshotClusterView(objects), cloud: NO_CLOUD, runnerIdentity: RUNNER };
  const mutated = await mutate(request, context);
  const validated = await validate(request, context);
  return { patched: mutated.verdict.patch !== undefined, allowed: mutated.verdict.allowed && validated.verdict.allowed, queued: validated.enqueue !== undefined };
}

describe("acknowledging an ended migration", () => {
  for (const status of ["Failed", "RollbackFailed"]) {
    it(`${status}: removing the request (a Git revert) is admitted and leaves zoneferry's annotations as they were`, async () => {
      const old = ENDED(status);
      const revert = update(old, (next) => {
        delete next.metadata!.annotations!["zoneferry.io/target-zones"];
        delete next.metadata!.annotations!["zoneferry.io/retry"];
      }, { user: ARGO });
      assert.deepEqual(await admit(revert, RECORD(status)), { patched: false, allowed: true, queued: false });
      // What is stored is what was sent: the status, step, message and id stay.
      const kept = revert.object!.metadata!.annotations!;
      assert.equal(kept["zoneferry.io/status"], status);
      assert.equal(kept["zoneferry.io/migration-id"], ID);
    });

    it(`${status}: removing zoneferry's annotations by hand is admitted`, async () => {
      const old = ENDED(status);
      const cleared = update(old, (next) => {
        const owned = new Set(["zoneferry.io/status", "zoneferry.io/step", "zoneferry.io/message", "zoneferry.io/migration-id"]);
        next.metadata!.annotations = Object.fromEntries(Object.entries(next.metadata!.annotations!).filter(([key]) => !owned.has(key)));
      });
      assert.deepEqual(await admit(cleared, RECORD(status)), { patched: false, allowed: true, queued: false });
    });
  }

  it("a re-apply of the same request after it ended runs nothing and stamps nothing: the status stays Failed", async () => {
    const old = ENDED("Failed");
    const resync = update(old, (next) => { next.metadata!.labels = { synced: "again" }; }, { user: ARGO });
    assert.deepEqual(await admit(resync, RECORD("Failed")), { patched: false, allowed: true, queued: false });
  });
});
