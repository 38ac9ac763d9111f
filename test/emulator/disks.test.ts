import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { Ecs, REGION, ZONE_B, ZONE_G, eventually, rejectsWithCode, startTestEmulator, type EcsClient, type TestEmulator } from "./helpers.ts";

type DiskInput = ConstructorParameters<typeof Ecs.CreateDiskRequest>[0];

const diskRequest = (input: DiskInput = {}): InstanceType<typeof Ecs.CreateDiskRequest> =>
  new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: ZONE_B, diskCategory: "cloud_essd", size: 40, ...input });

async function describeDisk(ecs: EcsClient, diskId: string) {
  const answer = await ecs.describeDisks(new Ecs.DescribeDisksRequest({ regionId: REGION, diskIds: JSON.stringify([diskId]) }));
  return answer.body?.disks?.disk ?? [];
}

describe("ECS emulator: disks", () => {
  let world: TestEmulator;

  before(async () => {
    // Creating lasts 30 s of cloud time (300 ms here); a disk from a snapshot initializes for 120 s (1.2 s).
    world = await startTestEmulator({ timeScale: 0.01, transitions: { diskCreate: { baseMs: 30_000, perGiBMs: 0 }, diskInitializing: { baseMs: 120_000 } } });
  });
  after(async () => {
    await world.close();
  });
  beforeEach(async () => {
    await world.control.ok("POST", "/reset");
  });

  describe("life cycle", () => {
    it("creates a disk that is Creating first and Available after the modelled time, scaled", async () => {
      const started = Date.now();
      const diskId = (await world.ecs.createDisk(diskRequest({ tag: [new Ecs.CreateDiskRequestTag({ key: "app", value: "db" })] }))).body?.diskId ?? "";
      assert.equal((await describeDisk(world.ecs, diskId))[0]?.status, "Creating");
      const [ready] = await eventually(() => describeDisk(world.ecs, diskId), (disks) => disks[0]?.status === "Available", "the disk is Available");
      assert.ok(Date.now() - started >= 290, "Creating lasted the scaled 30 s");
      assert.equal(ready?.category, "cloud_essd");
      assert.equal(ready.performanceLevel, "PL1", "cloud_essd defaults to PL1");
      assert.equal(ready.size, 40);
      assert.equal(ready.zoneId, ZONE_B);
      assert.equal(ready.regionId, REGION);
      assert.equal(ready.type, "data");
      assert.equal(ready.portable, true);
      assert.equal(ready.deleteAutoSnapshot, true);
      assert.equal(ready.diskChargeType, "PostPaid");
      assert.equal(ready.instanceId, "");
      assert.equal(ready.sourceSnapshotId, "");
      assert.match(ready.creationTime ?? "", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      assert.deepEqual(ready.tags?.tag?.map((tag) => [tag.tagKey, tag.tagValue]), [["app", "db"]]);
    });

    it("moves a disk to Available when the control API advances the cloud's clock", async () => {
      const diskId = (await world.ecs.createDisk(diskRequest())).body?.diskId ?? "";
      await world.control.ok("POST", "/clock", { advanceMs: 1_000 });
      assert.equal((await describeDisk(world.ecs, diskId))[0]?.status, "Available");
    });

    it("shows an attached disk In_use with its instance, and Available again once detached", async () => {
      const diskId = await world.control.seedDisk({});
      await world.control.ok("POST", `/disks/${diskId}/attach`, { instanceId: "i-node1" });
      const [inUse] = await describeDisk(world.ecs, diskId);
      assert.equal(inUse?.status, "In_use");
      assert.equal(inUse.instanceId, "i-node1");
      assert.notEqual(inUse.attachedTime, "");
      await world.control.ok("POST", `/disks/${diskId}/detach`);
      const [detached] = await describeDisk(world.ecs, diskId);
      assert.equal(detached?.status, "Available");
      assert.equal(detached.instanceId, "");
      assert.notEqual(detached.detachedTime, "");
    });

    it("shows a disk Attaching, then In_use, and Detaching, then Available, for the configured attach and detach times", async () => {
      // Attach 5 s and detach 10 s of cloud time: 50 ms and 100 ms here.
      const slow = await startTestEmulator({ timeScale: 0.01, transitions: { attach: { baseMs: 5_000 }, detach: { baseMs: 10_000 } } });
      try {
        const diskId = await slow.control.seedDisk({ attachedOnce: true });
        await slow.control.ok("POST", `/disks/${diskId}/attach`, { instanceId: "i-node1" });
        const [attaching] = await describeDisk(slow.ecs, diskId);
        assert.equal(attaching?.status, "Attaching");
        assert.equal(attaching.instanceId, "i-node1");
        await rejectsWithCode(slow.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId })), "IncorrectDiskStatus", 403);
        assert.equal((await slow.control.call("POST", `/disks/${diskId}/detach`)).status, 409, "an Attaching disk cannot be detached yet");
        await eventually(() => describeDisk(slow.ecs, diskId), (disks) => disks[0]?.status === "In_use", "the disk is In_use");
        await slow.control.ok("POST", `/disks/${diskId}/detach`);
        assert.equal((await describeDisk(slow.ecs, diskId))[0]?.status, "Detaching");
        await rejectsWithCode(slow.ecs.deleteDisk(new Ecs.DeleteDiskRequest({ diskId })), "IncorrectDiskStatus", 403);
        assert.equal((await slow.control.call("POST", `/disks/${diskId}/attach`, {})).status, 409, "a Detaching disk cannot be attached yet");
        const filtered = await slow.ecs.describeDisks(new Ecs.DescribeDisksRequest({ regionId: REGION, status: "Detaching" }));
        assert.deepEqual(filtered.body?.disks?.disk?.map((disk) => disk.diskId), [diskId]);
        await eventually(() => describeDisk(slow.ecs, diskId), (disks) => disks[0]?.status === "Available", "the disk is Available");
      } finally {
        await slow.close();
      }
    });

    it("deletes an Available disk, and ignores the delete of a disk that does not exist", async () => {
      const diskId = await world.control.seedDisk({});
      await world.ecs.deleteDisk(new Ecs.DeleteDiskRequest({ diskId }));
      assert.deepEqual(await describeDisk(world.ecs, diskId), []);
      const again = await world.ecs.deleteDisk(new Ecs.DeleteDiskRequest({ diskId }));
      assert.equal(again.statusCode, 200, "the SDK documents that an unknown DiskId is ignored");
    });

    it("refuses to delete a disk still Creating with IncorrectDiskStatus (403)", async () => {
      const diskId = (await world.ecs.createDisk(diskRequest())).body?.diskId ?? "";
      await rejectsWithCode(world.ecs.deleteDisk(new Ecs.DeleteDiskRequest({ diskId })), "IncorrectDiskStatus", 403);
    });

    it("refuses to delete an attached disk with DiskStillAttached (403)", async () => {
      const diskId = await world.control.seedDisk({ status: "In_use" });
      await rejectsWithCode(world.ecs.deleteDisk(new Ecs.DeleteDiskRequest({ diskId })), "DiskStillAttached", 403);
    });

    it("refuses to delete a disk made from a snapshot while it initializes, then deletes it (IncorrectDiskStatus.Initializing)", async () => {
      const source = await world.control.seedDisk({ status: "In_use" });
      const snapshotId = (await world.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: source }))).body?.snapshotId ?? "";
      const diskId = (await world.ecs.createDisk(diskRequest({ snapshotId }))).body?.diskId ?? "";
      await eventually(() => describeDisk(world.ecs, diskId), (disks) => disks[0]?.status === "Available", "the copy is Available");
      await rejectsWithCode(world.ecs.deleteDisk(new Ecs.DeleteDiskRequest({ diskId })), "IncorrectDiskStatus.Initializing", 403);
      await world.control.ok("POST", "/clock", { advanceMs: 2_000 });
      await world.ecs.deleteDisk(new Ecs.DeleteDiskRequest({ diskId }));
      assert.deepEqual(await describeDisk(world.ecs, diskId), []);
    });

    it("refuses to delete a disk while a snapshot of it progresses (DiskCreatingSnapshot, 403)", async () => {
      const diskId = await world.control.seedDisk({ status: "In_use" });
      await world.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId }));
      await world.control.ok("POST", `/disks/${diskId}/detach`);
      await rejectsWithCode(world.ecs.deleteDisk(new Ecs.DeleteDiskRequest({ diskId })), "DiskCreatingSnapshot", 403);
    });

    it("refuses DeleteDisk without a DiskId with MissingParameter (400)", async () => {
      await rejectsWithCode(world.ecs.deleteDisk(new Ecs.DeleteDiskRequest({})), "MissingParameter", 400);
    });
  });

  describe("CreateDisk checks what it is asked, with ECS's codes", () => {
    const cases: Array<[string, DiskInput, string, number]> = [
      ["a missing RegionId", { regionId: undefined }, "MissingParameter.RegionId", 400],
      ["a region the endpoint does not serve", { regionId: "cn-beijing" }, "InvalidRegionId.NotFound", 404],
      ["a missing ZoneId", { zoneId: undefined }, "MissingParameter", 400],
      ["a zone the region does not have", { zoneId: "cn-shanghai-z" }, "InvalidZoneId.NotFound", 404],
      ["a category that does not exist", { diskCategory: "cloud_magic" }, "InvalidDataDiskCategory.ValueNotSupported", 400],
      ["a category the zone does not sell", { zoneId: ZONE_G, diskCategory: "cloud_auto" }, "Zone.NotOnSale", 400],
      ["a category sold out in the zone", { zoneId: ZONE_G, diskCategory: "cloud_ssd" }, "OperationDenied.NoStock", 403],
      ["a size outside the category's range", { diskCategory: "cloud_ssd", size: 10 }, "InvalidDataDiskSize.ValueNotSupported", 400],
      ["a size beyond the largest ESSD", { size: 70_000 }, "InvalidDataDiskSize.ValueNotSupported", 400],
      ["a size that is not a number", { size: 1.5 }, "InvalidSize.ValueNotSupported", 400],
      ["PL2 below 461 GiB", { performanceLevel: "PL2", size: 460 }, "OperationDenied.PerformanceLevelNotMatch", 403],
      ["PL3 below 1261 GiB", { performanceLevel: "PL3", size: 1_000 }, "OperationDenied.PerformanceLevelNotMatch", 403],
      ["PL1 below 20 GiB", { performanceLevel: "PL1", size: 10 }, "OperationDenied.PerformanceLevelNotMatch", 403],
      ["a performance level that does not exist", { performanceLevel: "PL9" }, "InvalidPerformanceLevel.Malformed", 400],
      ["neither Size nor SnapshotId", { size: undefined }, "MissingParameter", 400],
      ["a snapshot that does not exist", { snapshotId: "s-nothere" }, "InvalidSnapshotId.NotFound", 404],
      ["a disk name starting with a digit", { diskName: "1disk" }, "InvalidDiskName.Malformed", 400],
      ["a description that is a URL", { description: "https://example.com" }, "InvalidDescription.Malformed", 400],
      ["a ClientToken longer than 64 characters", { clientToken: "t".repeat(65) }, "InvalidParameter", 400],
      ["a tag key in the reserved aliyun namespace", { tag: [new Ecs.CreateDiskRequestTag({ key: "aliyun:x", value: "1" })] }, "InvalidTagKey.Malformed", 400],
      ["the same tag key twice", { tag: [new Ecs.CreateDiskRequestTag({ key: "a", value: "1" }), new Ecs.CreateDiskRequestTag({ key: "a", value: "2" })] }, "Duplicate.TagKey", 400],
      ["an instance (the emulator has none)", { instanceId: "i-anything" }, "InvalidInstanceId.NotFound", 404],
    ];
    for (const [what, input, code, status] of cases) {
      it(`answers ${code} (${status}) for ${what}`, async () => {
        await rejectsWithCode(world.ecs.createDisk(diskRequest(input)), code, status);
        const { disks } = await world.control.ok<{ disks: unknown[] }>("GET", "/inventory");
        assert.equal(disks.length, 0, "a refused CreateDisk creates nothing");
      });
    }

    it("accepts each level at its smallest size: PL0 1 GiB, PL1 20, PL2 461, PL3 1261", async () => {
      for (const [performanceLevel, size] of [["PL0", 1], ["PL1", 20], ["PL2", 461], ["PL3", 1_261]] as const) {
        const answer = await world.ecs.createDisk(diskRequest({ performanceLevel, size }));
        assert.match(answer.body?.diskId ?? "", /^d-/);
      }
    });
  });

  describe("attributes: encryption, AutoPL performance, multi-attach, resource group", () => {
    it("creates an encrypted AutoPL disk with provisioned IOPS, bursting, multi-attach and a resource group, and DescribeDisks reports them", async () => {
      const diskId = (await world.ecs.createDisk(diskRequest({
        diskCategory: "cloud_auto",
        size: 100,
        encrypted: true,
        KMSKeyId: "key-orders",
        provisionedIops: 20_000,
        burstingEnabled: true,
        multiAttach: "Enabled",
        resourceGroupId: "rg-shop",
      }))).body?.diskId ?? "";
      const [disk] = await describeDisk(world.ecs, diskId);
      assert.deepEqual(
        { encrypted: disk?.encrypted, key: disk?.KMSKeyId, iops: disk?.provisionedIops, bursting: disk?.burstingEnabled, multiAttach: disk?.multiAttach, group: disk?.resourceGroupId },
        { encrypted: true, key: "key-orders", iops: 20_000, bursting: true, multiAttach: "Enabled", group: "rg-shop" },
      );
      assert.equal(disk?.IOPS, 1_800 + 50 * 100 + 20_000, "the baseline plus what is provisioned");
    });

    it("reports an unencrypted, single-attach disk in the default resource group when nothing is asked", async () => {
      const [disk] = await describeDisk(world.ecs, (await world.ecs.createDisk(diskRequest())).body?.diskId ?? "");
      assert.deepEqual([disk?.encrypted, disk?.KMSKeyId, disk?.burstingEnabled, disk?.multiAttach, disk?.resourceGroupId], [false, "", false, "Disabled", ""]);
    });

    it("encrypts with the region's service key when Encrypted comes without a KMSKeyId", async () => {
      const [disk] = await describeDisk(world.ecs, (await world.ecs.createDisk(diskRequest({ encrypted: true }))).body?.diskId ?? "");
      assert.equal(disk?.encrypted, true);
      assert.match(disk.KMSKeyId ?? "", /^[0-9a-f-]{36}$/);
    });

    const refusals: Array<[string, DiskInput]> = [
      ["provisioned IOPS on a cloud_essd disk", { provisionedIops: 1_000 }],
      ["bursting on a cloud_essd disk", { burstingEnabled: true }],
      ["more provisioned IOPS than a small AutoPL disk allows", { diskCategory: "cloud_auto", size: 10, provisionedIops: 10_000 }],
      ["a multi-attach ESSD Entry disk", { diskCategory: "cloud_essd_entry", multiAttach: "Enabled" }],
      ["a MultiAttach value that is neither Enabled nor Disabled", { multiAttach: "yes" }],
    ];
    for (const [what, input] of refusals) {
      it(`answers InvalidParameter (400) for ${what}`, async () => {
        await rejectsWithCode(world.ecs.createDisk(diskRequest(input)), "InvalidParameter", 400);
      });
    }

    it("plants a disk with attributes through the control API, refusing those CreateDisk would refuse", async () => {
      const diskId = await world.control.seedDisk({ category: "cloud_auto", encrypted: true, kmsKeyId: "key-1", provisionedIops: 5_000, burstingEnabled: true, resourceGroupId: "rg-1", autoSnapshotPolicyId: "sp-daily" });
      const [disk] = await describeDisk(world.ecs, diskId);
      assert.deepEqual([disk?.encrypted, disk?.KMSKeyId, disk?.provisionedIops, disk?.burstingEnabled, disk?.resourceGroupId, disk?.autoSnapshotPolicyId], [true, "key-1", 5_000, true, "rg-1", "sp-daily"]);
      const refused = await world.control.call("POST", "/disks", { zoneId: ZONE_B, category: "cloud_essd", size: 40, provisionedIops: 5_000 });
      assert.equal(refused.status, 400);
      assert.match(refused.text, /ProvisionedIops/);
    });
  });

  describe("quota", () => {
    it("refuses a disk beyond the pay-as-you-go quota with QuotaExceed.PostPaidDisk (403)", async () => {
      const small = await startTestEmulator({ quotas: { disks: 2 } });
      try {
        await small.ecs.createDisk(diskRequest());
        await small.ecs.createDisk(diskRequest());
        await rejectsWithCode(small.ecs.createDisk(diskRequest()), "QuotaExceed.PostPaidDisk", 403);
      } finally {
        await small.close();
      }
    });
  });
});
