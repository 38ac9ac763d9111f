/**
 * The behaviour every DiskCloud must have, run through the real SDK adapter against the ECS
 * emulator over HTTP. To run it against another DiskCloud (real ECS with credentials, say),
 * change `createTestCloud()`; the cases stay. A second account, which the first shares snapshots
 * with through Resource Sharing, stands for a restore's side.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { NotFoundCloudError, PermanentCloudError, TransientCloudError } from "../../core/cloud-errors.ts";
import type { DiskCloud, DiskRecord } from "../../core/disk-cloud.ts";
import { EcsDiskCloud } from "../../core/ecs/ecs-disk-cloud.ts";
import { createEcsClient, type EcsClientOptions } from "../../core/ecs/ecs-sdk.ts";
import { ResourceSharingClient } from "../../core/ecs/resource-sharing-client.ts";
import { defaultEmulatorConfig, startEcsEmulator, type EcsEmulator } from "../../emulator/ecs/index.ts";
import { freePort } from "../../sandbox/processes.ts";
import { emulatorControl, type EmulatorControl } from "../support/ecs-emulator-control.ts";

const REGION = "cn-shanghai";
const KEY = { id: "zoneferry-conformance-key", secret: "zoneferry-test-secret" };
/** The account snapshots are shared with: a restore's. */
const OTHER = { accountId: "2222222222222222", id: "zoneferry-conformance-other-key", secret: "zoneferry-test-other-secret" };
const B = "cn-shanghai-b";
const G = "cn-shanghai-g";
const M = "cn-shanghai-m";

interface TestCloud {
  readonly cloud: DiskCloud;
  readonly control: EmulatorControl;
  /** The same cloud reached with other client settings. */
  connect(options: { secret?: string; readTimeoutMs?: number }): DiskCloud;
  /** The cloud as another account sees it. */
  readonly other: DiskCloud;
  /** Shares the snapshots with the other account, which accepts the invitation. */
  shareWithOther(name: string, snapshotIds: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

async function createTestCloud(): Promise<TestCloud> {
  const emulator: EcsEmulator = await startEcsEmulator({
    port: 0,
    config: defaultEmulatorConfig({
      regionId: REGION,
      accounts: [{ accessKeyId: KEY.id, accessKeySecret: KEY.secret }, { accountId: OTHER.accountId, accessKeyId: OTHER.id, accessKeySecret: OTHER.secret }],
      zones: [
        { zoneId: B, categories: ["cloud_essd", "cloud_auto", "cloud_ssd", "cloud_efficiency"] },
        { zoneId: G, categories: ["cloud_essd", "cloud_ssd"], soldOut: ["cloud_ssd"] },
        { zoneId: M, categories: ["cloud_essd", "cloud_ssd", "cloud_efficiency"] },
      ],
      // Durations of a real cloud, a thousand times faster.
      timeScale: 0.001,
    }),
  });
  const clientOptions = (key: { id: string; secret: string }, readTimeoutMs = 5_000): EcsClientOptions => ({
    regionId: REGION, endpoint: emulator.endpoint, protocol: "http", connectTimeoutMs: 5_000, readTimeoutMs, accessKey: key,
  });
  const connect = (options: { secret?: string; readTimeoutMs?: number } = {}): DiskCloud =>
    new EcsDiskCloud(createEcsClient(clientOptions({ id: KEY.id, secret: options.secret ?? KEY.secret }, options.readTimeoutMs)), REGION);
  const shareWithOther = async (name: string, snapshotIds: readonly string[]): Promise<void> => {
    await new ResourceSharingClient(clientOptions(KEY)).ensureShare({ name, snapshotIds, targetAccounts: [OTHER.accountId] });
    const receiver = new ResourceSharingClient(clientOptions(OTHER));
    for (const invitation of await receiver.receivedInvitations()) {
      if (invitation.shareName === name && invitation.status === "Pending") await receiver.acceptInvitation(invitation.invitationId);
    }
  };
  const other = new EcsDiskCloud(createEcsClient(clientOptions(OTHER)), REGION);
  return { cloud: connect(), control: emulatorControl(emulator.url), connect, other, shareWithOther, close: () => emulator.close() };
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("DiskCloud conformance: the ECS SDK adapter against the ECS emulator", () => {
  let world: TestCloud;
  let cloud: DiskCloud;
  let control: EmulatorControl;

  before(async () => {
    world = await createTestCloud();
    ({ cloud, control } = world);
  });
  after(async () => { await world.close(); });
  beforeEach(async () => {
    await control.reset();
  });

  /** A data disk in use by a node, as a running pod's disk is. */
  async function attachedDisk(zoneId: string, content: string, category = "cloud_essd"): Promise<string> {
    const seeded = await control.seedDisk({ zoneId, category, size: 40, ...(category === "cloud_essd" ? { performanceLevel: "PL1" } : {}), status: "In_use", attachedOnce: true, content });
    return seeded.DiskId ?? seeded.diskId!;
  }

  const disk = async (diskId: string): Promise<DiskRecord | undefined> => (await cloud.describeDisks([diskId])).find((found) => found.diskId === diskId);

  describe("life cycles", () => {
    it("creates a disk that is Creating first and Available soon after, with what was asked", async () => {
      const diskId = await cloud.createDisk({ zoneId: B, category: "cloud_essd", performanceLevel: "PL1", sizeGiB: 40, tags: { "zoneferry.io/pvc": "data-db-0" }, clientToken: "disk-life-1" });
      assert.match(diskId, /^d-/);
      const ready = await eventually(() => disk(diskId), (found) => found?.status === "Available", "the disk is Available");
      assert.deepEqual({ ...ready, diskId: "" }, {
        diskId: "", zoneId: B, category: "cloud_essd", status: "Available", sizeGiB: 40, performanceLevel: "PL1", tags: { "zoneferry.io/pvc": "data-db-0" }, sourceSnapshotId: undefined, instanceId: undefined, attachedAt: undefined,
        multiAttach: false, mountedInstances: 0, autoSnapshotPolicyId: undefined, encrypted: false, kmsKeyId: undefined, provisionedIops: undefined, burstingEnabled: false, resourceGroupId: undefined,
      });
    });

    it("creates a disk with the attributes asked (encryption and key, provisioned IOPS, bursting, multi-attach, resource group) and reads them back", async () => {
      const attributes = { encrypted: true, kmsKeyId: "key-orders", provisionedIops: 20_000, burstingEnabled: true, multiAttach: true, resourceGroupId: "rg-shop" };
      const diskId = await cloud.createDisk({ zoneId: B, category: "cloud_auto", sizeGiB: 100, tags: {}, clientToken: "disk-attributes-1", attributes });
      const ready = await eventually(() => disk(diskId), (found) => found?.status === "Available", "the disk is Available");
      const { encrypted, kmsKeyId, provisionedIops, burstingEnabled, multiAttach, resourceGroupId } = ready!;
      assert.deepEqual({ encrypted, kmsKeyId, provisionedIops, burstingEnabled, multiAttach, resourceGroupId }, attributes);
    });

    it("reports a disk encrypted without a named key under the key ECS chose, and its snapshot with the same key and its name", async () => {
      const diskId = await cloud.createDisk({ zoneId: B, category: "cloud_essd", sizeGiB: 40, tags: {}, clientToken: "disk-service-key-1", attributes: { encrypted: true } });
      const made = await eventually(() => disk(diskId), (found) => found?.status === "Available", "the disk is Available");
      assert.equal(made?.encrypted, true);
      assert.ok(made.kmsKeyId !== undefined && made.kmsKeyId !== "", "ECS names the service key it used");
      await control.attach(diskId, "i-service-key");
      await eventually(() => disk(diskId), (found) => found?.status === "In_use", "the disk is In_use");
      const snapshotId = await cloud.createSnapshot({ diskId, name: "zf-shop-data-db-0-e5f6", tags: {}, clientToken: "snap-service-key-1" });
      const [snapshot] = await cloud.describeSnapshots([snapshotId]);
      assert.deepEqual([snapshot?.name, snapshot?.encrypted, snapshot?.kmsKeyId], ["zf-shop-data-db-0-e5f6", true, made.kmsKeyId]);
    });

    it("reports a snapshot of a disk not encrypted as not encrypted, without a key, and one made without a name without one", async () => {
      const snapshotId = await cloud.createSnapshot({ diskId: await attachedDisk(M, "x"), tags: {}, clientToken: "snap-plain-1" });
      const [snapshot] = await cloud.describeSnapshots([snapshotId]);
      assert.ok(snapshot !== undefined);
      assert.deepEqual([snapshot.encrypted, "kmsKeyId" in snapshot, "name" in snapshot], [false, false, false]);
    });

    it("makes a disk from an encrypted disk's snapshot encrypted with the source's key, unasked", async () => {
      const seeded = await control.seedDisk({ zoneId: M, category: "cloud_essd", size: 40, status: "In_use", encrypted: true, kmsKeyId: "key-source", autoSnapshotPolicyId: "sp-daily" });
      const source = seeded.DiskId ?? seeded.diskId!;
      assert.deepEqual([(await disk(source))?.autoSnapshotPolicyId, (await disk(source))?.mountedInstances], ["sp-daily", 1]);
      const snapshotId = await cloud.createSnapshot({ diskId: source, tags: {}, clientToken: "snap-encrypted-1" });
      const copy = await cloud.createDisk({ zoneId: G, category: "cloud_essd", sizeGiB: 40, snapshotId, tags: {}, clientToken: "disk-encrypted-1" });
      const made = await disk(copy);
      assert.deepEqual([made?.encrypted, made?.kmsKeyId], [true, "key-source"]);
    });

    it("snapshots an attached ESSD disk and the snapshot is usable at once", async () => {
      const source = await attachedDisk(M, "orders v1");
      const snapshotId = await cloud.createSnapshot({ diskId: source, retentionDays: 3, tags: { "zoneferry.io/migration-id": "m1" }, clientToken: "snap-life-1" });
      const [snapshot] = await cloud.describeSnapshots([snapshotId]);
      assert.equal(snapshot?.available, true);
      assert.equal(snapshot.sourceDiskId, source);
      assert.equal(snapshot.retentionDays, 3);
      assert.deepEqual(snapshot.tags, { "zoneferry.io/migration-id": "m1" });
    });

    it("tells when a disk was last attached and when a snapshot was taken, so an attach after the snapshot shows", async () => {
      const before = Date.now() - 2_000;
      const source = await attachedDisk(M, "orders");
      const snapshotId = await cloud.createSnapshot({ diskId: source, tags: {}, clientToken: "snap-times-1" });
      const [snapshot] = await cloud.describeSnapshots([snapshotId]);
      const attached = (await disk(source))?.attachedAt;
      assert.ok(attached !== undefined && attached >= before, `attachedAt ${String(attached)}`);
      assert.ok(snapshot?.createdAt !== undefined && snapshot.createdAt >= attached, `createdAt ${String(snapshot?.createdAt)} not before the attach`);
    });

    it("makes a disk in another zone from a snapshot, and the disk holds the source's content", async () => {
      const source = await attachedDisk(M, "orders as of 10:42");
      const snapshotId = await cloud.createSnapshot({ diskId: source, tags: {}, clientToken: "snap-content-1" });
      const copy = await cloud.createDisk({ zoneId: G, category: "cloud_essd", performanceLevel: "PL1", sizeGiB: 40, snapshotId, tags: {}, clientToken: "disk-content-1" });
      const ready = await eventually(() => disk(copy), (found) => found?.status === "Available", "the copy is Available");
      assert.ok(ready !== undefined);
      assert.equal(ready.zoneId, G);
      assert.equal(ready.sourceSnapshotId, snapshotId);
      assert.equal(await control.content(copy), "orders as of 10:42");
    });

    it("deletes disks and snapshots, and deleting them again succeeds", async () => {
      const source = await attachedDisk(M, "x");
      const snapshotId = await cloud.createSnapshot({ diskId: source, tags: {}, clientToken: "snap-delete-1" });
      const diskId = await cloud.createDisk({ zoneId: B, category: "cloud_essd", sizeGiB: 40, tags: {}, clientToken: "disk-delete-1" });
      await eventually(() => disk(diskId), (found) => found?.status === "Available", "the disk is Available");
      await cloud.deleteDisk(diskId);
      await cloud.deleteSnapshot(snapshotId);
      assert.equal(await disk(diskId), undefined);
      assert.deepEqual(await cloud.describeSnapshots([snapshotId]), []);
      await cloud.deleteDisk(diskId);
      await cloud.deleteSnapshot(snapshotId);
    });

    it("describes more than 100 disks by id, across batches and pages", async () => {
      const ids: string[] = [];
      for (let index = 0; index < 230; index++) {
        const seeded = await control.seedDisk({ zoneId: M, category: "cloud_essd", size: 20, status: "Available" });
        ids.push(seeded.DiskId ?? seeded.diskId!);
      }
      const found = await cloud.describeDisks([...ids, "d-does-not-exist"]);
      assert.deepEqual(found.map((record) => record.diskId).sort(), [...ids].sort());
    });

    it("finds disks and snapshots by tag, across pages", async () => {
      const tags = { "zoneferry.io/migration-id": "paging" };
      for (let index = 0; index < 120; index++) await control.seedDisk({ zoneId: B, category: "cloud_essd", size: 20, status: "Available", tags });
      await control.seedDisk({ zoneId: B, category: "cloud_essd", size: 20, status: "Available", tags: { "zoneferry.io/migration-id": "other" } });
      assert.equal((await cloud.findDisksByTags(tags)).length, 120);
      const source = await attachedDisk(M, "x");
      await cloud.createSnapshot({ diskId: source, tags, clientToken: "snap-tag-1" });
      assert.equal((await cloud.findSnapshotsByTags(tags)).length, 1);
    });

    it("finds a snapshot by its name, across pages, and only snapshots of exactly that name", async () => {
      const source = await attachedDisk(M, "orders");
      const name = "zf-shop-data-db-0-a1b2";
      const named = [];
      for (let index = 0; index < 101; index++) named.push(await cloud.createSnapshot({ diskId: source, name, tags: {}, clientToken: `snap-name-${index}` }));
      for (const near of [`${name}-old`, "zf-shop-data-db-0-a1b", `x${name}`]) await cloud.createSnapshot({ diskId: source, name: near, tags: {}, clientToken: `snap-near-${near}` });
      await cloud.createSnapshot({ diskId: source, tags: {}, clientToken: "snap-unnamed" });
      const found = await cloud.findSnapshotsByName(name);
      assert.deepEqual(found.map((snapshot) => snapshot.snapshotId).sort(), [...named].sort());
      assert.ok(found.every((snapshot) => snapshot.name === name && snapshot.sourceDiskId === source));
      assert.deepEqual(await cloud.findSnapshotsByName("zf-shop-data-db-9-a1b2"), [], "a name no snapshot has finds none");
      assert.deepEqual(await cloud.findSnapshotsByName(""), [], "an empty name finds none, not every snapshot");
    });

    it("finds a snapshot another account shares with this one by the owner's name, under an id of its own, with the owner's encryption", async () => {
      const seeded = await control.seedDisk({ zoneId: M, category: "cloud_essd", size: 40, status: "In_use", attachedOnce: true, encrypted: true, kmsKeyId: "key-orders", content: "orders" });
      const name = "zf-shop-data-db-0-c3d4";
      const owned = await cloud.createSnapshot({ diskId: seeded.DiskId ?? seeded.diskId!, name, tags: {}, clientToken: "snap-shared-1" });
      assert.deepEqual(await world.other.findSnapshotsByName(name), [], "nothing is visible before it is shared");
      await world.shareWithOther("zf-shop-db-c3d4", [owned]);
      const [seen, ...more] = await world.other.findSnapshotsByName(name);
      assert.equal(more.length, 0);
      assert.ok(seen !== undefined && seen.snapshotId !== owned, "the receiving account sees it under an id of its own");
      assert.deepEqual([seen.name, seen.sourceDiskSizeGiB, seen.encrypted, seen.kmsKeyId, seen.available], [name, 40, true, "key-orders", true]);
      assert.deepEqual((await cloud.findSnapshotsByName(name)).map((snapshot) => snapshot.snapshotId), [owned], "the owner still sees its own");
    });

    it("lists the disk categories a zone sells, without sold-out ones", async () => {
      assert.deepEqual([...(await cloud.availableDiskCategories(B))].sort(), ["cloud_auto", "cloud_efficiency", "cloud_essd", "cloud_ssd"]);
      assert.deepEqual([...(await cloud.availableDiskCategories(G))], ["cloud_essd"]);
    });
  });

  describe("idempotency", () => {
    it("makes one snapshot when the same snapshot is asked twice with one client token", async () => {
      const source = await attachedDisk(M, "x");
      const input = { diskId: source, retentionDays: 1, tags: { "zoneferry.io/pvc": "data-db-0" }, clientToken: "mig-1-snap-data-db-0" };
      const first = await cloud.createSnapshot(input);
      const second = await cloud.createSnapshot(input);
      assert.equal(second, first);
      assert.equal((await cloud.findSnapshotsByTags({ "zoneferry.io/pvc": "data-db-0" })).length, 1);
    });

    it("makes one disk when the same disk is asked twice with one client token", async () => {
      const input = { zoneId: B, category: "cloud_essd", sizeGiB: 40, tags: { "zoneferry.io/pvc": "data-db-1" }, clientToken: "mig-1-disk-data-db-1" };
      assert.equal(await cloud.createDisk(input), await cloud.createDisk(input));
      assert.equal((await cloud.findDisksByTags({ "zoneferry.io/pvc": "data-db-1" })).length, 1);
    });

    it("refuses a client token reused with other parameters, permanently, with ECS's code", async () => {
      await cloud.createDisk({ zoneId: B, category: "cloud_essd", sizeGiB: 40, tags: {}, clientToken: "reused" });
      await assert.rejects(cloud.createDisk({ zoneId: G, category: "cloud_essd", sizeGiB: 40, tags: {}, clientToken: "reused" }), (error) => {
        assert.ok(error instanceof PermanentCloudError);
        assert.equal(error.code, "IdempotentParameterMismatch");
        assert.equal(error.action, "CreateDisk");
        return true;
      });
    });
  });

  describe("errors, classified", () => {
    it("reports a disk that does not exist as not found", async () => {
      await assert.rejects(cloud.createSnapshot({ diskId: "d-gone", tags: {}, clientToken: "t-gone" }), (error) => {
        assert.ok(error instanceof NotFoundCloudError);
        assert.equal(error.code, "InvalidDiskId.NotFound");
        return true;
      });
    });

    it("reports throttling as transient with ECS's retry-after, and the SDK does not retry on its own", async () => {
      await control.inject({ action: "DescribeDisks", code: "Throttling.User", times: 1, retryAfterMs: 1500 });
      await control.clearRequests();
      await assert.rejects(cloud.describeDisks(["d-1"]), (error) => {
        assert.ok(error instanceof TransientCloudError);
        assert.equal(error.code, "Throttling.User");
        assert.equal(error.retryAfterMs, 1500);
        return true;
      });
      const calls = (await control.requests()).filter((request) => request.action === "DescribeDisks");
      assert.equal(calls.length, 1, "exactly one request: retrying is the runner's job");
    });

    it("reports an InternalError and a ServiceUnavailable as transient", async () => {
      await control.inject({ action: "CreateDisk", code: "InternalError", times: 1 });
      await control.inject({ action: "DeleteDisk", code: "ServiceUnavailable", times: 1 });
      await assert.rejects(cloud.createDisk({ zoneId: B, category: "cloud_essd", sizeGiB: 40, tags: {}, clientToken: "t-500" }), (error) => error instanceof TransientCloudError && error.httpStatus === 500);
      await assert.rejects(cloud.deleteDisk("d-any"), (error) => error instanceof TransientCloudError && error.httpStatus === 503);
    });

    it("reports a call that gets no answer in time as transient", async () => {
      await control.inject({ action: "DescribeAvailableResource", hang: true, times: 1 });
      const impatient = world.connect({ readTimeoutMs: 300 });
      await assert.rejects(impatient.availableDiskCategories(B), (error) => error instanceof TransientCloudError && error.code === "RequestTimeout");
    });

    it("reports an ECS endpoint that refuses connections as transient", async () => {
      const closed = new EcsDiskCloud(createEcsClient({ regionId: REGION, endpoint: `127.0.0.1:${await freePort()}`, protocol: "http", connectTimeoutMs: 1_000, readTimeoutMs: 1_000, accessKey: { id: KEY.id, secret: KEY.secret } }), REGION);
      await assert.rejects(closed.describeDisks(["d-1"]), (error) => error instanceof TransientCloudError && error.code === "ECONNREFUSED");
    });

    it("reports a broken precondition as permanent, keeping ECS's code and message", async () => {
      await assert.rejects(cloud.createDisk({ zoneId: G, category: "cloud_ssd", sizeGiB: 40, tags: {}, clientToken: "t-sold-out" }), (error) => {
        assert.ok(error instanceof PermanentCloudError);
        assert.match(error.code, /NoStock|NotOnSale/);
        assert.match(error.message, /^ECS CreateDisk failed: /);
        return true;
      });
    });

    it("refuses to delete a snapshot disks were made from, unless forced", async () => {
      const source = await attachedDisk(M, "x");
      const snapshotId = await cloud.createSnapshot({ diskId: source, tags: {}, clientToken: "t-used" });
      await cloud.createDisk({ zoneId: B, category: "cloud_essd", sizeGiB: 40, snapshotId, tags: {}, clientToken: "t-used-disk" });
      await assert.rejects(cloud.deleteSnapshot(snapshotId), (error) => error instanceof PermanentCloudError && error.code === "SnapshotCreatedDisk");
      await cloud.deleteSnapshot(snapshotId, { force: true });
      assert.deepEqual(await cloud.describeSnapshots([snapshotId]), []);
    });

    it("reports a disk still initializing from its snapshot as transient", async () => {
      const source = await attachedDisk(M, "x");
      const snapshotId = await cloud.createSnapshot({ diskId: source, tags: {}, clientToken: "t-init" });
      const copy = await cloud.createDisk({ zoneId: B, category: "cloud_essd", sizeGiB: 40, snapshotId, tags: {}, clientToken: "t-init-disk" });
      await control.inject({ action: "DeleteDisk", code: "IncorrectDiskStatus.Initializing", times: 1 });
      await assert.rejects(cloud.deleteDisk(copy), (error) => error instanceof TransientCloudError && error.code === "IncorrectDiskStatus.Initializing");
      await control.inject({ action: "DeleteDisk", code: "DiskCreatingSnapshot", times: 1 });
      await assert.rejects(cloud.deleteDisk(copy), (error) => error instanceof TransientCloudError && error.code === "DiskCreatingSnapshot");
    });

    it("rejects a wrong secret as a permanent signature mismatch", async () => {
      const impostor = world.connect({ secret: "not-the-secret" });
      await assert.rejects(impostor.describeDisks(["d-1"]), (error) => {
        assert.ok(error instanceof PermanentCloudError);
        assert.equal(error.code, "SignatureDoesNotMatch");
        assert.equal(error.httpStatus, 400);
        return true;
      });
    });
  });
});
