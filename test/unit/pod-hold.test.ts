/**
 * What the runner makes of the API server's answers to an eviction, and which pods it calls held
 * or may hold, without a cluster (the real API server: test/integration/pod-hold.test.ts).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import type { MigrationContext } from "../../runner/context.ts";
import { evictPod } from "../../runner/eviction.ts";
import { PermanentMigrationError } from "../../runner/faults.ts";
import { holdPod, isHeld, releasePod } from "../../runner/pod-hold.ts";

const job = { migrationId: "0123456789ab", namespace: "shop", statefulSet: "db", targetZones: ["cn-shanghai-g"], retry: "", requestedBy: "test" };

/** client-node's ApiException, as far as the runner reads it: the HTTP code and the Status body. */
function apiError(code: number, status: object): Error {
  return Object.assign(new Error(`HTTP-Code: ${code}`), { code, body: JSON.stringify(status) });
}

/** A context whose API server answers every eviction with `answer` (thrown when an Error); records calls. */
function answering(answer: Error | object): { context: MigrationContext; calls: unknown[] } {
  const calls: unknown[] = [];
  const fail = (): never => { throw new Error("no call expected"); };
  const core = {
    createNamespacedPodEviction: (request: unknown) => {
      calls.push(request);
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
    readNamespacedConfigMap: fail,
    readNamespacedPod: fail,
  };
  const apps = { readNamespacedStatefulSet: fail };
  return { context: { job, core, apps } as unknown as MigrationContext, calls };
}

const budgetRefusal = (message: string) => apiError(429, {
  kind: "Status",
  status: "Failure",
  message: "Cannot evict pod as it would violate the pod's disruption budget.",
  reason: "TooManyRequests",
  details: { causes: [{ reason: "DisruptionBudget", message }] },
  code: 429,
});

describe("evicting a replica", () => {
  it("asks the Eviction API for that pod, with its uid as a precondition when given", async () => {
    const { context, calls } = answering({ kind: "Status", status: "Success" });
    assert.equal(await evictPod(context, "db-2", { uid: "u-2" }), "evicted");
    assert.deepEqual(calls, [{
      namespace: "shop",
      name: "db-2",
      body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "db-2", namespace: "shop" }, deleteOptions: { preconditions: { uid: "u-2" } } },
    }]);
  });

  it("answers blocked by the budget the API server names, in its words", async () => {
    const { context } = answering(budgetRefusal("The disruption budget db-budget needs 2 healthy pods and has 2 currently"));
    assert.deepEqual(await evictPod(context, "db-1"), { blockedBy: "db-budget", message: "The disruption budget db-budget needs 2 healthy pods and has 2 currently" });
  });

  it("answers blocked while the budget is still being processed, naming it", async () => {
    const { context } = answering(budgetRefusal("The disruption budget db-budget is still being processed by the server."));
    assert.equal(((await evictPod(context, "db-1")) as { blockedBy: string }).blockedBy, "db-budget");
  });

  it("throws the API server's own throttling (a 429 with no budget's cause), which is retried as a transient fault", async () => {
    const throttled = apiError(429, { kind: "Status", status: "Failure", message: "Too many requests, please try again later.", reason: "TooManyRequests", code: 429 });
    await assert.rejects(evictPod(answering(throttled).context, "db-1"), (error: unknown) => error === throttled);
  });

  it("answers evicted for a pod already gone, or whose uid is no longer the one asked", async () => {
    assert.equal(await evictPod(answering(apiError(404, { reason: "NotFound", code: 404, message: "pods \"db-1\" not found" })).context, "db-1"), "evicted");
    const replaced = apiError(409, { reason: "Conflict", code: 409, message: "Operation cannot be fulfilled on Pod \"db-1\": the UID in the precondition (u-1) does not match the UID in record (u-9). The object might have been deleted and then recreated" });
    assert.equal(await evictPod(answering(replaced).context, "db-1", { uid: "u-1" }), "evicted");
  });

  it("fails for good on a pod covered by more than one budget, which the Eviction API never evicts", async () => {
    const twoBudgets = apiError(500, { status: "Failure", code: 500, message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support." });
    await assert.rejects(evictPod(answering(twoBudgets).context, "db-1"), (error: unknown) => error instanceof PermanentMigrationError && /shop\/db-1 cannot be evicted: HTTP 500: This pod has more than one PodDisruptionBudget/.test(error.message));
  });
});

describe("which pods are held", () => {
  it("calls held a pod carrying zoneferry's gate, whatever other gates it has, and no other", () => {
    const pod = (gates: string[]): V1Pod => ({ spec: { containers: [], schedulingGates: gates.map((name) => ({ name })) } });
    assert.equal(isHeld(pod(["example.com/other", "zoneferry.io/rebind"])), true);
    assert.equal(isHeld(pod(["example.com/other"])), false);
    assert.equal(isHeld({ spec: { containers: [] } }), false);
  });

  it("refuses to hold or release a pod not named as a replica of the job's StatefulSet, before any call", async () => {
    const { context } = answering({});
    for (const pod of ["dbx-0", "db-", "db-01", "db-1a", "web-0", "db-0-1"]) {
      await assert.rejects(holdPod(context, pod), PermanentMigrationError, pod);
      await assert.rejects(releasePod(context, pod), PermanentMigrationError, pod);
    }
  });
});
