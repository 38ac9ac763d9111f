import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { Ecs, KEY, REGION, ZONE_B, ZONE_G, ZONE_M, rejectsWithCode, startTestEmulator, type TestEmulator } from "./helpers.ts";

interface CompactDisk {
  diskId: string;
  zoneId: string;
  status: string;
  category: string;
  performanceLevel: string;
  size: number;
  tags: Record<string, string>;
  instanceId: string;
  everAttached: boolean;
  hasContent: boolean;
  sourceSnapshotId: string;
}

describe("ECS emulator: control API (/_emulator/)", () => {
  let world: TestEmulator;

  before(async () => {
    world = await startTestEmulator();
  });
  after(async () => {
    await world.close();
  });
  beforeEach(async () => {
    await world.control.ok("POST", "/reset");
  });

  describe("seeding disks", () => {
    it("plants an In_use disk with an id, tags and content of the caller's choosing, skipping Creating", async () => {
      const disk = await world.control.ok<CompactDisk>("POST", "/disks", { zoneId: ZONE_M, category: "cloud_essd", size: 500, performanceLevel: "PL2", status: "In_use", diskId: "d-seeded1", tags: { app: "db" }, content: "rows 1-100", instanceId: "i-node3" });
      assert.deepEqual(
        { ...disk, createdAt: undefined, diskName: undefined },
        { diskId: "d-seeded1", diskName: undefined, zoneId: ZONE_M, status: "In_use", category: "cloud_essd", performanceLevel: "PL2", size: 500, tags: { app: "db" },
          encrypted: false, kmsKeyId: "", provisionedIops: 0, burstingEnabled: false, multiAttach: "Disabled", resourceGroupId: "", autoSnapshotPolicyId: "",
          sourceSnapshotId: "", instanceId: "i-node3", everAttached: true, hasContent: true, createdAt: undefined },
      );
      assert.equal(await world.control.content("d-seeded1"), "rows 1-100");
      const [described] = (await world.ecs.describeDisks(new Ecs.DescribeDisksRequest({ regionId: REGION, diskIds: '["d-seeded1"]' }))).body?.disks?.disk ?? [];
      assert.equal(described?.status, "In_use");
      assert.equal(described.performanceLevel, "PL2");
    });

    it("plants an Available disk, attached before only when asked", async () => {
      const fresh = await world.control.ok<CompactDisk>("POST", "/disks", { zoneId: ZONE_B, category: "cloud_ssd", size: 40 });
      const used = await world.control.ok<CompactDisk>("POST", "/disks", { zoneId: ZONE_B, category: "cloud_ssd", size: 40, attachedOnce: true });
      assert.deepEqual([fresh.status, fresh.everAttached, fresh.performanceLevel], ["Available", false, ""]);
      assert.deepEqual([used.status, used.everAttached], ["Available", true]);
    });

    it("refuses a disk it cannot plant, saying why", async () => {
      const bad = async (body: Record<string, unknown>, status: number, pattern: RegExp) => {
        const answer = await world.control.call("POST", "/disks", body);
        assert.equal(answer.status, status, answer.text);
        assert.match(answer.text, pattern);
      };
      await bad({ zoneId: "cn-shanghai-z", category: "cloud_essd", size: 40 }, 400, /zoneId must be one of/);
      await bad({ zoneId: ZONE_B, category: "cloud_magic", size: 40 }, 400, /not an ECS disk category/);
      await bad({ zoneId: ZONE_B, category: "cloud_essd", size: 100, performanceLevel: "PL3" }, 400, /PL3 needs 1261/);
      await bad({ zoneId: ZONE_B, category: "cloud_essd", size: 40, status: "Creating" }, 400, /status must be/);
      await world.control.seedDisk({ diskId: "d-twice" });
      await bad({ zoneId: ZONE_B, category: "cloud_essd", size: 40, diskId: "d-twice" }, 409, /already exists/);
      const notJson = await world.control.call("POST", "/disks", "zone=b");
      assert.equal(notJson.status, 400);
    });
  });

  describe("contents", () => {
    it("stores any body as a disk's content and gives it back with its content type", async () => {
      const diskId = await world.control.seedDisk({});
      const bytes = Buffer.from([0, 1, 2, 250, 255]);
      const put = await fetch(`${world.emulator.url}/_emulator/disks/${diskId}/content`, { method: "PUT", body: bytes, headers: { "content-type": "application/octet-stream" } });
      assert.equal(put.status, 200);
      const got = await fetch(`${world.emulator.url}/_emulator/disks/${diskId}/content`);
      assert.equal(got.headers.get("content-type"), "application/octet-stream");
      assert.deepEqual(Buffer.from(await got.arrayBuffer()), bytes);
    });

    it("answers 404 with a JSON error for a disk without content and for a disk that does not exist", async () => {
      const diskId = await world.control.seedDisk({});
      const none = await world.control.call("GET", `/disks/${diskId}/content`);
      assert.equal(none.status, 404);
      assert.match((none.json as { error: string }).error, /has no content/);
      assert.equal((await world.control.call("GET", "/disks/d-nothere/content")).status, 404);
      assert.equal((await world.control.call("PUT", "/disks/d-nothere/content", "x")).status, 404);
    });
  });

  describe("attach and detach", () => {
    it("attaches an Available disk (marking it attached once) and detaches an In_use one", async () => {
      const diskId = await world.control.seedDisk({});
      const attached = await world.control.ok<CompactDisk>("POST", `/disks/${diskId}/attach`, { instanceId: "i-node1" });
      assert.deepEqual([attached.status, attached.instanceId, attached.everAttached], ["In_use", "i-node1", true]);
      assert.equal((await world.control.call("POST", `/disks/${diskId}/attach`, { instanceId: "i-node2" })).status, 409);
      const detached = await world.control.ok<CompactDisk>("POST", `/disks/${diskId}/detach`);
      assert.deepEqual([detached.status, detached.instanceId, detached.everAttached], ["Available", "", true]);
      assert.equal((await world.control.call("POST", `/disks/${diskId}/detach`)).status, 409);
      assert.equal((await world.control.call("POST", "/disks/d-nothere/attach", {})).status, 404);
    });
  });

  describe("inspection", () => {
    it("shows an inventory of disks and snapshots, with where each came from", async () => {
      const source = await world.control.seedDisk({ status: "In_use", content: "x" });
      const snapshotId = (await world.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: source, retentionDays: 7, tag: [new Ecs.CreateSnapshotRequestTag({ key: "m", value: "1" })] }))).body?.snapshotId ?? "";
      const copy = (await world.ecs.createDisk(new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: ZONE_G, diskCategory: "cloud_essd", snapshotId }))).body?.diskId ?? "";
      const { disks, snapshots } = await world.control.ok<{ disks: CompactDisk[]; snapshots: Array<Record<string, unknown>> }>("GET", "/inventory");
      assert.deepEqual(disks.map((disk) => [disk.diskId, disk.zoneId, disk.sourceSnapshotId, disk.hasContent]), [[source, ZONE_B, "", true], [copy, ZONE_G, snapshotId, true]]);
      assert.equal(snapshots.length, 1);
      assert.deepEqual(
        [snapshots[0]?.snapshotId, snapshots[0]?.sourceDiskId, snapshots[0]?.available, snapshots[0]?.retentionDays, snapshots[0]?.usedByDisks, snapshots[0]?.tags],
        [snapshotId, source, true, 7, [copy], { m: "1" }],
      );
    });

    it("logs every ECS call with its action, parameters (without the signature), key and outcome", async () => {
      await world.control.ok("DELETE", "/requests");
      await world.ecs.describeDisks(new Ecs.DescribeDisksRequest({ regionId: REGION, zoneId: ZONE_B }));
      await rejectsWithCode(world.client({ signatureAlgorithm: "v2" }).deleteDisk(new Ecs.DeleteDiskRequest({})), "MissingParameter", 400);
      const log = await world.control.ok<Array<{ action: string; params: Record<string, string>; accessKeyId: string; status: number; code?: string; requestId: string; time: string }>>("GET", "/requests");
      assert.deepEqual(log.map((entry) => [entry.action, entry.status, entry.code, entry.accessKeyId]), [["DescribeDisks", 200, undefined, KEY.accessKeyId], ["DeleteDisk", 400, "MissingParameter", KEY.accessKeyId]]);
      assert.deepEqual(log[0]?.params, { RegionId: REGION, ZoneId: ZONE_B });
      assert.equal(log[1]?.params.Signature, undefined);
      await world.control.ok("DELETE", "/requests");
      assert.deepEqual(await world.control.requests(), []);
    });

    it("dumps the whole state, configuration (secrets masked) and clock included", async () => {
      await world.control.seedDisk({});
      const state = await world.control.ok<{ config: { regionId: string; accounts: Array<{ accessKeySecret: string }> }; clock: { timeScale: number }; disks: unknown[] }>("GET", "/state");
      assert.equal(state.config.regionId, REGION);
      assert.equal(state.config.accounts[0]?.accessKeySecret, "***");
      assert.equal(state.clock.timeScale, 0.001);
      assert.equal(state.disks.length, 1);
    });

    it("starts over on reset: no disks, snapshots, tokens, faults or nonces, same configuration", async () => {
      const diskId = await world.control.seedDisk({ status: "In_use" });
      await world.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId, clientToken: "t1" }));
      await world.control.inject({ action: "CreateDisk", code: "InternalError" });
      await world.control.ok("POST", "/reset");
      const state = await world.control.ok<{ disks: unknown[]; snapshots: unknown[]; clientTokens: unknown[]; faults: unknown[]; nonces: number; config: { zones: unknown[] } }>("GET", "/state");
      assert.deepEqual([state.disks.length, state.snapshots.length, state.clientTokens.length, state.faults.length, state.nonces], [0, 0, 0, 0, 0]);
      assert.equal(state.config.zones.length, 3);
    });
  });

  describe("changing the world's conditions", () => {
    it("changes what a zone sells and has in stock, as DescribeAvailableResource and CreateDisk then see it", async () => {
      await world.control.ok("PATCH", `/zones/${ZONE_B}`, { soldOut: ["cloud_essd"] });
      try {
        await rejectsWithCode(world.ecs.createDisk(new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: ZONE_B, diskCategory: "cloud_essd", size: 40 })), "OperationDenied.NoStock", 403);
        const answer = await world.ecs.describeAvailableResource(new Ecs.DescribeAvailableResourceRequest({ regionId: REGION, zoneId: ZONE_B, destinationResource: "DataDisk", dataDiskCategory: "cloud_essd" }));
        assert.equal(answer.body?.availableZones?.availableZone?.[0]?.availableResources?.availableResource?.[0]?.supportedResources?.supportedResource?.[0]?.status, "SoldOut");
        const bad = await world.control.call("PATCH", `/zones/${ZONE_B}`, { soldOut: ["cloud_magic"] });
        assert.equal(bad.status, 400);
      } finally {
        await world.control.ok("PATCH", `/zones/${ZONE_B}`, { soldOut: [] });
      }
    });

    it("keeps a zone's new disks Creating for its extra delay, the rest of the world unchanged", async () => {
      await world.control.ok("PATCH", `/zones/${ZONE_G}`, { diskCreateDelayMs: 3_600_000 });
      try {
        const slow = (await world.ecs.createDisk(new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: ZONE_G, diskCategory: "cloud_essd", size: 40 }))).body?.diskId ?? "";
        const quick = (await world.ecs.createDisk(new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: ZONE_B, diskCategory: "cloud_essd", size: 40 }))).body?.diskId ?? "";
        // timeScale 0.001: an hour of cloud time is 3.6 s on the emulator's clock.
        await world.control.ok("POST", "/clock", { advanceMs: 1_000 });
        assert.equal((await world.control.ok<CompactDisk>("GET", `/disks/${slow}`)).status, "Creating");
        assert.equal((await world.control.ok<CompactDisk>("GET", `/disks/${quick}`)).status, "Available");
        await world.control.ok("POST", "/clock", { advanceMs: 3_000 });
        assert.equal((await world.control.ok<CompactDisk>("GET", `/disks/${slow}`)).status, "Available");
        assert.equal((await world.control.call("PATCH", `/zones/${ZONE_G}`, { diskCreateDelayMs: -5 })).status, 400);
      } finally {
        await world.control.ok("PATCH", `/zones/${ZONE_G}`, { diskCreateDelayMs: 0 });
      }
    });

    it("refuses to move the clock backwards", async () => {
      assert.equal((await world.control.call("POST", "/clock", { advanceMs: -1 })).status, 400);
    });

    it("answers 404 for an unknown route and 405 for a known route with another method", async () => {
      assert.equal((await world.control.call("GET", "/nothing")).status, 404);
      assert.equal((await world.control.call("PUT", "/inventory")).status, 405);
      assert.deepEqual(await world.control.ok("GET", "/health"), { ok: true });
    });
  });
});
