import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JobTimer, createRunnerMetrics } from "../../runner/metrics.ts";

describe("the runner's timings", () => {
  it("measures downtime from scale-to-zero until the replicas are back (the finish step starts)", async () => {
    const metrics = createRunnerMetrics();
    const timer = new JobTimer(metrics);
    timer.step("precheck", "forward", 0);
    timer.step("scale-to-zero", "forward", 1_000);
    timer.step("snapshot", "forward", 4_000);
    timer.step("restore-replicas", "forward", 20_000);
    timer.step("finish", "forward", 31_000);
    timer.finished("Succeeded", 32_000);
    const downtime = await metrics.downtime.get();
    assert.equal(downtime.values.find((value) => value.metricName === "zoneferry_application_downtime_seconds_sum")?.value, 30);
    const steps = await metrics.stepDuration.get();
    const snapshot = steps.values.find((value) => value.metricName === "zoneferry_step_duration_seconds_sum" && value.labels["step"] === "snapshot");
    assert.equal(snapshot?.value, 16);
    assert.equal((await metrics.migrations.get()).values[0]?.value, 1);
  });

  it("counts a step that re-runs after a wait once, from its first run", async () => {
    const metrics = createRunnerMetrics();
    const timer = new JobTimer(metrics);
    timer.step("snapshot", "forward", 0);
    timer.step("snapshot", "forward", 5_000);
    timer.step("create-disks", "forward", 9_000);
    timer.finished("Failed", 10_000);
    const count = (await metrics.stepDuration.get()).values.find((value) => value.metricName === "zoneferry_step_duration_seconds_count" && value.labels["step"] === "snapshot");
    assert.equal(count?.value, 1);
  });
});
