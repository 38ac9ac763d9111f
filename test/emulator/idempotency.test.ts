import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { Ecs, KEY, REGION, ZONE_B, ZONE_G, rejectsWithCode, startTestEmulator, type TestEmulator } from "./helpers.ts";

const OTHER_KEY = { accessKeyId: "other-test-key", accessKeySecret: "other-secret" };

describe("ECS emulator: ClientToken idempotency", () => {
  let world: TestEmulator;

  const disk = (clientToken: string, input: ConstructorParameters<typeof Ecs.CreateDiskRequest>[0] = {}) =>
    new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: ZONE_B, diskCategory: "cloud_essd", size: 40, clientToken, tag: [new Ecs.CreateDiskRequestTag({ key: "pvc", value: "data-0" })], ...input });
  const inventory = () => world.control.ok<{ disks: unknown[]; snapshots: unknown[] }>("GET", "/inventory");

  before(async () => {
    world = await startTestEmulator({ accounts: [KEY, OTHER_KEY] });
  });
  after(async () => {
    await world.close();
  });
  beforeEach(async () => {
    await world.control.ok("POST", "/reset");
  });

  it("answers a retry with the same token and parameters with the same disk, and creates only one", async () => {
    const first = await world.ecs.createDisk(disk("mig-1-disk-0"));
    const second = await world.ecs.createDisk(disk("mig-1-disk-0"));
    assert.equal(second.body?.diskId, first.body?.diskId);
    assert.notEqual(second.body?.requestId, first.body?.requestId, "every answer has its own RequestId");
    assert.equal((await inventory()).disks.length, 1);
  });

  it("treats the same parameters in another order and with another signature as the same request", async () => {
    const first = await world.ecs.createDisk(disk("mig-1-disk-1"));
    const legacy = world.client({ signatureAlgorithm: "v2" });
    assert.equal((await legacy.createDisk(disk("mig-1-disk-1"))).body?.diskId, first.body?.diskId);
  });

  it("refuses the same token with other parameters with IdempotentParameterMismatch (403)", async () => {
    await world.ecs.createDisk(disk("reused"));
    await rejectsWithCode(world.ecs.createDisk(disk("reused", { zoneId: ZONE_G })), "IdempotentParameterMismatch", 403);
    assert.equal((await inventory()).disks.length, 1);
  });

  it("makes one snapshot for a retried CreateSnapshot", async () => {
    const diskId = await world.control.seedDisk({ status: "In_use" });
    const request = () => new Ecs.CreateSnapshotRequest({ diskId, clientToken: "mig-1-snap-0", retentionDays: 1 });
    const first = await world.ecs.createSnapshot(request());
    assert.equal((await world.ecs.createSnapshot(request())).body?.snapshotId, first.body?.snapshotId);
    assert.equal((await inventory()).snapshots.length, 1);
    await rejectsWithCode(world.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId, clientToken: "mig-1-snap-0", retentionDays: 2 })), "IdempotentParameterMismatch", 403);
  });

  it("scopes tokens per action and per access key", async () => {
    const diskId = await world.control.seedDisk({ status: "In_use" });
    const created = await world.ecs.createDisk(disk("shared"));
    const snapshotted = await world.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId, clientToken: "shared" }));
    assert.match(snapshotted.body?.snapshotId ?? "", /^s-/);
    const other = await world.client(OTHER_KEY).createDisk(disk("shared"));
    assert.notEqual(other.body?.diskId, created.body?.diskId);
    assert.equal((await inventory()).disks.length, 3);
  });

  it("judges a retry afresh when the first attempt was refused", async () => {
    await world.control.inject({ action: "CreateDisk", code: "ServiceUnavailable", times: 1 });
    await rejectsWithCode(world.ecs.createDisk(disk("after-503")), "ServiceUnavailable", 503);
    assert.match((await world.ecs.createDisk(disk("after-503"))).body?.diskId ?? "", /^d-/);
  });
});
