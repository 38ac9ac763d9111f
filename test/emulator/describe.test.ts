import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Ecs, REGION, ZONE_B, ZONE_G, ZONE_M, rejectsWithCode, startTestEmulator, type EcsClient, type TestEmulator } from "./helpers.ts";

type DisksInput = ConstructorParameters<typeof Ecs.DescribeDisksRequest>[0];
type SnapshotsInput = ConstructorParameters<typeof Ecs.DescribeSnapshotsRequest>[0];

const disksRequest = (input: DisksInput = {}) => new Ecs.DescribeDisksRequest({ regionId: REGION, ...input });

async function diskIds(ecs: EcsClient, input: DisksInput): Promise<string[]> {
  return ((await ecs.describeDisks(disksRequest(input))).body?.disks?.disk ?? []).map((disk) => disk.diskId ?? "");
}

describe("ECS emulator: DescribeDisks and DescribeSnapshots, filters and paging", () => {
  let world: TestEmulator;
  let ecs: EcsClient;
  /** Seeded newest last; ECS lists newest first. */
  const seeded: string[] = [];
  let tagged: string[] = [];
  let inZoneG: string;
  let ssdInUse: string;

  before(async () => {
    world = await startTestEmulator();
    ecs = world.ecs;
    for (let index = 0; index < 130; index++) seeded.push(await world.control.seedDisk({ zoneId: ZONE_M, size: 20, tags: { batch: "paging" } }));
    tagged = [
      await world.control.seedDisk({ tags: { app: "db", tier: "gold" } }),
      await world.control.seedDisk({ tags: { app: "db", tier: "silver" } }),
      await world.control.seedDisk({ tags: { app: "web" } }),
    ];
    inZoneG = await world.control.seedDisk({ zoneId: ZONE_G });
    ssdInUse = await world.control.seedDisk({ category: "cloud_ssd", status: "In_use", instanceId: "i-node7" });
  });
  after(async () => {
    await world.close();
  });

  describe("paging more than 100 disks", () => {
    it("pages by MaxResults and NextToken, newest first, each disk exactly once, and ends with an empty NextToken", async () => {
      const seen: string[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const answer = await ecs.describeDisks(disksRequest({ zoneId: ZONE_M, maxResults: 50, ...(nextToken === undefined ? {} : { nextToken }) }));
        seen.push(...(answer.body?.disks?.disk ?? []).map((disk) => disk.diskId ?? ""));
        assert.equal(answer.body?.totalCount, 130);
        nextToken = answer.body.nextToken === "" ? undefined : answer.body.nextToken;
        pages++;
      } while (nextToken !== undefined);
      assert.equal(pages, 3);
      assert.deepEqual(seen, [...seeded].reverse());
    });

    it("pages by the deprecated PageNumber and PageSize (at most 100)", async () => {
      const first = await ecs.describeDisks(disksRequest({ zoneId: ZONE_M, pageSize: 100, pageNumber: 1 }));
      const second = await ecs.describeDisks(disksRequest({ zoneId: ZONE_M, pageSize: 100, pageNumber: 2 }));
      assert.equal(first.body?.disks?.disk?.length, 100);
      assert.equal(second.body?.disks?.disk?.length, 30);
      assert.deepEqual([second.body.totalCount, second.body.pageNumber, second.body.pageSize], [130, 2, 100]);
      assert.deepEqual([...first.body.disks.disk, ...second.body.disks.disk].map((disk) => disk.diskId), [...seeded].reverse());
    });

    it("answers 10 disks per page by default", async () => {
      assert.equal((await diskIds(ecs, { zoneId: ZONE_M })).length, 10);
    });

    it("clamps MaxResults into 10..500 as the SDK documents", async () => {
      assert.equal((await diskIds(ecs, { zoneId: ZONE_M, maxResults: 3 })).length, 10);
      const all = await ecs.describeDisks(disksRequest({ maxResults: 9_999 }));
      assert.equal(all.body?.pageSize, 500);
      assert.equal(all.body.disks?.disk?.length, 135);
      assert.equal(all.body.nextToken, "");
    });

    it("refuses a PageSize above 100 and a NextToken it did not issue with InvalidParameter (400)", async () => {
      await rejectsWithCode(ecs.describeDisks(disksRequest({ pageSize: 101 })), "InvalidParameter", 400);
      await rejectsWithCode(ecs.describeDisks(disksRequest({ nextToken: "not-a-token" })), "InvalidParameter", 400);
    });
  });

  describe("disk filters", () => {
    it("filters by DiskIds, and treats an empty JSON array as a filter that matches nothing", async () => {
      assert.deepEqual(await diskIds(ecs, { diskIds: JSON.stringify([tagged[0], "d-nothere", inZoneG]) }), [inZoneG, tagged[0]]);
      assert.deepEqual(await diskIds(ecs, { diskIds: "[]" }), []);
    });

    it("refuses more than 100 DiskIds with InvalidDiskIds.Malformed (403) and DiskIds that are not a JSON array with InvalidParameter.DiskIds (400)", async () => {
      await rejectsWithCode(ecs.describeDisks(disksRequest({ diskIds: JSON.stringify(seeded.slice(0, 101)) })), "InvalidDiskIds.Malformed", 403);
      await rejectsWithCode(ecs.describeDisks(disksRequest({ diskIds: "d-1,d-2" })), "InvalidParameter.DiskIds", 400);
    });

    it("filters by tags, all of them, and by a tag key alone", async () => {
      const byTags = (tags: Array<[string, string | undefined]>) => diskIds(ecs, { tag: tags.map(([key, value]) => new Ecs.DescribeDisksRequestTag({ key, value })) });
      assert.deepEqual(await byTags([["app", "db"], ["tier", "gold"]]), [tagged[0]]);
      assert.deepEqual(await byTags([["app", "db"]]), [tagged[1], tagged[0]]);
      assert.deepEqual(await byTags([["tier", undefined]]), [tagged[1], tagged[0]]);
    });

    it("filters by zone, category, status and instance", async () => {
      assert.deepEqual(await diskIds(ecs, { zoneId: ZONE_G }), [inZoneG]);
      assert.deepEqual(await diskIds(ecs, { category: "cloud_ssd" }), [ssdInUse]);
      assert.deepEqual(await diskIds(ecs, { status: "In_use" }), [ssdInUse]);
      assert.deepEqual(await diskIds(ecs, { instanceId: "i-node7" }), [ssdInUse]);
      assert.deepEqual(await diskIds(ecs, { zoneId: ZONE_B, status: "All", category: "all", maxResults: 100 }), [ssdInUse, ...[...tagged].reverse()]);
      assert.deepEqual(await diskIds(ecs, { diskType: "system" }), []);
    });

    const cases: Array<[string, DisksInput, string, number]> = [
      ["a missing RegionId, spelt as ECS spells it", { regionId: undefined }, "MissingParamter.RegionId", 400],
      ["another region", { regionId: "cn-beijing" }, "InvalidRegion.NotFound", 400],
      ["an unknown zone", { zoneId: "cn-shanghai-z" }, "InvalidZoneId.NotFound", 400],
      ["an unknown category", { category: "cloud_magic" }, "InvalidCategory.ValueNotSupported", 400],
      ["an unknown status", { status: "Sleeping" }, "InvalidStatus.ValueNotSupported", 400],
      ["a tag value without its key", { tag: [new Ecs.DescribeDisksRequestTag({ value: "db" })] }, "InvalidTag.Mismatch", 400],
      ["DryRun=true", { dryRun: true }, "DryRunOperation", 400],
    ];
    for (const [what, input, code, status] of cases) {
      it(`answers ${code} (${status}) for ${what}`, async () => {
        await rejectsWithCode(ecs.describeDisks(new Ecs.DescribeDisksRequest({ regionId: REGION, ...input })), code, status);
      });
    }
  });

  describe("snapshot filters and paging", () => {
    let source: string;
    const snapshots: string[] = [];

    before(async () => {
      source = await world.control.seedDisk({ status: "In_use" });
      for (let index = 0; index < 105; index++) snapshots.push((await ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: source, tag: [new Ecs.CreateSnapshotRequestTag({ key: "n", value: String(index % 2) })] }))).body?.snapshotId ?? "");
    });

    const snapshotIds = async (input: SnapshotsInput) => ((await ecs.describeSnapshots(new Ecs.DescribeSnapshotsRequest({ regionId: REGION, ...input }))).body?.snapshots?.snapshot ?? []).map((snapshot) => snapshot.snapshotId ?? "");

    it("pages more than 100 snapshots by MaxResults (at most 100) and NextToken", async () => {
      const first = await ecs.describeSnapshots(new Ecs.DescribeSnapshotsRequest({ regionId: REGION, diskId: source, maxResults: 100 }));
      assert.equal(first.body?.snapshots?.snapshot?.length, 100);
      assert.notEqual(first.body.nextToken, "");
      const second = await ecs.describeSnapshots(new Ecs.DescribeSnapshotsRequest({ regionId: REGION, diskId: source, maxResults: 100, nextToken: first.body.nextToken }));
      assert.equal(second.body?.nextToken, "");
      assert.deepEqual([...first.body.snapshots.snapshot, ...(second.body.snapshots?.snapshot ?? [])].map((snapshot) => snapshot.snapshotId), [...snapshots].reverse());
    });

    it("filters snapshots by ids, disk, status and tags", async () => {
      assert.deepEqual(await snapshotIds({ snapshotIds: JSON.stringify([snapshots[3], "s-nothere"]) }), [snapshots[3]]);
      assert.equal((await snapshotIds({ tag: [new Ecs.DescribeSnapshotsRequestTag({ key: "n", value: "1" })], maxResults: 100 })).length, 52);
      assert.deepEqual(await snapshotIds({ diskId: "d-other" }), []);
      assert.equal((await snapshotIds({ status: "all", diskId: source })).length, 10);
      assert.deepEqual(await snapshotIds({ snapshotType: "auto" }), []);
    });

    const cases: Array<[string, SnapshotsInput, string, number]> = [
      ["more than 100 SnapshotIds", { snapshotIds: JSON.stringify(Array.from({ length: 101 }, (_, index) => `s-${index}`)) }, "InvalidSnapshotIds.Malformed", 403],
      ["SnapshotIds that are not JSON", { snapshotIds: "s-1,s-2" }, "InvalidSnapshotIds.Malformed", 403],
      ["an unknown status", { status: "done" }, "InvalidStatus.NotFound", 404],
      ["MaxResults above 100", { maxResults: 101 }, "InvalidParameter", 400],
      ["a missing RegionId", { regionId: undefined }, "MissingParameter.RegionId", 400],
    ];
    for (const [what, input, code, status] of cases) {
      it(`answers ${code} (${status}) for ${what}`, async () => {
        await rejectsWithCode(ecs.describeSnapshots(new Ecs.DescribeSnapshotsRequest({ regionId: REGION, ...input })), code, status);
      });
    }
  });
});
