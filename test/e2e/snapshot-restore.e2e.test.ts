/**
 * Restoring claims from ECS snapshots on the sandbox (issue 16, the restore side's groundwork), the
 * way ACK's CSI driver does it and a cross-account restore will: a static VolumeSnapshotContent
 * naming the snapshot, a VolumeSnapshot bound to it by the real snapshot-controller, and a claim
 * with the VolumeSnapshot as its dataSource, made before the StatefulSet that adopts it. Each test
 * checks what a user would: the claim's disk, its zone, what it holds, and what a failure says.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EcsDiskCloud } from "../../core/ecs/ecs-disk-cloud.ts";
import { createEcsClient } from "../../core/ecs/ecs-sdk.ts";
import { waitFor } from "../../sandbox/processes.ts";
import { SNAPSHOT_CLASS } from "../../sandbox/snapshot-controller.ts";
import { SandboxSession } from "../support/sandbox-session.ts";

const NS = "restore";

describe("restoring claims from ECS snapshots through VolumeSnapshots on the sandbox", () => {
  const sandbox = new SandboxSession("zf-restore-", NS);
  const kubectl = async (...args: string[]): Promise<string> => sandbox.kubectl(...args);
  let cloud: EcsDiskCloud;

  /** An ECS snapshot of a disk in `zone` holding `content`, taken as a backup would. */
  async function snapshotHolding(content: string, zone: string): Promise<string> {
    const seeded = (await (await sandbox.emulator("/disks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ zoneId: zone, category: "cloud_essd", size: 20, status: "In_use", attachedOnce: true, content }) })).json()) as { diskId: string };
    const snapshotId = await cloud.createSnapshot({ diskId: seeded.diskId, tags: { "example.com/backup": "nightly" }, clientToken: `restore-e2e-${seeded.diskId}` });
    await waitFor(async () => (await cloud.describeSnapshots([snapshotId]))[0]?.available === true, 30_000, () => `snapshot ${snapshotId} never usable`);
    return snapshotId;
  }

  /** What a restore writes for one claim: static content, VolumeSnapshot, and the claim restored from it. */
  function restoreManifest(claim: string, snapshotId: string): string {
    const name = `${claim}-restore`;
    return `apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshotContent
metadata: {name: ${NS}-${name}}
spec:
  deletionPolicy: Retain
  driver: diskplugin.csi.alibabacloud.com
  source: {snapshotHandle: ${snapshotId}}
  volumeSnapshotClassName: ${SNAPSHOT_CLASS}
  volumeSnapshotRef: {name: ${name}, namespace: ${NS}}
---
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata: {name: ${name}, namespace: ${NS}}
spec:
  volumeSnapshotClassName: ${SNAPSHOT_CLASS}
  source: {volumeSnapshotContentName: ${NS}-${name}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: ${claim}, namespace: ${NS}}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: alicloud-disk-essd
  resources: {requests: {storage: 20Gi}}
  dataSource: {apiGroup: snapshot.storage.k8s.io, kind: VolumeSnapshot, name: ${name}}
`;
  }

  async function apply(name: string, manifest: string): Promise<void> {
    const file = join(sandbox.dir, `${name}.yaml`);
    writeFileSync(file, manifest);
    await kubectl("apply", "-f", file);
  }

  before(async () => {
    await sandbox.up({ snapshots: true });
    cloud = new EcsDiskCloud(createEcsClient({
      regionId: sandbox.env["ECS_REGION_ID"]!, endpoint: sandbox.env["ECS_ENDPOINT"]!, protocol: "http", connectTimeoutMs: 5_000, readTimeoutMs: 5_000,
      accessKey: { id: sandbox.env["ALIBABA_CLOUD_ACCESS_KEY_ID"]!, secret: sandbox.env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]! },
    }), sandbox.env["ECS_REGION_ID"]!);
  });
  after(async () => {
    await sandbox.down();
  });

  it("gives a StatefulSet's claim, made from a VolumeSnapshot before the StatefulSet, a disk made from the snapshot in its pod's zone, holding the snapshot's content", async () => {
    const snapshotId = await snapshotHolding("orders up to #4711", "cn-shanghai-b");
    await apply("data-db-0", restoreManifest("data-db-0", snapshotId));
    // The snapshot-controller binds the VolumeSnapshot once the driver's side marks the content ready.
    await waitFor(async () => (await kubectl("-n", NS, "get", "volumesnapshot", "data-db-0-restore", "-o", "jsonpath={.status.readyToUse}")) === "true", 60_000, () => "the VolumeSnapshot never became ready");
    assert.equal(await kubectl("get", "volumesnapshotcontent", `${NS}-data-db-0-restore`, "-o", "jsonpath={.status.snapshotHandle}"), snapshotId);
    // Only the m zone is schedulable: the scheduler picks it, and the disk is made there. The
    // StatefulSet adopts the claim of its name; nothing is written to it.
    await sandbox.statefulSet("db", 1, { zones: ["cn-shanghai-m"], content: false });
    assert.equal(await sandbox.zoneOfPod("db-0"), "cn-shanghai-m");
    const disk = await sandbox.diskOf("data-db-0");
    const [made] = await cloud.describeDisks([disk]);
    assert.equal(made?.sourceSnapshotId, snapshotId, "the claim's disk was made from the snapshot");
    assert.equal(made.zoneId, "cn-shanghai-m");
    assert.equal(await sandbox.contentOf("data-db-0"), "orders up to #4711", "the claim holds what the snapshot held");
  });

  it("keeps a claim whose snapshot this account does not have waiting, with the content and the claim's Event saying which snapshot is missing", async () => {
    const disksBefore = (await sandbox.inventory()).disks.length;
    await apply("data-lost-0", restoreManifest("data-lost-0", "s-notsharedwithme0000"));
    await waitFor(async () => /snapshot s-notsharedwithme0000 does not exist in this account/.test(await kubectl("get", "volumesnapshotcontent", `${NS}-data-lost-0-restore`, "-o", "jsonpath={.status.error.message}")), 30_000, () => "the content never said the snapshot is missing");
    assert.notEqual(await kubectl("-n", NS, "get", "volumesnapshot", "data-lost-0-restore", "-o", "jsonpath={.status.readyToUse}"), "true");
    // A pod needing the claim makes the scheduler hand it to the driver, which waits for the snapshot.
    await apply("lost-pod", `apiVersion: v1
kind: Pod
metadata: {name: lost, namespace: ${NS}}
spec:
  containers: [{name: main, image: nginx:1.27, volumeMounts: [{name: data, mountPath: /data}]}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data-lost-0}}]
`);
    await waitFor(async () => /VolumeSnapshot restore\/data-lost-0-restore is not ready to use yet/.test(await kubectl("-n", NS, "get", "events", "--field-selector", "involvedObject.name=data-lost-0,reason=ProvisioningFailed", "-o", "jsonpath={.items[*].message}")), 60_000, () => "no Event said the claim waits for its snapshot");
    assert.equal(await kubectl("-n", NS, "get", "pvc", "data-lost-0", "-o", "jsonpath={.status.phase}"), "Pending");
    assert.equal((await sandbox.inventory()).disks.length, disksBefore, "no disk was made");
  });
});
