/**
 * The webhook's ECS checks through the real SDK adapter against the ECS emulator: categories on
 * sale, disk categories the PV does not tell, and an ECS that does not answer in time.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import request from "supertest";
import { SnapshotClusterView } from "../../core/cluster-view.ts";
import { EcsDiskCloud } from "../../core/ecs/ecs-disk-cloud.ts";
import { createEcsClient } from "../../core/ecs/ecs-sdk.ts";
import { defaultEmulatorConfig, startEcsEmulator, type EcsEmulator } from "../../emulator/ecs/index.ts";
import { cachedDiskLookup } from "../../webhook/cached-disk-lookup.ts";
import { reviewBody, update } from "../support/admission.ts";
import { clusterWithDisks, statefulSet } from "../support/cluster-fixtures.ts";
import { emulatorControl, type EmulatorControl } from "../support/ecs-emulator-control.ts";
import { testApp } from "../support/webhook-app.ts";

const KEY = { id: "webhook-test-key", secret: "webhook-test-secret" };
const M = "cn-shanghai-m";

describe("the webhook asking the ECS emulator through the SDK adapter", () => {
  let emulator: EcsEmulator;
  let control: EmulatorControl;

  before(async () => {
    emulator = await startEcsEmulator({
      port: 0,
      config: defaultEmulatorConfig({
        regionId: "cn-shanghai",
        accounts: [{ accessKeyId: KEY.id, accessKeySecret: KEY.secret }],
        zones: [
          { zoneId: "cn-shanghai-b", categories: ["cloud_essd", "cloud_ssd"] },
          { zoneId: "cn-shanghai-g", categories: ["cloud_ssd", "cloud_efficiency"] },
          { zoneId: M, categories: ["cloud_essd", "cloud_ssd", "cloud_efficiency"] },
        ],
        timeScale: 0.001,
      }),
    });
    control = emulatorControl(emulator.url);
  });
  after(async () => { await emulator.close(); });

  function webhook(deadlineMs = 1_500) {
    const cloud = new EcsDiskCloud(createEcsClient({ regionId: "cn-shanghai", endpoint: emulator.endpoint, protocol: "http", connectTimeoutMs: 5_000, readTimeoutMs: 5_000, accessKey: KEY }), "cn-shanghai");
    return cachedDiskLookup(cloud, { ttlMs: 60_000, deadlineMs });
  }

  async function admit(target: string, options: { categoryOnPv?: boolean; diskIds?: string[]; deadlineMs?: number } = {}) {
    const old = statefulSet({ replicas: options.diskIds?.length ?? 1 });
    const cluster = clusterWithDisks(old, (options.diskIds ?? ["x"]).map(() => M), { categoryOnPv: options.categoryOnPv ?? true });
    // Point the PVs at the emulator's disks.
    cluster.persistentVolumes.forEach((pv, index) => {
      const diskId = options.diskIds?.[index];
      if (diskId !== undefined) pv.spec!.csi!.volumeHandle = diskId;
    });
    const { app } = testApp({ view: new SnapshotClusterView(cluster), cloud: webhook(options.deadlineMs) });
    const admission = update(old, (next) => { next.metadata!.annotations!["zoneferry.io/target-zones"] = target; });
    const response = await request(app).post("/validate").set("Content-Type", "application/json").send(JSON.stringify(reviewBody(admission)));
    return (JSON.parse(response.text) as { response: { allowed: boolean; status?: { message: string }; warnings?: string[] } }).response;
  }

  it("admits a move to a zone where ECS sells ESSD disks", async () => {
    const answer = await admit("cn-shanghai-b");
    assert.equal(answer.allowed, true);
    assert.equal(answer.warnings?.some((warning) => warning.startsWith("ECS unreachable")), false);
  });

  it("denies a move to a zone where ECS does not sell ESSD disks", async () => {
    const answer = await admit("cn-shanghai-g");
    assert.equal(answer.allowed, false);
    assert.match(answer.status!.message, /ECS does not offer cloud_essd disks in target zone cn-shanghai-g/);
  });

  it("asks ECS for the category of a disk whose PV does not say, and denies an SSD", async () => {
    const seeded = await control.seedDisk({ zoneId: M, category: "cloud_ssd", size: 40, status: "In_use", attachedOnce: true });
    const answer = await admit("cn-shanghai-b", { categoryOnPv: false, diskIds: [seeded.DiskId ?? seeded.diskId!] });
    assert.equal(answer.allowed, false);
    assert.match(answer.status!.message, /is on cloud_ssd disk/);
  });

  it("reads a disk's tags from ECS and denies one with more than its new disk can take with zoneferry's own", async () => {
    const tags = Object.fromEntries(Array.from({ length: 18 }, (_, index) => [`cost-center-${index}`, "shop"]));
    const seeded = await control.seedDisk({ zoneId: M, category: "cloud_essd", size: 40, status: "In_use", attachedOnce: true, tags });
    const diskId = seeded.DiskId ?? seeded.diskId!;
    const answer = await admit("cn-shanghai-b", { diskIds: [diskId] });
    assert.equal(answer.allowed, false);
    assert.match(answer.status!.message, new RegExp(`disk ${diskId} of PVC data-db-0 has more tags than its new disk can take \\(ECS allows 20 per disk, zoneferry adds 3\\); remove 1 of its tags`));
  });

  it("admits with an 'ECS unreachable' warning when ECS does not answer within the deadline", async () => {
    await control.inject({ action: "DescribeAvailableResource", delayMs: 3_000, times: 1 });
    const started = Date.now();
    const answer = await admit("cn-shanghai-b", { deadlineMs: 200 });
    assert.ok(Date.now() - started < 2_500, "answered before ECS did");
    assert.equal(answer.allowed, true);
    assert.ok(answer.warnings?.includes("ECS unreachable (no answer within 200ms): could not check that cn-shanghai-b offers cloud_essd; the runner prechecks again"));
    await control.clearFaults();
  });
});
