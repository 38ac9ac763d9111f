import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { defaultEmulatorConfig, startEcsEmulator } from "../../emulator/ecs/index.ts";
import { Control, Ecs, REGION, ZONE_B, ZONE_M, sdkClient, testConfigOverrides } from "./helpers.ts";

describe("ECS emulator: the world survives a restart with persistFile", () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "zf-ecs-persist-"));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (persistFile: string) => startEcsEmulator({ port: 0, config: defaultEmulatorConfig(testConfigOverrides({ persistFile })) });

  it("keeps disks, snapshots, contents and client tokens across a restart, and new ids keep sorting newest first", async () => {
    const file = join(dir, "world.json");
    const first = await start(file);
    const ecs = sdkClient(first);
    const control = new Control(first.url);
    const source = await control.seedDisk({ status: "In_use", content: "ledger v7", tags: { app: "ledger" } });
    const snapshotId = (await ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: source, retentionDays: 30 }))).body?.snapshotId ?? "";
    const createCopy = () => new Ecs.CreateDiskRequest({ regionId: REGION, zoneId: ZONE_M, diskCategory: "cloud_essd", snapshotId, clientToken: "copy-1" });
    const copy = (await ecs.createDisk(createCopy())).body?.diskId ?? "";
    await first.close();
    assert.deepEqual(readdirSync(dir), ["world.json"], "written by rename: no temporary file left");

    const second = await start(file);
    try {
      const again = sdkClient(second);
      const secondControl = new Control(second.url);
      assert.equal((await again.createDisk(createCopy())).body?.diskId, copy, "the client token is remembered");
      const disks = (await again.describeDisks(new Ecs.DescribeDisksRequest({ regionId: REGION }))).body?.disks?.disk ?? [];
      assert.deepEqual(disks.map((disk) => disk.diskId), [copy, source]);
      assert.equal(disks[1]?.status, "In_use");
      const [snapshot] = (await again.describeSnapshots(new Ecs.DescribeSnapshotsRequest({ regionId: REGION, snapshotIds: JSON.stringify([snapshotId]) }))).body?.snapshots?.snapshot ?? [];
      assert.equal(snapshot?.retentionDays, 30);
      assert.equal(await secondControl.content(copy), "ledger v7");
      assert.equal(await secondControl.content(snapshotId, "snapshots"), "ledger v7");
      const newer = await secondControl.seedDisk({ zoneId: ZONE_B });
      const listed = (await again.describeDisks(new Ecs.DescribeDisksRequest({ regionId: REGION }))).body?.disks?.disk ?? [];
      assert.equal(listed[0]?.diskId, newer);
    } finally {
      await second.close();
    }
  });

  it("writes a reset too, so the next start is empty", async () => {
    const file = join(dir, "reset.json");
    const first = await start(file);
    await new Control(first.url).seedDisk({});
    await new Control(first.url).ok("POST", "/reset");
    await first.close();
    const saved = JSON.parse(readFileSync(file, "utf8")) as { format: number; world: { disks: unknown[] } };
    assert.equal(saved.format, 1);
    assert.deepEqual(saved.world.disks, []);
  });

  it("refuses to start on a file that is not an emulator state file, naming it", async () => {
    const file = join(dir, "foreign.json");
    writeFileSync(file, JSON.stringify({ hello: "world" }));
    await assert.rejects(start(file), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} is not an ECS emulator state file`));
  });
});
