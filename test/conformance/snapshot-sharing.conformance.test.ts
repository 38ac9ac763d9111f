/**
 * The behaviour every SnapshotSharing must have (core/snapshot-sharing.ts), run through the
 * production adapter (Resource Sharing 2020-01-10 over openapi-core's generic RPC call, signed)
 * against the ECS emulator with two accounts, over HTTP: an export's side in account 1, a
 * restore's side in account 2, and what each account sees in ECS through the real ECS SDK.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { PermanentCloudError } from "../../core/cloud-errors.ts";
import { EcsDiskCloud } from "../../core/ecs/ecs-disk-cloud.ts";
import { EcsModels, createEcsClient, type EcsClientOptions } from "../../core/ecs/ecs-sdk.ts";
import { ResourceSharingClient } from "../../core/ecs/resource-sharing-client.ts";
import { unshareableBecause } from "../../core/shareable.ts";
import { defaultEmulatorConfig, startEcsEmulator, type EcsEmulator } from "../../emulator/ecs/index.ts";

const REGION = "cn-shanghai";
const OWNER = { accountId: "1111111111111111", accessKeyId: "owner-key", accessKeySecret: "owner-secret" };
const RECEIVER = { accountId: "2222222222222222", accessKeyId: "receiver-key", accessKeySecret: "receiver-secret" };
const DAY_MS = 86_400_000;

describe("SnapshotSharing conformance: Resource Sharing through openapi-core against the emulator's two accounts", () => {
  let emulator: EcsEmulator;
  let dir: string;
  const options = (account: typeof OWNER, secret = account.accessKeySecret): EcsClientOptions => ({
    regionId: REGION, endpoint: emulator.endpoint, protocol: "http", connectTimeoutMs: 5_000, readTimeoutMs: 5_000, accessKey: { id: account.accessKeyId, secret },
  });
  const sharing = (account: typeof OWNER, secret?: string): ResourceSharingClient => new ResourceSharingClient(options(account, secret));
  const cloud = (account: typeof OWNER): EcsDiskCloud => new EcsDiskCloud(createEcsClient(options(account)), REGION);
  const control = async (path: string, init?: RequestInit): Promise<Response> => fetch(`${emulator.url}/_emulator${path}`, init);

  /** A snapshot of a disk of `account` holding `content`, named `name`. */
  async function snapshotOf(account: typeof OWNER, name: string, content: string, seed: Record<string, unknown> = {}): Promise<string> {
    const seeded = (await (await control(`/accounts/${account.accountId}/disks`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ zoneId: "cn-shanghai-b", category: "cloud_essd", size: 20, status: "In_use", attachedOnce: true, content, ...seed }) })).json()) as { diskId?: string; DiskId?: string };
    return cloud(account).createSnapshot({ diskId: (seeded.diskId ?? seeded.DiskId)!, name, tags: {}, clientToken: `conformance-${name}` });
  }

  /** What ECS shows `account` of the snapshots named `name` (DescribeSnapshots, SnapshotName). */
  async function snapshotsNamed(account: typeof OWNER, name: string): Promise<{ snapshotId: string; snapshotName: string }[]> {
    const answer = await createEcsClient(options(account)).describeSnapshots(new EcsModels.DescribeSnapshotsRequest({ regionId: REGION, snapshotName: name }));
    return (answer.body?.snapshots?.snapshot ?? []).map((snapshot) => ({ snapshotId: snapshot.snapshotId ?? "", snapshotName: snapshot.snapshotName ?? "" }));
  }

  /** Whether Resource Sharing shares the snapshot, or refuses it for its key. */
  async function shares(snapshotId: string, name: string): Promise<boolean> {
    try {
      await sharing(OWNER).ensureShare({ name, snapshotIds: [snapshotId], targetAccounts: [RECEIVER.accountId] });
      return true;
    } catch (error) {
      if (error instanceof PermanentCloudError && error.code === "UnsupportedOperation.ServiceKeyEncrypted") return false;
      throw error;
    }
  }

  async function start(persistFile?: string): Promise<void> {
    emulator = await startEcsEmulator({ port: 0, config: defaultEmulatorConfig({ regionId: REGION, accounts: [OWNER, RECEIVER], timeScale: 0.001, ...(persistFile === undefined ? {} : { persistFile }) }) });
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "zf-sharing-"));
    await start(join(dir, "world.json"));
  });
  after(async () => {
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await control("/reset", { method: "POST" });
  });

  it("keeps each account's disks and snapshots to itself", async () => {
    const mine = await snapshotOf(OWNER, "zf-shop-data-db-0-aaaa", "rows 1..100");
    assert.deepEqual((await cloud(RECEIVER).describeSnapshots([mine])).map((snapshot) => snapshot.snapshotId), [], "the other account does not see it");
    assert.deepEqual((await cloud(OWNER).describeSnapshots([mine])).map((snapshot) => snapshot.snapshotId), [mine]);
  });

  it("shares snapshots with another account: once it accepts, it finds each by name under an id of its own and makes a disk holding the owner's content", async () => {
    const names = ["zf-shop-data-db-0-aaaa", "zf-shop-data-db-1-aaaa"];
    const ids = [await snapshotOf(OWNER, names[0]!, "db-0 rows 1..100"), await snapshotOf(OWNER, names[1]!, "db-1 rows 1..101")];
    const share = await sharing(OWNER).ensureShare({ name: "zf-shop-db-aaaa", snapshotIds: ids, targetAccounts: [RECEIVER.accountId] });
    assert.match(share.shareId, /^rs-/);
    assert.equal(share.status, "Active");
    assert.deepEqual(await snapshotsNamed(RECEIVER, names[0]!), [], "nothing is visible before the invitation is accepted");
    const [invitation] = await sharing(RECEIVER).receivedInvitations();
    assert.deepEqual({ ...invitation, invitationId: "" }, { invitationId: "", shareId: share.shareId, shareName: "zf-shop-db-aaaa", senderAccountId: OWNER.accountId, status: "Pending" });
    await sharing(RECEIVER).acceptInvitation(invitation!.invitationId);
    assert.deepEqual((await sharing(RECEIVER).sharedWithMe()).map((shared) => shared.ownerSnapshotId).sort(), [...ids].sort());
    const [seen] = await snapshotsNamed(RECEIVER, names[0]!);
    assert.equal(seen?.snapshotName, names[0]);
    assert.notEqual(seen?.snapshotId, ids[0], "the receiving account sees the snapshot under a new id");
    const diskId = await cloud(RECEIVER).createDisk({ zoneId: "cn-shanghai-g", category: "cloud_essd", sizeGiB: 20, snapshotId: seen!.snapshotId, tags: {}, clientToken: "restore-db-0" });
    assert.equal(await (await control(`/accounts/${RECEIVER.accountId}/disks/${diskId}/content`)).text(), "db-0 rows 1..100");
  });

  it("finds its share again by name and adds only what it lacks: ensuring twice makes one share", async () => {
    const first = await snapshotOf(OWNER, "zf-shop-data-db-0-bbbb", "a");
    const second = await snapshotOf(OWNER, "zf-shop-data-db-1-bbbb", "b");
    const share = await sharing(OWNER).ensureShare({ name: "zf-shop-db-bbbb", snapshotIds: [first], targetAccounts: [RECEIVER.accountId] });
    const again = await sharing(OWNER).ensureShare({ name: "zf-shop-db-bbbb", snapshotIds: [first, second], targetAccounts: [RECEIVER.accountId] });
    assert.equal(again.shareId, share.shareId);
    assert.equal((await sharing(RECEIVER).receivedInvitations()).length, 1, "one invitation, not one per call");
    const state = (await (await control("/state")).json()) as { sharing: { shares: { resources: unknown[] }[] } };
    assert.equal(state.sharing.shares.length, 1);
    assert.equal(state.sharing.shares[0]!.resources.length, 2);
  });

  it("shares more than five snapshots with more than five accounts, five per call", async () => {
    const ids = await Promise.all(Array.from({ length: 7 }, async (_, index) => snapshotOf(OWNER, `zf-shop-data-db-${index}-cccc`, `db-${index}`)));
    const accounts = Array.from({ length: 7 }, (_, index) => `30000000000000${String(index).padStart(2, "0")}`);
    await sharing(OWNER).ensureShare({ name: "zf-shop-db-cccc", snapshotIds: ids, targetAccounts: accounts });
    const state = (await (await control("/state")).json()) as { sharing: { shares: { resources: unknown[]; targets: unknown[] }[] } };
    assert.deepEqual([state.sharing.shares[0]!.resources.length, state.sharing.shares[0]!.targets.length], [7, 7]);
  });

  it("a share names the account that owns it, made or found again", async () => {
    const id = await snapshotOf(OWNER, "zf-shop-data-db-0-iiii", "a");
    const made = await sharing(OWNER).ensureShare({ name: "zf-shop-db-iiii", snapshotIds: [id], targetAccounts: [RECEIVER.accountId] });
    const found = await sharing(OWNER).ensureShare({ name: "zf-shop-db-iiii", snapshotIds: [id], targetAccounts: [RECEIVER.accountId] });
    assert.deepEqual([made.ownerAccountId, found.ownerAccountId], [OWNER.accountId, OWNER.accountId]);
    assert.equal(found.shareId, made.shareId);
  });

  it("judges a disk's snapshots unshareable exactly when Resource Sharing refuses them: encrypted with the service key", async () => {
    const disks = { plain: {}, customerKey: { encrypted: true, kmsKeyId: "key-orders" }, serviceKey: { encrypted: true } };
    const seeded = await Promise.all(Object.entries(disks).map(async ([what, seed]) => {
      const snapshotId = await snapshotOf(OWNER, `zf-shop-data-${what.toLowerCase()}-jjjj`, what, seed);
      const [snapshot] = await cloud(OWNER).describeSnapshots([snapshotId]);
      const [disk] = await cloud(OWNER).describeDisks([snapshot!.sourceDiskId]);
      return { what, snapshotId, disk: disk! };
    }));
    // The service key is the key ECS reports for a disk encrypted without naming one.
    const serviceKeyId = seeded.find(({ what }) => what === "serviceKey")?.disk.kmsKeyId;
    for (const { what, snapshotId, disk } of seeded) {
      const verdict = unshareableBecause(disk, serviceKeyId);
      assert.equal(verdict === undefined, await shares(snapshotId, `zf-shop-db-${what.toLowerCase()}-jjjj`), `${what}: ${verdict ?? "judged shareable"}`);
    }
  });

  it("refuses to accept an invitation older than 7 days, saying it expired", async () => {
    const id = await snapshotOf(OWNER, "zf-shop-data-db-0-dddd", "a");
    await sharing(OWNER).ensureShare({ name: "zf-shop-db-dddd", snapshotIds: [id], targetAccounts: [RECEIVER.accountId] });
    await control("/clock", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ advanceMs: 7 * DAY_MS * 0.001 + 1 }) });
    const [invitation] = await sharing(RECEIVER).receivedInvitations();
    assert.equal(invitation?.status, "Expired");
    await assert.rejects(sharing(RECEIVER).acceptInvitation(invitation.invitationId), (error: unknown) => error instanceof PermanentCloudError && error.code === "InvalidInvitation.Expired" && /expired/.test(error.message));
    assert.deepEqual(await sharing(RECEIVER).sharedWithMe(), []);
  });

  it("refuses to share a snapshot encrypted with the service key, naming it, and shares one encrypted with a customer key", async () => {
    const serviceKey = await snapshotOf(OWNER, "zf-shop-data-db-0-eeee", "a", { encrypted: true });
    await assert.rejects(sharing(OWNER).ensureShare({ name: "zf-shop-db-eeee", snapshotIds: [serviceKey], targetAccounts: [RECEIVER.accountId] }),
      (error: unknown) => error instanceof PermanentCloudError && error.code === "UnsupportedOperation.ServiceKeyEncrypted" && error.message.includes(serviceKey));
    const customerKey = await snapshotOf(OWNER, "zf-shop-data-db-1-eeee", "b", { encrypted: true, kmsKeyId: "key-orders" });
    assert.equal((await sharing(OWNER).ensureShare({ name: "zf-shop-db-eeee", snapshotIds: [customerKey], targetAccounts: [RECEIVER.accountId] })).status, "Active");
  });

  it("refuses to share a snapshot with a 65th account", async () => {
    const id = await snapshotOf(OWNER, "zf-shop-data-db-0-ffff", "a");
    const accounts = Array.from({ length: 65 }, (_, index) => `40000000000000${String(index).padStart(2, "0")}`);
    await sharing(OWNER).ensureShare({ name: "zf-shop-db-ffff", snapshotIds: [id], targetAccounts: accounts.slice(0, 64) });
    await assert.rejects(sharing(OWNER).ensureShare({ name: "zf-shop-db-ffff-more", snapshotIds: [id], targetAccounts: accounts.slice(64) }),
      (error: unknown) => error instanceof PermanentCloudError && error.code === "ExceedLimit.SharedAccounts" && /65 accounts; at most 64/.test(error.message));
  });

  it("keeps the owner from deleting a shared snapshot until the share is deleted, and the receiver loses it then", async () => {
    const id = await snapshotOf(OWNER, "zf-shop-data-db-0-gggg", "a");
    const share = await sharing(OWNER).ensureShare({ name: "zf-shop-db-gggg", snapshotIds: [id], targetAccounts: [RECEIVER.accountId] });
    const [invitation] = await sharing(RECEIVER).receivedInvitations();
    await sharing(RECEIVER).acceptInvitation(invitation!.invitationId);
    await assert.rejects(cloud(OWNER).deleteSnapshot(id), (error: unknown) => error instanceof PermanentCloudError && error.code === "OperationDenied.SnapshotShared");
    const [copy] = await snapshotsNamed(RECEIVER, "zf-shop-data-db-0-gggg");
    await assert.rejects(cloud(RECEIVER).deleteSnapshot(copy!.snapshotId), (error: unknown) => error instanceof PermanentCloudError && error.code === "OperationDenied.SharedSnapshot");
    await sharing(OWNER).deleteShare(share.shareId);
    await sharing(OWNER).deleteShare(share.shareId);
    assert.deepEqual(await snapshotsNamed(RECEIVER, "zf-shop-data-db-0-gggg"), [], "unshared, the receiver sees nothing");
    await cloud(OWNER).deleteSnapshot(id);
  });

  it("refuses a request signed with the wrong secret, as ECS's front end does", async () => {
    await assert.rejects(sharing(OWNER, "not-the-secret").receivedInvitations(), (error: unknown) => error instanceof PermanentCloudError && error.code === "SignatureDoesNotMatch");
  });

  it("keeps shares, invitations and the receiver's copies across a restart of the emulator", async () => {
    const id = await snapshotOf(OWNER, "zf-shop-data-db-0-hhhh", "kept");
    await sharing(OWNER).ensureShare({ name: "zf-shop-db-hhhh", snapshotIds: [id], targetAccounts: [RECEIVER.accountId] });
    const [invitation] = await sharing(RECEIVER).receivedInvitations();
    await sharing(RECEIVER).acceptInvitation(invitation!.invitationId);
    const [before] = await snapshotsNamed(RECEIVER, "zf-shop-data-db-0-hhhh");
    await emulator.close();
    await start(join(dir, "world.json"));
    const [after] = await snapshotsNamed(RECEIVER, "zf-shop-data-db-0-hhhh");
    assert.match(before?.snapshotId ?? "", /^s-/);
    assert.equal(after?.snapshotId, before?.snapshotId);
    assert.equal((await sharing(RECEIVER).receivedInvitations())[0]?.status, "Accepted");
  });
});
