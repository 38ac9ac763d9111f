import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Ecs, REGION, ZONE_B, ZONE_G, rejectsWithCode, startTestEmulator, type TestEmulator } from "./helpers.ts";

describe("ECS emulator: zones, stock and tags", () => {
  let world: TestEmulator;

  before(async () => {
    world = await startTestEmulator();
  });
  after(async () => {
    await world.close();
  });

  const dataDisks = (input: ConstructorParameters<typeof Ecs.DescribeAvailableResourceRequest>[0] = {}) =>
    world.ecs.describeAvailableResource(new Ecs.DescribeAvailableResourceRequest({ regionId: REGION, destinationResource: "DataDisk", resourceType: "disk", ...input }));

  describe("DescribeAvailableResource", () => {
    it("lists a zone's data-disk categories with their stock: SoldOut/WithoutStock for sold-out ones", async () => {
      const answer = await dataDisks({ zoneId: ZONE_G });
      const [zone] = answer.body?.availableZones?.availableZone ?? [];
      assert.equal(zone?.zoneId, ZONE_G);
      assert.equal(zone.status, "Available");
      const [resource] = zone.availableResources?.availableResource ?? [];
      assert.equal(resource?.type, "DataDisk");
      const offers = (resource.supportedResources?.supportedResource ?? []).map((offer) => [offer.value, offer.status, offer.statusCategory, offer.min, offer.max, offer.unit]);
      assert.deepEqual(offers, [
        ["cloud_essd", "Available", "WithStock", 20, 65_536, "GiB"],
        ["cloud_ssd", "SoldOut", "WithoutStock", 20, 32_768, "GiB"],
      ]);
    });

    it("narrows to one category, leaving out zones that do not sell it", async () => {
      const answer = await dataDisks({ dataDiskCategory: "cloud_auto" });
      assert.deepEqual(answer.body?.availableZones?.availableZone?.map((zone) => zone.zoneId), [ZONE_B]);
    });

    it("answers an empty list for a zone the region does not have", async () => {
      assert.deepEqual((await dataDisks({ zoneId: "cn-shanghai-z" })).body?.availableZones?.availableZone, []);
    });

    it("refuses a missing DestinationResource (Invalid.Param, 400), an unknown one (Invalid.DestinationResource, 404) and another region (Invalid.RegionId, 404)", async () => {
      await rejectsWithCode(dataDisks({ destinationResource: undefined }), "Invalid.Param", 400);
      await rejectsWithCode(dataDisks({ destinationResource: "Spaceship" }), "Invalid.DestinationResource", 404);
      await rejectsWithCode(dataDisks({ regionId: "cn-beijing" }), "Invalid.RegionId", 404);
      await rejectsWithCode(dataDisks({ resourceType: "boat" }), "Invalid.ResourceType", 404);
    });
  });

  describe("DescribeZones", () => {
    it("lists the region's zones with the disk categories each sells", async () => {
      const answer = await world.ecs.describeZones(new Ecs.DescribeZonesRequest({ regionId: REGION }));
      const zone = answer.body?.zones?.zone?.find((candidate) => candidate.zoneId === ZONE_G);
      assert.deepEqual(zone?.availableDiskCategories?.diskCategories, ["cloud_essd", "cloud_ssd"]);
      assert.deepEqual(zone.availableResources?.resourcesInfo?.[0]?.dataDiskCategories?.supportedDataDiskCategory, ["cloud_essd", "cloud_ssd"]);
      assert.equal(zone.localName, "Zone G");
      assert.ok(zone.availableResourceCreation?.resourceTypes?.includes("Disk"));
    });

    it("lists only ids and names with Verbose=false", async () => {
      const answer = await world.ecs.describeZones(new Ecs.DescribeZonesRequest({ regionId: REGION, verbose: false }));
      assert.equal(answer.body?.zones?.zone?.[0]?.availableDiskCategories, undefined);
    });

    it("refuses another region with InvalidRegionId.NotFound (404)", async () => {
      await rejectsWithCode(world.ecs.describeZones(new Ecs.DescribeZonesRequest({ regionId: "cn-beijing" })), "InvalidRegionId.NotFound", 404);
    });
  });

  describe("TagResources", () => {
    const tag = (key: string, value: string) => new Ecs.TagResourcesRequestTag({ key, value });
    const tagging = (input: ConstructorParameters<typeof Ecs.TagResourcesRequest>[0]) => world.ecs.tagResources(new Ecs.TagResourcesRequest({ regionId: REGION, resourceType: "disk", ...input }));

    it("sets tags on disks and snapshots, a known key taking the new value", async () => {
      const diskId = await world.control.seedDisk({ status: "In_use", tags: { app: "db", tier: "silver" } });
      const snapshotId = (await world.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId }))).body?.snapshotId ?? "";
      await tagging({ resourceId: [diskId], tag: [tag("tier", "gold"), tag("owner", "team-a")] });
      await tagging({ resourceType: "snapshot", resourceId: [snapshotId], tag: [tag("kept", "yes")] });
      const [disk] = (await world.ecs.describeDisks(new Ecs.DescribeDisksRequest({ regionId: REGION, diskIds: JSON.stringify([diskId]) }))).body?.disks?.disk ?? [];
      assert.deepEqual(disk?.tags?.tag?.map((entry) => [entry.tagKey, entry.tagValue]), [["app", "db"], ["tier", "gold"], ["owner", "team-a"]]);
      const [snapshot] = (await world.ecs.describeSnapshots(new Ecs.DescribeSnapshotsRequest({ regionId: REGION, snapshotIds: JSON.stringify([snapshotId]) }))).body?.snapshots?.snapshot ?? [];
      assert.deepEqual(snapshot?.tags?.tag?.map((entry) => [entry.tagKey, entry.tagValue]), [["kept", "yes"]]);
    });

    it("tags nothing when one resource does not exist (InvalidResourceId.NotFound, 404)", async () => {
      const diskId = await world.control.seedDisk({});
      await rejectsWithCode(tagging({ resourceId: [diskId, "d-nothere"], tag: [tag("a", "1")] }), "InvalidResourceId.NotFound", 404);
      const { disks } = await world.control.ok<{ disks: Array<{ diskId: string; tags: Record<string, string> }> }>("GET", "/inventory");
      assert.deepEqual(disks.find((disk) => disk.diskId === diskId)?.tags, {});
    });

    it("answers the tag service's codes for bad requests", async () => {
      const diskId = await world.control.seedDisk({});
      await rejectsWithCode(tagging({ resourceType: undefined, resourceId: [diskId], tag: [tag("a", "1")] }), "MissingParameter.ResourceType", 404);
      await rejectsWithCode(tagging({ resourceType: "spaceship", resourceId: [diskId], tag: [tag("a", "1")] }), "InvalidResourceType.NotFound", 404);
      await rejectsWithCode(tagging({ resourceId: [diskId] }), "MissingParameter.Tags", 404);
      await rejectsWithCode(tagging({ regionId: undefined, resourceId: [diskId], tag: [tag("a", "1")] }), "MissingParameter.RegionId", 404);
      await rejectsWithCode(tagging({ resourceId: Array.from({ length: 51 }, () => diskId), tag: [tag("a", "1")] }), "NumberExceed.ResourceIds", 400);
      await rejectsWithCode(tagging({ resourceId: [diskId], tag: Array.from({ length: 21 }, (_, index) => tag(`k${index}`, "v")) }), "NumberExceed.Tags", 400);
      await rejectsWithCode(tagging({ resourceId: [diskId], tag: [tag("acs:reserved", "v")] }), "InvalidTagKey.Malformed", 400);
    });

    it("refuses to put more than 20 tags on one resource with OperationDenied.QuotaExceed (400)", async () => {
      const diskId = await world.control.seedDisk({ tags: Object.fromEntries(Array.from({ length: 15 }, (_, index) => [`old${index}`, "v"])) });
      await rejectsWithCode(tagging({ resourceId: [diskId], tag: Array.from({ length: 6 }, (_, index) => tag(`new${index}`, "v")) }), "OperationDenied.QuotaExceed", 400);
    });
  });
});
