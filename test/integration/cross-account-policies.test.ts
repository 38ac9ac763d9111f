/**
 * The runner-writes policy with crossAccount.enabled in a real API server with the snapshot CRDs
 * (charts/zoneferry/templates/admission-policies.yaml, registered as the sandbox registers it): what
 * an export and a restore write gets through (the export's ConfigMap, a claim made from a
 * VolumeSnapshot, a VolumeSnapshot of a static content, a static Retain content of the disk driver)
 * and what else the runner's RBAC would allow stays refused, in the API server's words. The CEL is
 * compiled and run by the API server itself, so a typo fails here rather than in a user's cluster.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { CoreV1Api, CustomObjectsApi, KubeConfig, type V1PersistentVolumeClaim, type V1TypedLocalObjectReference } from "@kubernetes/client-node";
import { DISK_CSI_DRIVER } from "../../core/disk-volumes.ts";
import { controlPlaneBinaries, startControlPlane, type ControlPlane } from "../../sandbox/control-plane.ts";
import { waitFor } from "../../sandbox/processes.ts";
import { snapshotControllerBinaries } from "../../sandbox/snapshot-controller.ts";
import { registerWebhookConfigurations } from "../../sandbox/webhook-registration.ts";
import { makeCerts } from "../support/certs.ts";
import { NAMESPACE } from "../support/cluster-fixtures.ts";
import { ensureNamespace } from "../support/kube-seed.ts";

const run = promisify(execFile);
const RUNNER = "zoneferry-runner";
const GROUP = { group: "snapshot.storage.k8s.io", version: "v1" } as const;
const CONTENTS = { ...GROUP, plural: "volumesnapshotcontents" } as const;
const SNAPSHOTS = { ...GROUP, plural: "volumesnapshots", namespace: NAMESPACE } as const;

const content = (name: string, spec: Record<string, unknown> = {}): object => ({
  apiVersion: "snapshot.storage.k8s.io/v1",
  kind: "VolumeSnapshotContent",
  metadata: { name },
  spec: { deletionPolicy: "Retain", driver: DISK_CSI_DRIVER, source: { snapshotHandle: "s-shared0001" }, volumeSnapshotRef: { name, namespace: NAMESPACE }, ...spec },
});

const snapshot = (name: string, source: Record<string, string>): object => ({
  apiVersion: "snapshot.storage.k8s.io/v1",
  kind: "VolumeSnapshot",
  metadata: { name, namespace: NAMESPACE },
  spec: { source },
});

const restoredClaim = (name: string, dataSource?: V1TypedLocalObjectReference): V1PersistentVolumeClaim => ({
  metadata: { name, namespace: NAMESPACE },
  spec: { accessModes: ["ReadWriteOnce"], storageClassName: "alicloud-disk-essd", resources: { requests: { storage: "20Gi" } }, ...(dataSource === undefined ? {} : { dataSource }) },
});

/** The write is refused by the API server (403) with a message matching `message`. */
async function refused(write: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(write, (error: { code?: number; body?: unknown }) => {
    assert.equal(error.code, 403, String(error.body));
    assert.match(String(error.body), message);
    return true;
  });
}

describe("the runner-writes policy with crossAccount.enabled in a real API server", () => {
  let plane: ControlPlane;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;

  before(async () => {
    const bin = controlPlaneBinaries(process.env);
    plane = await startControlPlane(bin);
    const admin = new KubeConfig();
    admin.loadFromFile(plane.kubeconfig);
    const crds = join(snapshotControllerBinaries(), "crds");
    const kubectl = (...args: string[]): Promise<unknown> => run(join(bin, "kubectl"), args, { env: { ...process.env, KUBECONFIG: plane.kubeconfig } });
    await kubectl("apply", "--server-side", "-f", crds);
    await kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", crds);
    await ensureNamespace(admin, NAMESPACE);
    await registerWebhookConfigurations(admin, { url: "https://127.0.0.1:9", caPem: readFileSync(makeCerts().caFile, "utf8"), runnerIdentity: RUNNER, crossAccount: true });
    const runner = new KubeConfig();
    runner.loadFromFile(plane.kubeconfigFor(RUNNER, ["system:masters"]));
    core = runner.makeApiClient(CoreV1Api);
    custom = runner.makeApiClient(CustomObjectsApi);
    // The policy is compiled a moment after it is made: wait until it refuses what it should.
    await waitFor(
      () => custom.createClusterCustomObject({ ...CONTENTS, body: content("probe", { deletionPolicy: "Delete" }), dryRun: "All" }).then(() => false, (error: unknown) => (error as { code?: number }).code === 403),
      30_000,
      () => "the API server did not enforce the runner-writes policy on VolumeSnapshotContents",
    );
  });

  after(async () => { await plane.stop(); });

  it("lets the runner write an export's ConfigMap, and refuses it any other, naming the two it may write", async () => {
    const name = "zoneferry-export-db-0123456789ab";
    await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata: { name }, data: { "restore-from": "1000000000000001/0123456789ab" } } });
    const existing = await core.readNamespacedConfigMap({ name, namespace: NAMESPACE });
    await core.replaceNamespacedConfigMap({ name, namespace: NAMESPACE, body: { ...existing, data: { "restore-from": "1000000000000001/0123456789ab", accounts: "1000000000000002" } } });
    await refused(
      core.createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata: { name: "app-config" }, data: {} } }),
      /zoneferry: the runner writes only the ConfigMaps zoneferry-held-pods \(the replica hold of strategy Rolling\) and zoneferry-export-\* \(the mapping an export publishes\); ConfigMap shop\/app-config is neither, so it may not create it/,
    );
  });

  it("lets the runner make a claim from a VolumeSnapshot, and still refuses one neither bound by name nor restored", async () => {
    const made = await core.createNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, body: restoredClaim("data-db-0", { apiGroup: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "data-db-0-restore" }) });
    assert.equal(made.spec?.dataSourceRef?.name, "data-db-0-restore", "the API server fills dataSourceRef from dataSource");
    await refused(
      core.createNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, body: restoredClaim("data-db-1") }),
      /zoneferry: the runner makes PersistentVolumeClaims only bound by name to a PersistentVolume \(spec.volumeName\) or, for a restore, from a VolumeSnapshot \(spec.dataSource\); PersistentVolumeClaim shop\/data-db-1 is neither/,
    );
    await refused(
      core.createNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, body: restoredClaim("data-db-2", { kind: "PersistentVolumeClaim", name: "data-db-0" }) }),
      /PersistentVolumeClaim shop\/data-db-2 is neither/,
    );
  });

  it("lets the runner make and delete a static Retain content of the disk driver, and refuses a Delete one, another driver's and a dynamic one", async () => {
    await custom.createClusterCustomObject({ ...CONTENTS, body: content("shop-data-db-0") });
    await custom.deleteClusterCustomObject({ ...CONTENTS, name: "shop-data-db-0" });
    const notOne = (name: string, verb: string): RegExp => new RegExp(`zoneferry: the runner writes only static, Retain VolumeSnapshotContents of the Alibaba Cloud disk driver \\(diskplugin.csi.alibabacloud.com, source.snapshotHandle\\); VolumeSnapshotContent ${name} is not one, so it may not ${verb} it`);
    await refused(custom.createClusterCustomObject({ ...CONTENTS, body: content("deleting", { deletionPolicy: "Delete" }) }), notOne("deleting", "create"));
    await refused(custom.createClusterCustomObject({ ...CONTENTS, body: content("other-driver", { driver: "ebs.csi.aws.com" }) }), notOne("other-driver", "create"));
    await refused(custom.createClusterCustomObject({ ...CONTENTS, body: content("dynamic", { source: { volumeHandle: "d-source" } }) }), notOne("dynamic", "create"));
    // One made by someone else with Delete: the runner may not delete it, as that would delete the snapshot.
    const admin = new KubeConfig();
    admin.loadFromFile(plane.kubeconfig);
    await admin.makeApiClient(CustomObjectsApi).createClusterCustomObject({ ...CONTENTS, body: content("backup", { deletionPolicy: "Delete" }) });
    await refused(custom.deleteClusterCustomObject({ ...CONTENTS, name: "backup" }), notOne("backup", "delete"));
  });

  it("lets the runner make a VolumeSnapshot of a static content, and refuses one of a claim", async () => {
    await custom.createNamespacedCustomObject({ ...SNAPSHOTS, body: snapshot("data-db-0-restore", { volumeSnapshotContentName: "shop-data-db-0" }) });
    await custom.deleteNamespacedCustomObject({ ...SNAPSHOTS, name: "data-db-0-restore" });
    await refused(
      custom.createNamespacedCustomObject({ ...SNAPSHOTS, body: snapshot("of-a-claim", { persistentVolumeClaimName: "data-db-0" }) }),
      /zoneferry: the runner makes VolumeSnapshots only of a pre-provisioned content \(spec.source.volumeSnapshotContentName\); VolumeSnapshot shop\/of-a-claim names none/,
    );
  });
});
