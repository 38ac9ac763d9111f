import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { healthOf, healthProblems } from "../../runner/pod-health.ts";

function pod(name: string, uid: string, restarts: number[], ready = true): V1Pod {
  return {
    metadata: { name, uid },
    status: {
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
      containerStatuses: restarts.map((restartCount, index) => ({ name: `c${index}`, image: "nginx", imageID: "", ready, restartCount })),
    },
  };
}

describe("the health-duration second check", () => {
  it("sums container restarts per pod for the baseline", () => {
    assert.deepEqual(healthOf(pod("db-0", "u0", [1, 2])), { pod: "db-0", uid: "u0", restarts: 3 });
  });

  it("passes replicas that are the same pods, still Ready, with no restart added", () => {
    const baseline = [healthOf(pod("db-0", "u0", [1])), healthOf(pod("db-1", "u1", [0]))];
    assert.deepEqual(healthProblems(baseline, [pod("db-0", "u0", [1]), pod("db-1", "u1", [0])]), []);
  });

  it("names each replica that restarted, was replaced, went away or is no longer Ready", () => {
    const baseline = ["db-0", "db-1", "db-2", "db-3"].map((name, index) => healthOf(pod(name, `u${index}`, [0])));
    const now = [pod("db-0", "u0", [2]), pod("db-1", "new", [0]), pod("db-3", "u3", [0], false)];
    assert.deepEqual(healthProblems(baseline, now), ["db-0 restarted 2 time(s)", "db-1 was replaced by a new pod", "db-2 is gone", "db-3 is not Ready"]);
  });
});
