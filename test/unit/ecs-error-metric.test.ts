/**
 * ECS errors counted by code (zoneferry_ecs_errors_total): the adapter tells its `onError` of each
 * failed call, classified, and not of a resource found gone, which a delete takes as done.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CloudError } from "../../core/cloud-errors.ts";
import { EcsDiskCloud } from "../../core/ecs/ecs-disk-cloud.ts";
import type { EcsClient } from "../../core/ecs/ecs-sdk.ts";
import { createRunnerMetrics } from "../../runner/metrics.ts";

const refusing = (error: object): EcsClient => {
  const fail = (): Promise<never> => Promise.reject(Object.assign(new Error("refused"), error));
  return { createDisk: fail, deleteDisk: fail, describeDisks: fail, createSnapshot: fail, deleteSnapshot: fail, describeSnapshots: fail, describeAvailableResource: fail };
};

describe("ECS errors by code", () => {
  it("tells onError of a failed call with its action and ECS's code, and the metric counts it", async () => {
    const metrics = createRunnerMetrics();
    const told: CloudError[] = [];
    const cloud = new EcsDiskCloud(refusing({ name: "ClientError", code: "OperationDenied.NoStock", statusCode: 403 }), "cn-shanghai", undefined, (error) => {
      told.push(error);
      metrics.ecsErrors.inc({ action: error.action, code: error.code });
    });
    await assert.rejects(cloud.createDisk({ zoneId: "cn-shanghai-g", category: "cloud_essd", sizeGiB: 20, clientToken: "t", tags: {} }));
    assert.deepEqual(told.map((error) => [error.action, error.code, error.kind]), [["CreateDisk", "OperationDenied.NoStock", "permanent"]]);
    const counted = (await metrics.ecsErrors.get()).values.map((value) => [value.labels["action"], value.labels["code"], value.value]);
    assert.deepEqual(counted, [["CreateDisk", "OperationDenied.NoStock", 1]]);
  });

  it("counts throttling and transport errors too, by their codes", async () => {
    const codes: string[] = [];
    const throttled = new EcsDiskCloud(refusing({ name: "ThrottlingError", code: "Throttling.User", statusCode: 400 }), "cn-shanghai", undefined, (error) => codes.push(error.code));
    await assert.rejects(throttled.describeDisks(["d-1"]));
    const unreachable = new EcsDiskCloud(refusing({ code: "ECONNRESET" }), "cn-shanghai", undefined, (error) => codes.push(error.code));
    await assert.rejects(unreachable.availableDiskCategories("cn-shanghai-g"));
    assert.deepEqual(codes, ["Throttling.User", "ECONNRESET"]);
  });

  it("does not count a delete of what is already gone", async () => {
    const codes: string[] = [];
    const cloud = new EcsDiskCloud(refusing({ name: "ClientError", code: "InvalidDiskId.NotFound", statusCode: 404 }), "cn-shanghai", undefined, (error) => codes.push(error.code));
    await cloud.deleteDisk("d-gone");
    assert.deepEqual(codes, []);
  });
});
