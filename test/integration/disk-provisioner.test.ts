/**
 * The sandbox's disk provisioner on a real control plane (etcd, kube-apiserver, controller
 * manager, scheduler, kwok nodes in three zones) and the ECS emulator, reached through the real
 * SDK adapter: claims the scheduler places get disks in their pod's zone and PVs as ACK's disk CSI
 * driver writes them; attach state follows the pods; released Delete volumes lose their disks.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import {
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  StorageV1Api,
  setHeaderOptions,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
  type V1Pod,
  type V1StatefulSet,
} from "@kubernetes/client-node";
import { pino } from "pino";
import type { DiskCloud } from "../../core/disk-cloud.ts";
import { DISK_CSI_DRIVER, DISK_ZONE_KEY, ZONE_KEY } from "../../core/disk-volumes.ts";
import { EcsDiskCloud } from "../../core/ecs/ecs-disk-cloud.ts";
import { createEcsClient } from "../../core/ecs/ecs-sdk.ts";
import { defaultEmulatorConfig, startEcsEmulator, type EcsEmulator } from "../../emulator/ecs/index.ts";
import { startCluster, type Cluster } from "../../sandbox/cluster.ts";
import { controlPlaneBinaries } from "../../sandbox/control-plane.ts";
import { PROVISIONER_FINALIZER } from "../../sandbox/disk-provisioner/csi-names.ts";
import { startDiskProvisioner, type DiskProvisioner } from "../../sandbox/disk-provisioner/index.ts";
import { chooseCategory, diskSizeGiB, quantityInGiB, wantedCategories } from "../../sandbox/disk-provisioner/disk-shape.ts";
import { waitFor } from "../../sandbox/processes.ts";
import { DISK_STORAGE_CLASSES, ensureStorageClasses } from "../../sandbox/storage-classes.ts";
import { emulatorControl, type EmulatorControl } from "../support/ecs-emulator-control.ts";

const REGION = "cn-shanghai";
const KEY = { id: "zoneferry-provisioner-key", secret: "zoneferry-provisioner-secret" };
const B = "cn-shanghai-b";
const G = "cn-shanghai-g";
const M = "cn-shanghai-m";
const NAMESPACE = "disks";
const WAIT_MS = 60_000;

/** A disk as the emulator's /_emulator/inventory lists it. */
interface InventoryDisk {
  diskId: string;
  zoneId: string;
  status: string;
  category: string;
  performanceLevel?: string;
  size: number;
  tags: Record<string, string>;
  instanceId?: string;
}

describe("what a StorageClass's disk size and category come to", () => {
  it("rounds a request up to whole GiB", () => {
    assert.equal(quantityInGiB("20Gi"), 20);
    assert.equal(quantityInGiB("1.5Gi"), 2);
    assert.equal(quantityInGiB("20G"), 19);
    assert.equal(quantityInGiB("1073741824"), 1);
    assert.equal(quantityInGiB("1e9"), 1);
    assert.throws(() => quantityInGiB("twenty"), /not a storage quantity/);
  });

  it("raises a request to the smallest disk the category and level allow", () => {
    assert.equal(diskSizeGiB("1Gi", "cloud_essd", "PL0"), 1);
    assert.equal(diskSizeGiB("1Gi", "cloud_essd", "PL1"), 20);
    assert.equal(diskSizeGiB("100Gi", "cloud_essd", "PL2"), 461);
    assert.equal(diskSizeGiB("1Gi", "cloud_essd", "PL3"), 1261);
    assert.equal(diskSizeGiB("1Gi", "cloud_auto", undefined), 1);
    assert.equal(diskSizeGiB("1Gi", "cloud_essd_entry", undefined), 10);
    assert.equal(diskSizeGiB("1Gi", "cloud_ssd", undefined), 20);
    assert.equal(diskSizeGiB("30Gi", "cloud_efficiency", undefined), 30);
  });

  it("takes the first category of the class's list that the zone sells", () => {
    const alltype = wantedCategories({ type: "cloud_essd, cloud_ssd,cloud_efficiency" });
    assert.deepEqual(alltype, ["cloud_essd", "cloud_ssd", "cloud_efficiency"]);
    assert.equal(chooseCategory(alltype, new Set(["cloud_efficiency", "cloud_ssd"])), "cloud_ssd");
    assert.equal(chooseCategory(["cloud_essd"], new Set(["cloud_ssd"])), undefined);
  });
});

describe("the sandbox disk provisioner, acting as ACK's disk CSI driver on a real cluster", () => {
  let emulator: EcsEmulator | undefined;
  let cluster: Cluster | undefined;
  let provisioner: DiskProvisioner | undefined;
  let cloud: DiskCloud;
  let control: EmulatorControl;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => { logs.push(JSON.parse(line) as Record<string, unknown>); } });

  before(async () => {
    emulator = await startEcsEmulator({
      port: 0,
      config: defaultEmulatorConfig({
        regionId: REGION,
        accounts: [{ accessKeyId: KEY.id, accessKeySecret: KEY.secret }],
        zones: [
          { zoneId: B, categories: ["cloud_essd", "cloud_ssd", "cloud_efficiency"] },
          { zoneId: G, categories: ["cloud_ssd", "cloud_efficiency"] },
          { zoneId: M, categories: ["cloud_essd"] },
        ],
        // A cloud a thousand times faster than the real one: disks leave Creating within milliseconds.
        timeScale: 0.001,
      }),
    });
    cluster = await startCluster(controlPlaneBinaries(process.env), { zones: [B, G, M] });
    core = cluster.kubeconfig.makeApiClient(CoreV1Api);
    apps = cluster.kubeconfig.makeApiClient(AppsV1Api);
    await ensureStorageClasses(cluster.kubeconfig);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    control = emulatorControl(emulator.url);
    cloud = new EcsDiskCloud(
      createEcsClient({ regionId: REGION, endpoint: emulator.endpoint, protocol: "http", connectTimeoutMs: 5_000, readTimeoutMs: 5_000, accessKey: KEY }),
      REGION,
    );
    provisioner = await startDiskProvisioner({ kubeconfig: cluster.kubeconfig, cloud, emulatorUrl: emulator.url, logger, resyncMs: 500 });
  });
  afterEach(async () => {
    if (emulator !== undefined) await emulatorControl(emulator.url).clearFaults();
  });

  // Each stop runs even when one before it fails: no etcd, kube-* or kwok may outlive the file.
  after(async () => {
    try {
      await provisioner?.stop();
    } finally {
      try {
        await cluster?.stop();
      } finally {
        await emulator?.close();
      }
    }
  });

  const inventory = async (): Promise<InventoryDisk[]> => {
    const answer = await fetch(`${emulator!.url}/_emulator/inventory`);
    return ((await answer.json()) as { disks: InventoryDisk[] }).disks;
  };
  const diskById = async (diskId: string): Promise<InventoryDisk | undefined> => (await inventory()).find((disk) => disk.diskId === diskId);
  const recentLogs = (): string => logs.slice(-15).map((line) => JSON.stringify(line)).join("\n");
  const eventually = (what: string, check: () => Promise<boolean>): Promise<void> =>
    waitFor(check, WAIT_MS, () => `timed out waiting until ${what}; provisioner logs:\n${recentLogs()}`);

  const claim = (name: string, storageClassName: string, storage: string): V1PersistentVolumeClaim => ({
    metadata: { name, namespace: NAMESPACE },
    spec: { accessModes: ["ReadWriteOnce"], storageClassName, resources: { requests: { storage } } },
  });
  const podInZone = (name: string, claimName: string, zone: string): V1Pod => ({
    metadata: { name, namespace: NAMESPACE },
    spec: {
      nodeSelector: { [ZONE_KEY]: zone },
      containers: [{ name: "app", image: "registry.k8s.io/pause:3.10" }],
      volumes: [{ name: "data", persistentVolumeClaim: { claimName } }],
    },
  });
  const readClaim = (name: string): Promise<V1PersistentVolumeClaim> => core.readNamespacedPersistentVolumeClaim({ name, namespace: NAMESPACE });
  const readPod = (name: string): Promise<V1Pod> => core.readNamespacedPod({ name, namespace: NAMESPACE });
  const isRunning = async (name: string): Promise<boolean> => (await readPod(name)).status?.phase === "Running";
  /** The PV of a Bound claim. */
  const boundVolume = async (name: string): Promise<V1PersistentVolume> => {
    const bound = await readClaim(name);
    assert.equal(bound.status?.phase, "Bound");
    return core.readPersistentVolume({ name: bound.spec!.volumeName! });
  };
  const gone = async (read: () => Promise<unknown>): Promise<boolean> => {
    try {
      await read();
      return false;
    } catch (error) {
      return (error as { code?: number }).code === 404;
    }
  };
  const diskIdOf = (pv: V1PersistentVolume): string => pv.spec?.csi?.volumeHandle ?? "";
  const nameOf = (pv: V1PersistentVolume): string => pv.metadata?.name ?? "";
  const nodeZone = async (nodeName: string): Promise<string | undefined> => (await core.readNode({ name: nodeName })).metadata?.labels?.[ZONE_KEY];

  /** Checks one replica's claim, PV and disk; resolves with the zone its pod runs in. */
  const checkReplica = async (ordinal: number): Promise<string> => {
    const node = (await readPod(`db-${ordinal}`)).spec?.nodeName ?? "";
    const zone = (await nodeZone(node)) ?? "";
    const pv = await boundVolume(`data-db-${ordinal}`);
    const diskId = diskIdOf(pv);
    assert.match(diskId, /^d-/);
    assert.deepEqual(volumeFacts(pv), {
      name: diskId,
      driver: DISK_CSI_DRIVER,
      diskType: "cloud_essd.PL1",
      provisionedBy: DISK_CSI_DRIVER,
      affinity: [{ key: DISK_ZONE_KEY, operator: "In", values: [zone] }],
      type: "cloud_essd",
      performanceLevel: "PL1",
      fsType: "ext4",
      capacity: "20Gi",
      reclaimPolicy: "Delete",
      storageClass: "alicloud-disk-essd",
      claimUid: (await readClaim(`data-db-${ordinal}`)).metadata?.uid,
    });
    assert.match(pv.spec?.csi?.volumeAttributes?.["storage.kubernetes.io/csiProvisionerIdentity"] ?? "", /^\d+-\d+-diskplugin\.csi\.alibabacloud\.com$/);

    await eventually(`${diskId} is attached to ${node}`, async () => (await diskById(diskId))?.status === "In_use");
    const disk = await diskById(diskId);
    assert.deepEqual(
      { zone: disk?.zoneId, category: disk?.category, level: disk?.performanceLevel, size: disk?.size, instance: disk?.instanceId },
      { zone, category: "cloud_essd", level: "PL1", size: 20, instance: node },
    );
    assert.deepEqual(
      { createdBy: disk?.tags["createdby"], volumeName: disk?.tags["csi.alibabacloud.com/volume-name"] },
      { createdBy: "alibabacloud-csi-plugin", volumeName: `pvc-${pv.spec?.claimRef?.uid ?? ""}` },
    );
    return zone;
  };

  it("gives each replica of a StatefulSet on alicloud-disk-essd a PL1 ESSD in its pod's zone, attached to its node, behind a PV named by the disk id", async () => {
    await apps.createNamespacedStatefulSet({ namespace: NAMESPACE, body: essdStatefulSet("db", 2) });
    await eventually("both replicas run", async () => (await isRunning("db-0")) && (await isRunning("db-1")));

    const zones = [await checkReplica(0), await checkReplica(1)];
    assert.deepEqual(zones.sort(), [B, M], "the replicas spread over the two zones that sell ESSD");
    assert.equal((await inventory()).length, 2, "one disk per claim");
  });

  it("gives a claim on alicloud-disk-topology-alltype whose pod lands in zone g the first category g sells, cloud_ssd, at its 20 GiB minimum", async () => {
    await core.createNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, body: claim("alltype", "alicloud-disk-topology-alltype", "1Gi") });
    await core.createNamespacedPod({ namespace: NAMESPACE, body: podInZone("alltype", "alltype", G) });
    await eventually("the pod in zone g runs", () => isRunning("alltype"));

    const pv = await boundVolume("alltype");
    const diskId = diskIdOf(pv);
    const facts = volumeFacts(pv);
    assert.deepEqual(
      { diskType: facts["diskType"], type: facts["type"], performanceLevel: facts["performanceLevel"], capacity: facts["capacity"] },
      // The class's list becomes the one category created; no level without ESSD.
      { diskType: "cloud_ssd", type: "cloud_ssd", performanceLevel: undefined, capacity: "20Gi" },
    );
    assert.equal((await readClaim("alltype")).status?.capacity?.["storage"], "20Gi");
    await eventually(`${diskId} is attached`, async () => (await diskById(diskId))?.status === "In_use");
    const disk = (await diskById(diskId))!;
    assert.deepEqual({ zone: disk.zoneId, category: disk.category, size: disk.size }, { zone: G, category: "cloud_ssd", size: 20 });
  });

  it("detaches a disk once its pod is deleted and not recreated", async () => {
    const diskIds = await Promise.all([0, 1].map(async (ordinal) => diskIdOf(await boundVolume(`data-db-${ordinal}`))));
    await apps.patchNamespacedStatefulSet(
      { name: "db", namespace: NAMESPACE, body: { spec: { replicas: 0 } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await eventually("both replicas are gone", async () => (await gone(() => readPod("db-0"))) && (await gone(() => readPod("db-1"))));
    await eventually("both disks are Available", async () => {
      const disks = await Promise.all(diskIds.map((id) => diskById(id)));
      return disks.every((disk) => disk?.status === "Available");
    });
    for (const id of diskIds) assert.equal((await diskById(id))?.instanceId ?? "", "");
  });

  it("deletes the disk and then the PV once the claim of a Delete volume is deleted, retrying while ECS says the disk is initializing", async () => {
    const pv = await boundVolume("data-db-0");
    const diskId = diskIdOf(pv);
    await control.clearRequests();
    await control.inject({ action: "DeleteDisk", code: "IncorrectDiskStatus.Initializing", times: 1 });
    await core.deleteNamespacedPersistentVolumeClaim({ name: "data-db-0", namespace: NAMESPACE });
    await eventually("the disk is deleted", async () => (await diskById(diskId)) === undefined);
    await eventually("the PV is deleted", () => gone(() => core.readPersistentVolume({ name: nameOf(pv) })));
    assert.notEqual(await diskById(diskIdOf(await boundVolume("data-db-1"))), undefined, "the other replica's disk stays");
    const deletes = (await control.requests()).filter((request) => request.action === "DeleteDisk");
    assert.deepEqual(deletes.map((request) => request.code ?? "OK"), ["IncorrectDiskStatus.Initializing", "OK"]);
  });

  it("deletes the disk of a claim deleted along with its running pod, once the pod is gone and the disk detached", async () => {
    const pv = await boundVolume("alltype");
    const diskId = diskIdOf(pv);
    assert.equal((await diskById(diskId))?.status, "In_use");
    await core.deleteNamespacedPersistentVolumeClaim({ name: "alltype", namespace: NAMESPACE });
    await core.deleteNamespacedPod({ name: "alltype", namespace: NAMESPACE });
    await eventually("the disk is deleted", async () => (await diskById(diskId)) === undefined);
    await eventually("the PV is deleted", () => gone(() => core.readPersistentVolume({ name: nameOf(pv) })));
  });

  it("keeps the disk and the PV of a Retain volume whose claim is deleted", async () => {
    const essd = DISK_STORAGE_CLASSES.find((storageClass) => storageClass.metadata?.name === "alicloud-disk-essd")!;
    await cluster!.kubeconfig.makeApiClient(StorageV1Api).createStorageClass({
      body: { ...structuredClone(essd), metadata: { name: "essd-retain" }, reclaimPolicy: "Retain" },
    });
    await core.createNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, body: claim("kept", "essd-retain", "20Gi") });
    await core.createNamespacedPod({ namespace: NAMESPACE, body: podInZone("kept", "kept", M) });
    await eventually("the pod in zone m runs", () => isRunning("kept"));
    const pv = await boundVolume("kept");
    assert.equal(pv.spec?.persistentVolumeReclaimPolicy, "Retain");
    assert.equal(pv.metadata?.finalizers?.includes(PROVISIONER_FINALIZER), false, "a Retain volume never waits for the provisioner");

    await core.deleteNamespacedPod({ name: "kept", namespace: NAMESPACE });
    await core.deleteNamespacedPersistentVolumeClaim({ name: "kept", namespace: NAMESPACE });
    await eventually("the PV is Released", async () => (await core.readPersistentVolume({ name: nameOf(pv) })).status?.phase === "Released");
    await eventually("the disk is detached", async () => (await diskById(diskIdOf(pv)))?.status === "Available");
    // A couple of resync passes go by: none may touch a Retain volume.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal((await core.readPersistentVolume({ name: nameOf(pv) })).status?.phase, "Released");
    assert.equal((await diskById(diskIdOf(pv)))?.status, "Available");
  });

  it("takes its finalizer off a volume switched to Retain, so the claim and then the PV can go while the disk stays", async () => {
    await core.createNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, body: claim("switched", "alicloud-disk-essd", "20Gi") });
    await core.createNamespacedPod({ namespace: NAMESPACE, body: podInZone("switched", "switched", M) });
    await eventually("the pod in zone m runs", () => isRunning("switched"));
    const pv = await boundVolume("switched");
    const diskId = diskIdOf(pv);
    const finalized = async (): Promise<boolean> => (await core.readPersistentVolume({ name: nameOf(pv) })).metadata?.finalizers?.includes(PROVISIONER_FINALIZER) === true;
    assert.equal(await finalized(), true, "a Delete volume carries the provisioner's finalizer");

    // What a migration does before it lets go of a claim: keep the disk whatever happens next.
    await core.patchPersistentVolume(
      { name: nameOf(pv), body: { spec: { persistentVolumeReclaimPolicy: "Retain" } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await eventually("the finalizer is off", async () => !(await finalized()));
    await core.deleteNamespacedPod({ name: "switched", namespace: NAMESPACE });
    await core.deleteNamespacedPersistentVolumeClaim({ name: "switched", namespace: NAMESPACE });
    await eventually("the PV is Released", async () => (await core.readPersistentVolume({ name: nameOf(pv) })).status?.phase === "Released");
    await core.deletePersistentVolume({ name: nameOf(pv) });
    await eventually("the PV is deleted", () => gone(() => core.readPersistentVolume({ name: nameOf(pv) })));
    await eventually("the disk is detached", async () => (await diskById(diskId))?.status === "Available");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal((await diskById(diskId))?.status, "Available", "the disk outlives its PV");
  });

  it("provisions through transient ECS faults, retrying with backoff", async () => {
    await control.clearRequests();
    await control.inject({ action: "CreateDisk", code: "ServiceUnavailable", times: 2 });
    await core.createNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, body: claim("flaky", "alicloud-disk-ssd", "20Gi") });
    await core.createNamespacedPod({ namespace: NAMESPACE, body: podInZone("flaky", "flaky", B) });
    await eventually("the pod runs", () => isRunning("flaky"));
    const creates = (await control.requests()).filter((request) => request.action === "CreateDisk");
    assert.deepEqual(creates.map((request) => request.code ?? "OK"), ["ServiceUnavailable", "ServiceUnavailable", "OK"]);
    const disk = await diskById(diskIdOf(await boundVolume("flaky")));
    assert.deepEqual({ zone: disk?.zoneId, category: disk?.category }, { zone: B, category: "cloud_ssd" });
  });

  it("adopts the disk an interrupted attempt made for the claim (found by its volume-name tag) instead of making another", async () => {
    await core.createNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, body: claim("adopted", "alicloud-disk-efficiency", "20Gi") });
    // As if a provisioner had created the disk and died before writing the PV.
    const uid = (await readClaim("adopted")).metadata?.uid ?? "";
    const volumeName = `pvc-${uid}`;
    const diskId = await cloud.createDisk({
      zoneId: B,
      category: "cloud_efficiency",
      sizeGiB: 20,
      tags: { createdby: "alibabacloud-csi-plugin", "csi.alibabacloud.com/volume-name": volumeName },
      clientToken: `interrupted-${uid}`,
    });
    await core.createNamespacedPod({ namespace: NAMESPACE, body: podInZone("adopted", "adopted", B) });
    await eventually("the pod runs", () => isRunning("adopted"));
    assert.equal(diskIdOf(await boundVolume("adopted")), diskId);
    assert.equal((await inventory()).filter((disk) => disk.tags["csi.alibabacloud.com/volume-name"] === volumeName).length, 1);
  });

  it("makes one disk and one PV per claim while two provisioners run at once, as when a restarted one overlaps its predecessor", async () => {
    const second = await startDiskProvisioner({ kubeconfig: cluster!.kubeconfig, cloud, emulatorUrl: emulator!.url, logger: logger.child({ instance: "second" }), resyncMs: 500 });
    try {
      await core.createNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, body: claim("twice", "alicloud-disk-essd", "20Gi") });
      await core.createNamespacedPod({ namespace: NAMESPACE, body: podInZone("twice", "twice", M) });
      await eventually("the pod runs", () => isRunning("twice"));
      const diskId = diskIdOf(await boundVolume("twice"));
      await eventually("its disk is attached", async () => (await diskById(diskId))?.status === "In_use");
      const uid = (await readClaim("twice")).metadata?.uid ?? "";
      assert.equal((await inventory()).filter((disk) => disk.tags["csi.alibabacloud.com/volume-name"] === `pvc-${uid}`).length, 1);
      const volumes = await core.listPersistentVolume();
      assert.equal(volumes.items.filter((pv) => pv.spec?.claimRef?.uid === uid).length, 1);
    } finally {
      await second.stop();
    }
  });

  it("leaves a claim on alicloud-disk-essd whose pod is pinned to zone g, which sells no ESSD, Pending with a ProvisioningFailed event naming the zone", async () => {
    await core.createNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, body: claim("essd-in-g", "alicloud-disk-essd", "20Gi") });
    await core.createNamespacedPod({ namespace: NAMESPACE, body: podInZone("essd-in-g", "essd-in-g", G) });
    const failures = async (): Promise<string[]> => {
      const events = await core.listNamespacedEvent({ namespace: NAMESPACE, fieldSelector: "involvedObject.name=essd-in-g,reason=ProvisioningFailed" });
      return events.items.filter((event) => event.type === "Warning").map((event) => event.message ?? "");
    };
    await eventually("a ProvisioningFailed event is recorded", async () => (await failures()).length > 0);
    const [message] = await failures();
    assert.match(message!, /cn-shanghai-g/);
    assert.match(message!, /cloud_essd/);
    const pending = await readClaim("essd-in-g");
    assert.equal(pending.status?.phase, "Pending");
    assert.equal(pending.spec?.volumeName, undefined);
    assert.equal((await readPod("essd-in-g")).status?.phase, "Pending");
    const uid = pending.metadata!.uid!;
    assert.equal((await inventory()).filter((disk) => disk.tags["csi.alibabacloud.com/volume-name"] === `pvc-${uid}`).length, 0, "no disk anywhere");
  });

});

/** What a PV says about its disk, as plain JSON (client-node's models are class instances). */
function volumeFacts(pv: V1PersistentVolume): Record<string, unknown> {
  const attributes = pv.spec?.csi?.volumeAttributes ?? {};
  return JSON.parse(
    JSON.stringify({
      name: pv.metadata?.name,
      diskType: pv.metadata?.labels?.["csi.alibabacloud.com/disktype"],
      provisionedBy: pv.metadata?.annotations?.["pv.kubernetes.io/provisioned-by"],
      type: attributes["type"],
      performanceLevel: attributes["performanceLevel"],
      ...specFacts(pv),
    }),
  ) as Record<string, unknown>;
}

function specFacts(pv: V1PersistentVolume): Record<string, unknown> {
  const spec = pv.spec ?? {};
  return {
    driver: spec.csi?.driver,
    affinity: spec.nodeAffinity?.required?.nodeSelectorTerms[0]?.matchExpressions,
    fsType: spec.csi?.fsType,
    capacity: spec.capacity?.["storage"],
    reclaimPolicy: spec.persistentVolumeReclaimPolicy,
    storageClass: spec.storageClassName,
    claimUid: spec.claimRef?.uid,
  };
}

/** A StatefulSet whose replicas stay out of zone g (no ESSD there) and spread over nodes. */
function essdStatefulSet(name: string, replicas: number): V1StatefulSet {
  const labels = { app: name };
  return {
    metadata: { name, namespace: NAMESPACE },
    spec: {
      replicas,
      serviceName: name,
      // Both at once: the test waits for scheduling and provisioning of two pods, not one after another.
      podManagementPolicy: "Parallel",
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE_KEY, operator: "In", values: [B, M] }] }],
              },
            },
            podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: labels }, topologyKey: "kubernetes.io/hostname" }] },
          },
          containers: [{ name: "app", image: "registry.k8s.io/pause:3.10", volumeMounts: [{ name: "data", mountPath: "/data" }] }],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: "data" },
          spec: { accessModes: ["ReadWriteOnce"], storageClassName: "alicloud-disk-essd", resources: { requests: { storage: "20Gi" } } },
        },
      ],
    },
  };
}
