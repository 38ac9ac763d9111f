import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { Ecs, REGION, ZONE_B, ZONE_M, eventually, rejectsWithCode, startTestEmulator, type EcsClient, type TestEmulator } from "./helpers.ts";

type SnapshotInput = ConstructorParameters<typeof Ecs.CreateSnapshotRequest>[0];

async function snapshotsOf(ecs: EcsClient, input: ConstructorParameters<typeof Ecs.DescribeSnapshotsRequest>[0]) {
  const answer = await ecs.describeSnapshots(new Ecs.DescribeSnapshotsRequest({ regionId: REGION, ...input }));
  return answer.body?.snapshots?.snapshot ?? [];
}

const one = async (ecs: EcsClient, snapshotId: string) => (await snapshotsOf(ecs, { snapshotIds: JSON.stringify([snapshotId]) }))[0];

describe("ECS emulator: snapshots", () => {
  let world: TestEmulator;
  let ecs: EcsClient;

  /** A snapshot of `diskId`; its id. */
  const snapshot = async (diskId: string, input: SnapshotInput = {}): Promise<string> => (await ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId, ...input }))).body?.snapshotId ?? "";

  before(async () => {
    // A 40 GiB snapshot takes 30 s + 40 × 1 s of cloud time: 700 ms here.
    world = await startTestEmulator({ timeScale: 0.01 });
    ecs = world.ecs;
  });
  after(async () => {
    await world.close();
  });
  beforeEach(async () => {
    await world.control.ok("POST", "/reset");
  });

  it("makes an ESSD snapshot usable at once, while its Progress still climbs to 100%", async () => {
    const diskId = await world.control.seedDisk({ status: "In_use" });
    const snapshotId = await snapshot(diskId, { retentionDays: 3, snapshotName: "before-move", tag: [new Ecs.CreateSnapshotRequestTag({ key: "zoneferry.io/migration-id", value: "m1" })] });
    assert.match(snapshotId, /^s-uf[a-z0-9]{18}$/);
    const fresh = await one(ecs, snapshotId);
    assert.equal(fresh?.available, true);
    assert.equal(fresh.status, "progressing");
    assert.ok(Number.parseInt(fresh.progress ?? "", 10) < 100);
    assert.ok((fresh.remainTime ?? 0) > 0);
    assert.equal(fresh.instantAccess, true);
    assert.equal(fresh.sourceDiskId, diskId);
    assert.equal(fresh.sourceDiskSize, "40");
    assert.equal(fresh.sourceDiskType, "data");
    assert.equal(fresh.retentionDays, 3);
    assert.equal(fresh.snapshotName, "before-move");
    assert.equal(fresh.usage, "none");
    assert.deepEqual(fresh.tags?.tag?.map((tag) => [tag.tagKey, tag.tagValue]), [["zoneferry.io/migration-id", "m1"]]);
    const done = await eventually(() => one(ecs, snapshotId), (found) => found?.status === "accomplished", "the snapshot is accomplished");
    assert.equal(done?.progress, "100%");
    assert.equal(done.remainTime, 0);
  });

  it("makes a cloud_ssd snapshot usable only when accomplished; until then CreateDisk answers InvalidSnapshotId.NotReady (403)", async () => {
    const diskId = await world.control.seedDisk({ category: "cloud_ssd", status: "In_use" });
    const snapshotId = await snapshot(diskId);
    assert.equal((await one(ecs, snapshotId))?.available, false);
    const fromSnapshot = new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: ZONE_M, diskCategory: "cloud_essd", snapshotId });
    await rejectsWithCode(ecs.createDisk(fromSnapshot), "InvalidSnapshotId.NotReady", 403);
    const done = await eventually(() => one(ecs, snapshotId), (found) => found?.available === true, "the snapshot is usable", 5_000);
    assert.equal(done?.status, "accomplished");
    assert.match((await ecs.createDisk(fromSnapshot)).body?.diskId ?? "", /^d-/);
  });

  it("makes an ESSD snapshot usable after the modelled instant-access time, long before it is accomplished", async () => {
    // Instant access after 5 s + 50 ms/GiB of cloud time: 40 GiB → 7 s, 70 ms here; accomplished after 700 ms.
    const slow = await startTestEmulator({ timeScale: 0.01, transitions: { instantAccess: { baseMs: 5_000, perGiBMs: 50 } } });
    try {
      const diskId = await slow.control.seedDisk({ status: "In_use" });
      const snapshotId = (await slow.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId }))).body?.snapshotId ?? "";
      assert.equal((await one(slow.ecs, snapshotId))?.available, false);
      await rejectsWithCode(slow.ecs.createDisk(new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: ZONE_M, diskCategory: "cloud_essd", snapshotId })), "InvalidSnapshotId.NotReady", 403);
      const usable = await eventually(() => one(slow.ecs, snapshotId), (found) => found?.available === true, "the snapshot is usable", 2_000);
      assert.equal(usable?.status, "progressing");
    } finally {
      await slow.close();
    }
  });

  it("keeps the content the disk had when snapshotted, and a disk made from it in another zone holds that content", async () => {
    const diskId = await world.control.seedDisk({ status: "In_use", content: "orders v1" });
    const snapshotId = await snapshot(diskId);
    await world.control.ok("PUT", `/disks/${diskId}/content`, "orders v2");
    assert.equal(await world.control.content(snapshotId, "snapshots"), "orders v1");
    const copy = (await ecs.createDisk(new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: ZONE_M, diskCategory: "cloud_essd", snapshotId }))).body?.diskId ?? "";
    assert.equal(await world.control.content(copy), "orders v1");
    assert.equal(await world.control.content(diskId), "orders v2");
    const [disk] = (await ecs.describeDisks(new Ecs.DescribeDisksRequest({ regionId: REGION, diskIds: JSON.stringify([copy]) }))).body?.disks?.disk ?? [];
    assert.equal(disk?.sourceSnapshotId, snapshotId);
    assert.equal(disk.zoneId, ZONE_M);
    assert.equal((await one(ecs, snapshotId))?.usage, "disk");
  });

  it("records an encrypted disk's encryption and key on its snapshot, and a disk made from it is encrypted with that key even when not asked", async () => {
    const diskId = await world.control.seedDisk({ status: "In_use", encrypted: true, kmsKeyId: "key-orders" });
    const snapshotId = await snapshot(diskId);
    const made = await one(ecs, snapshotId);
    assert.deepEqual([made?.encrypted, made?.KMSKeyId], [true, "key-orders"]);
    const copy = (await ecs.createDisk(new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: ZONE_M, diskCategory: "cloud_essd", snapshotId, encrypted: false }))).body?.diskId ?? "";
    const [disk] = (await ecs.describeDisks(new Ecs.DescribeDisksRequest({ regionId: REGION, diskIds: JSON.stringify([copy]) }))).body?.disks?.disk ?? [];
    assert.deepEqual([disk?.encrypted, disk?.KMSKeyId], [true, "key-orders"]);
    const plain = await snapshot(await world.control.seedDisk({ status: "In_use" }));
    assert.deepEqual([(await one(ecs, plain))?.encrypted, (await one(ecs, plain))?.KMSKeyId], [false, ""]);
  });

  it("gives a disk made from a snapshot the snapshot's size when Size is smaller or left out, as the SDK 7.x documents", async () => {
    const diskId = await world.control.seedDisk({ size: 100, status: "In_use" });
    const snapshotId = await snapshot(diskId);
    const sizes: number[] = [];
    for (const size of [40, undefined, 200]) {
      const copy = (await ecs.createDisk(new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: ZONE_B, diskCategory: "cloud_essd", snapshotId, size }))).body?.diskId ?? "";
      const [disk] = (await ecs.describeDisks(new Ecs.DescribeDisksRequest({ regionId: REGION, diskIds: JSON.stringify([copy]) }))).body?.disks?.disk ?? [];
      sizes.push(disk?.size ?? 0);
    }
    assert.deepEqual(sizes, [100, 100, 200]);
  });

  it("answers InvalidDiskSize.TooSmall (403) for a smaller Size when configured to behave as older ECS did", async () => {
    const strict = await startTestEmulator({ smallerThanSnapshot: "reject" });
    try {
      const diskId = await strict.control.seedDisk({ size: 100, status: "In_use" });
      const snapshotId = (await strict.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId }))).body?.snapshotId ?? "";
      await rejectsWithCode(strict.ecs.createDisk(new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: ZONE_B, diskCategory: "cloud_essd", snapshotId, size: 40 })), "InvalidDiskSize.TooSmall", 403);
    } finally {
      await strict.close();
    }
  });

  describe("CreateSnapshot checks the disk and the request, with ECS's codes", () => {
    it("refuses a disk that was never attached with IncorrectDiskStatus.NeverAttached (403)", async () => {
      const diskId = await world.control.seedDisk({ status: "Available" });
      await rejectsWithCode(ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId })), "IncorrectDiskStatus.NeverAttached", 403);
    });

    it("takes a snapshot of an Available disk that was attached before", async () => {
      const diskId = await world.control.seedDisk({ status: "Available", attachedOnce: true });
      assert.match(await snapshot(diskId), /^s-/);
    });

    it("refuses a disk still Creating with IncorrectDiskStatus (403)", async () => {
      const diskId = (await ecs.createDisk(new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: ZONE_B, diskCategory: "cloud_essd", size: 40 }))).body?.diskId ?? "";
      await rejectsWithCode(ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId })), "IncorrectDiskStatus", 403);
    });

    it("refuses a second snapshot of a cloud_ssd disk while one progresses (IncorrectDiskStatus.CreatingSnapshot), but not of an ESSD", async () => {
      const ssd = await world.control.seedDisk({ category: "cloud_ssd", status: "In_use" });
      await snapshot(ssd);
      await rejectsWithCode(ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: ssd })), "IncorrectDiskStatus.CreatingSnapshot", 403);
      const essd = await world.control.seedDisk({ status: "In_use" });
      await snapshot(essd);
      assert.match(await snapshot(essd), /^s-/);
    });

    const cases: Array<[string, SnapshotInput, string, number]> = [
      ["a disk that does not exist", { diskId: "d-nothere" }, "InvalidDiskId.NotFound", 404],
      ["no DiskId", { diskId: undefined }, "MissingParameter", 400],
      ["RetentionDays 0", { retentionDays: 0 }, "InvalidParameter", 400],
      ["RetentionDays 65537", { retentionDays: 65_537 }, "InvalidParameter", 400],
      ["a name starting with auto", { snapshotName: "auto-nightly" }, "InvalidSnapshotName.Malformed", 400],
      ["a name that is a URL", { snapshotName: "http://x" }, "InvalidSnapshotName.Malformed", 400],
      ["a tag value that is a URL", { tag: [new Ecs.CreateSnapshotRequestTag({ key: "k", value: "https://x" })] }, "InvalidTagValue.Malformed", 400],
    ];
    for (const [what, input, code, status] of cases) {
      it(`answers ${code} (${status}) for ${what}`, async () => {
        const diskId = await world.control.seedDisk({ status: "In_use" });
        await rejectsWithCode(ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId, ...input })), code, status);
      });
    }

    it("refuses a snapshot beyond the quota with QuotaExceed.Snapshot (403)", async () => {
      const small = await startTestEmulator({ quotas: { snapshots: 1 } });
      try {
        const diskId = await small.control.seedDisk({ status: "In_use" });
        await small.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId }));
        await rejectsWithCode(small.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId })), "QuotaExceed.Snapshot", 403);
      } finally {
        await small.close();
      }
    });
  });

  describe("retention and deletion", () => {
    it("releases a snapshot when its retention period, scaled, has passed", async () => {
      const diskId = await world.control.seedDisk({ status: "In_use" });
      const kept = await snapshot(diskId);
      const expiring = await snapshot(diskId, { retentionDays: 1 });
      await world.control.ok("POST", "/clock", { advanceMs: 86_400_000 * 0.01 - 1_000 });
      assert.equal((await one(ecs, expiring))?.snapshotId, expiring, "still there shortly before the day ends");
      await world.control.ok("POST", "/clock", { advanceMs: 2_000 });
      assert.deepEqual((await snapshotsOf(ecs, { diskId })).map((found) => found.snapshotId), [kept]);
    });

    it("refuses to delete a snapshot disks were made from without Force (SnapshotCreatedDisk, 403), and deletes it with Force", async () => {
      const diskId = await world.control.seedDisk({ status: "In_use" });
      const snapshotId = await snapshot(diskId);
      await ecs.createDisk(new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: ZONE_B, diskCategory: "cloud_essd", snapshotId }));
      await rejectsWithCode(ecs.deleteSnapshot(new Ecs.DeleteSnapshotRequest({ snapshotId })), "SnapshotCreatedDisk", 403);
      await ecs.deleteSnapshot(new Ecs.DeleteSnapshotRequest({ snapshotId, force: true }));
      assert.equal(await one(ecs, snapshotId), undefined);
    });

    it("deletes a snapshot without Force once the disks made from it are gone", async () => {
      const diskId = await world.control.seedDisk({ status: "In_use" });
      const snapshotId = await snapshot(diskId);
      const copy = (await ecs.createDisk(new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: ZONE_B, diskCategory: "cloud_essd", snapshotId }))).body?.diskId ?? "";
      await world.control.ok("POST", "/clock", { advanceMs: 10_000 });
      await ecs.deleteDisk(new Ecs.DeleteDiskRequest({ diskId: copy }));
      await ecs.deleteSnapshot(new Ecs.DeleteSnapshotRequest({ snapshotId }));
      assert.equal(await one(ecs, snapshotId), undefined);
    });

    it("cancels a snapshot still progressing, and ignores the delete of one that does not exist", async () => {
      const diskId = await world.control.seedDisk({ status: "In_use" });
      const snapshotId = await snapshot(diskId);
      assert.equal((await one(ecs, snapshotId))?.status, "progressing");
      await ecs.deleteSnapshot(new Ecs.DeleteSnapshotRequest({ snapshotId }));
      assert.equal(await one(ecs, snapshotId), undefined);
      assert.equal((await ecs.deleteSnapshot(new Ecs.DeleteSnapshotRequest({ snapshotId }))).statusCode, 200);
    });

    it("refuses DeleteSnapshot without a SnapshotId with MissingParameter (400)", async () => {
      await rejectsWithCode(ecs.deleteSnapshot(new Ecs.DeleteSnapshotRequest({})), "MissingParameter", 400);
    });
  });
});
