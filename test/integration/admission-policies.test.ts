/**
 * The chart's write policies in a real API server (charts/zoneferry/templates/admission-policies.yaml,
 * registered as the sandbox registers them): a tenant whose Role lets it write ZoneMigrations and
 * their status in its namespace is still refused every journal write, in the API server's words,
 * while the runner writes journals freely; and the runner's own writes are narrowed to what a
 * migration makes: disk CSI PVs, PVCs bound by name, StatefulSets that carry a migration id, and for
 * strategy Rolling the ConfigMap zoneferry-held-pods and the removal of the gate zoneferry.io/rebind.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
  type V1Pod,
} from "@kubernetes/client-node";
import { DISK_CSI_DRIVER } from "../../core/disk-volumes.ts";
import { installZoneMigrationCrd } from "../../runner/journal/crd.ts";
import { controlPlaneBinaries, startControlPlane, type ControlPlane } from "../../sandbox/control-plane.ts";
import { waitFor } from "../../sandbox/processes.ts";
import { registerWebhookConfigurations } from "../../sandbox/webhook-registration.ts";
import { makeCerts } from "../support/certs.ts";
import { NAMESPACE, statefulSet } from "../support/cluster-fixtures.ts";
import { ensureNamespace, seed } from "../support/kube-seed.ts";

const RUNNER = "zoneferry-runner";
const TENANT = "tenant";
const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const JSON_PATCH = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);
const GATE = "zoneferry.io/rebind";
const HELD_PODS = "zoneferry-held-pods";
const JOURNALS = { group: "zoneferry.io", version: "v1alpha1", plural: "zonemigrations", namespace: NAMESPACE } as const;

const journal = (name: string): object => ({
  apiVersion: "zoneferry.io/v1alpha1",
  kind: "ZoneMigration",
  metadata: { name, namespace: NAMESPACE },
  spec: { statefulSet: "db", migrationId: name.slice(-12), targetZones: ["cn-shanghai-g"] },
});

const diskVolume = (name: string): V1PersistentVolume => ({
  metadata: { name },
  spec: {
    capacity: { storage: "20Gi" },
    accessModes: ["ReadWriteOnce"],
    persistentVolumeReclaimPolicy: "Retain",
    csi: { driver: DISK_CSI_DRIVER, volumeHandle: name, fsType: "ext4" },
  },
});

const hostVolume = (name: string): V1PersistentVolume => ({
  metadata: { name },
  spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], persistentVolumeReclaimPolicy: "Retain", hostPath: { path: `/var/lib/${name}` } },
});

const claim = (name: string, volumeName?: string): V1PersistentVolumeClaim => ({
  metadata: { name, namespace: NAMESPACE },
  spec: { accessModes: ["ReadWriteOnce"], storageClassName: "", resources: { requests: { storage: "20Gi" } }, ...(volumeName === undefined ? {} : { volumeName }) },
});

/** A pod that waits behind `gates` (no node needed: a gated pod is never scheduled). */
const gatedPod = (name: string, gates: string[]): V1Pod => ({
  metadata: { name, namespace: NAMESPACE, labels: { app: "db" } },
  spec: { containers: [{ name: "main", image: "registry.k8s.io/pause:3.10" }], schedulingGates: gates.map((gate) => ({ name: gate })) },
});

/** The write is refused by the API server (403) with a message matching `message`. */
async function refused(write: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(write, (error: { code?: number; body?: unknown }) => {
    assert.equal(error.code, 403, String(error.body));
    assert.match(String(error.body), message);
    return true;
  });
}

describe("the chart's write policies in a real API server", () => {
  let plane: ControlPlane;
  const clients = new Map<string, KubeConfig>();
  const as = <T>(user: string, api: new (...args: never[]) => T): T => clients.get(user)!.makeApiClient(api as never) as T;

  before(async () => {
    plane = await startControlPlane(controlPlaneBinaries(process.env));
    const admin = new KubeConfig();
    admin.loadFromFile(plane.kubeconfig);
    clients.set("admin", admin);
    for (const [user, groups] of [[RUNNER, ["system:masters"]], [TENANT, []]] as const) {
      const config = new KubeConfig();
      config.loadFromFile(plane.kubeconfigFor(user, groups));
      clients.set(user, config);
    }
    await installZoneMigrationCrd(admin);
    await ensureNamespace(admin, NAMESPACE);
    // Before the webhooks are registered: nothing answers at their URL, and an annotated
    // StatefulSet written by anyone but the runner would be sent there.
    await seed(admin, { statefulSets: [statefulSet({ name: "db", annotations: { "zoneferry.io/migration-id": "0123456789ab", "zoneferry.io/status": "Pending" } }), statefulSet({ name: "plain" })] });
    await seed(admin, { persistentVolumes: [diskVolume("d-source"), hostVolume("host-data")] });
    // The tenant may write journals and their status in its namespace, as far as RBAC goes.
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: NAMESPACE,
      body: { metadata: { name: "journal-writer" }, rules: [{ apiGroups: ["zoneferry.io"], resources: ["zonemigrations", "zonemigrations/status"], verbs: ["get", "list", "create", "update", "patch", "delete"] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: NAMESPACE,
      body: { metadata: { name: "journal-writer" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "journal-writer" }, subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: TENANT }] },
    });
    await registerWebhookConfigurations(admin, { url: "https://127.0.0.1:9", caPem: readFileSync(makeCerts().caFile, "utf8"), runnerIdentity: RUNNER });
    // The runner-writes policy is compiled with the others; wait until it is enforced too.
    const core = as(RUNNER, CoreV1Api);
    await waitFor(
      () => core.createPersistentVolume({ body: hostVolume("probe"), dryRun: "All" }).then(() => false, (error: unknown) => (error as { code?: number }).code === 403),
      30_000,
      () => "the API server did not enforce the runner-writes policy",
    );
  });

  after(async () => { await plane.stop(); });

  it("refuses a tenant creating a journal though its Role allows it, naming the tenant and what to read", async () => {
    await refused(
      as(TENANT, CustomObjectsApi).createNamespacedCustomObject({ ...JOURNALS, body: journal("db-aaaaaaaaaaaa") }),
      /ValidatingAdmissionPolicy 'zoneferry-journal-writer' with binding 'zoneferry-journal-writer' denied request: zoneferry: ZoneMigration shop\/db-aaaaaaaaaaaa is the journal of a migration: only the zoneferry runner writes it, tenant may not create it \(docs\/security.md\)/,
    );
  });

  it("lets the runner create a journal and write its status, and refuses the tenant patching its spec or its status", async () => {
    const runner = as(RUNNER, CustomObjectsApi);
    await runner.createNamespacedCustomObject({ ...JOURNALS, body: journal("db-0123456789ab") });
    const created = (await runner.getNamespacedCustomObject({ ...JOURNALS, name: "db-0123456789ab" })) as { status?: object };
    await runner.replaceNamespacedCustomObjectStatus({ ...JOURNALS, name: "db-0123456789ab", body: { ...created, status: { phase: "Running", step: "snapshot" } } });

    const tenant = as(TENANT, CustomObjectsApi);
    await refused(
      tenant.patchNamespacedCustomObject({ ...JOURNALS, name: "db-0123456789ab", body: { spec: { targetZones: ["cn-shanghai-b"] } } }, MERGE),
      /zoneferry: ZoneMigration shop\/db-0123456789ab is the journal of a migration: only the zoneferry runner writes it, tenant may not update it/,
    );
    await refused(
      tenant.patchNamespacedCustomObjectStatus({ ...JOURNALS, name: "db-0123456789ab", body: { status: { phase: "Failed" } } }, MERGE),
      /zoneferry: ZoneMigration shop\/db-0123456789ab \(status\) is the journal of a migration: only the zoneferry runner writes it, tenant may not update it/,
    );
    const stored = (await runner.getNamespacedCustomObject({ ...JOURNALS, name: "db-0123456789ab" })) as { spec: { targetZones: string[] }; status: { phase: string } };
    assert.deepEqual([stored.spec.targetZones, stored.status.phase], [["cn-shanghai-g"], "Running"], "the journal is as the runner wrote it");
  });

  it("refuses the tenant deleting a journal of a migration under way, lets a cluster admin, and anyone delete a finished one", async () => {
    const runner = as(RUNNER, CustomObjectsApi);
    const tenant = as(TENANT, CustomObjectsApi);
    await refused(
      tenant.deleteNamespacedCustomObject({ ...JOURNALS, name: "db-0123456789ab" }),
      /zoneferry: ZoneMigration shop\/db-0123456789ab records a migration still Running: until it ends only the zoneferry runner or a cluster admin may delete it, tenant may not/,
    );
    await runner.createNamespacedCustomObject({ ...JOURNALS, body: journal("db-bbbbbbbbbbbb") });
    await refused(tenant.deleteNamespacedCustomObject({ ...JOURNALS, name: "db-bbbbbbbbbbbb" }), /records a migration still Pending/);
    const pending = (await runner.getNamespacedCustomObject({ ...JOURNALS, name: "db-bbbbbbbbbbbb" })) as object;
    await runner.replaceNamespacedCustomObjectStatus({ ...JOURNALS, name: "db-bbbbbbbbbbbb", body: { ...pending, status: { phase: "Succeeded" } } });
    await tenant.deleteNamespacedCustomObject({ ...JOURNALS, name: "db-bbbbbbbbbbbb" });
    await as("admin", CustomObjectsApi).deleteNamespacedCustomObject({ ...JOURNALS, name: "db-0123456789ab" });
  });

  it("refuses the runner any PersistentVolume but an Alibaba Cloud disk's, and lets others write theirs", async () => {
    const runner = as(RUNNER, CoreV1Api);
    const notDisk = /zoneferry: the runner writes only Alibaba Cloud disk PersistentVolumes \(CSI driver diskplugin.csi.alibabacloud.com\); PersistentVolume host-data is not one, so it may not/;
    await refused(runner.createPersistentVolume({ body: hostVolume("host-data-2") }), /PersistentVolume host-data-2 is not one, so it may not create it/);
    await refused(runner.patchPersistentVolume({ name: "host-data", body: { spec: { persistentVolumeReclaimPolicy: "Delete" } } }, MERGE), notDisk);
    await refused(runner.deletePersistentVolume({ name: "host-data" }), notDisk);

    await runner.createPersistentVolume({ body: diskVolume("d-new") });
    await runner.patchPersistentVolume({ name: "d-source", body: { spec: { persistentVolumeReclaimPolicy: "Retain" } } }, MERGE);
    await runner.deletePersistentVolume({ name: "d-new" });
    // The policy narrows the runner only.
    await as("admin", CoreV1Api).createPersistentVolume({ body: hostVolume("host-data-3") });
  });

  it("refuses the runner a StatefulSet that carries no migration id, and lets it scale and annotate one that does", async () => {
    const runner = as(RUNNER, AppsV1Api);
    await refused(
      runner.patchNamespacedStatefulSet({ name: "plain", namespace: NAMESPACE, body: { spec: { replicas: 0 } } }, MERGE),
      /zoneferry: StatefulSet shop\/plain carries no zoneferry.io\/migration-id, so no migration of it was admitted: the runner may not change it/,
    );
    await refused(runner.patchNamespacedStatefulSet({ name: "plain", namespace: NAMESPACE, body: { metadata: { annotations: { "zoneferry.io/status": "Failed" } } } }, MERGE), /StatefulSet shop\/plain carries no/);
    const held = await runner.patchNamespacedStatefulSet({ name: "db", namespace: NAMESPACE, body: { metadata: { annotations: { "zoneferry.io/status": "Running" } }, spec: { replicas: 0 } } }, MERGE);
    assert.deepEqual([held.spec?.replicas, held.metadata?.annotations?.["zoneferry.io/status"]], [0, "Running"]);
  });

  it("refuses the runner a PersistentVolumeClaim not bound by name to a volume, and makes a pre-bound one", async () => {
    const runner = as(RUNNER, CoreV1Api);
    await refused(
      runner.createNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, body: claim("data-db-9") }),
      /zoneferry: the runner makes PersistentVolumeClaims only bound by name to a PersistentVolume \(spec.volumeName\); PersistentVolumeClaim shop\/data-db-9 names none/,
    );
    const made = await runner.createNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, body: claim("data-db-0", "d-source") });
    assert.equal(made.spec?.volumeName, "d-source");
  });

  it("refuses the runner every ConfigMap but zoneferry-held-pods, and lets it create, patch and delete that one", async () => {
    const runner = as(RUNNER, CoreV1Api);
    const notHold = (name: string, verb: string): RegExp =>
      new RegExp(`zoneferry: the runner writes only the ConfigMap zoneferry-held-pods \\(the replica hold of strategy Rolling\\); ConfigMap shop/${name} is not it, so it may not ${verb} it`);
    await refused(runner.createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata: { name: "app-config" }, data: { db: "uid-db" } } }), notHold("app-config", "create"));
    await as("admin", CoreV1Api).createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata: { name: "app-config" }, data: { mode: "on" } } });
    await refused(runner.patchNamespacedConfigMap({ namespace: NAMESPACE, name: "app-config", body: { data: { mode: "off" } } }, MERGE), notHold("app-config", "update"));
    await refused(runner.deleteNamespacedConfigMap({ namespace: NAMESPACE, name: "app-config" }), notHold("app-config", "delete"));

    // A key no pod of this test is named by: the replica-hold policy gates nothing here.
    await runner.createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata: { name: HELD_PODS }, data: { "db-9": "uid-none" } } });
    const patched = await runner.patchNamespacedConfigMap({ namespace: NAMESPACE, name: HELD_PODS, body: { data: { "db-9": null, "db-8": "uid-none" } } }, MERGE);
    assert.deepEqual(patched.data, { "db-8": "uid-none" });
    await runner.deleteNamespacedConfigMap({ namespace: NAMESPACE, name: HELD_PODS });
  });

  it("lets the runner change a pod only by removing zoneferry.io/rebind, keeping the other gates and everything else", async () => {
    const admin = as("admin", CoreV1Api);
    const runner = as(RUNNER, CoreV1Api);
    const held = await admin.createNamespacedPod({ namespace: NAMESPACE, body: gatedPod("db-1", ["example.com/quota", GATE]) });
    await admin.createNamespacedPod({ namespace: NAMESPACE, body: gatedPod("other-0", ["example.com/quota"]) });
    const moreThanThat = /zoneferry: the runner changes a pod only by removing its scheduling gate zoneferry.io\/rebind \(the replica hold of strategy Rolling\); this update of pod shop\/db-1 changes more than that, so it may not/;
    const remove = (index: number, also: object[] = []): object[] => [{ op: "test", path: "/metadata/uid", value: held.metadata?.uid }, { op: "remove", path: `/spec/schedulingGates/${index}` }, ...also];

    await refused(runner.patchNamespacedPod({ namespace: NAMESPACE, name: "db-1", body: { metadata: { labels: { app: "web" } } } }, MERGE), moreThanThat);
    await refused(runner.patchNamespacedPod({ namespace: NAMESPACE, name: "db-1", body: remove(0) }, JSON_PATCH), moreThanThat);
    await refused(runner.patchNamespacedPod({ namespace: NAMESPACE, name: "db-1", body: remove(1, [{ op: "add", path: "/metadata/annotations", value: { note: "x" } }]) }, JSON_PATCH), moreThanThat);
    await refused(runner.patchNamespacedPod({ namespace: NAMESPACE, name: "db-1", body: remove(1, [{ op: "replace", path: "/spec/containers/0/image", value: "registry.k8s.io/pause:3.9" }]) }, JSON_PATCH), moreThanThat);
    await refused(
      runner.patchNamespacedPod({ namespace: NAMESPACE, name: "other-0", body: [{ op: "remove", path: "/spec/schedulingGates/0" }] }, JSON_PATCH),
      /this update of pod shop\/other-0 is of a pod that does not carry the gate, so it may not/,
    );

    const released = await runner.patchNamespacedPod({ namespace: NAMESPACE, name: "db-1", body: remove(1) }, JSON_PATCH);
    assert.deepEqual(released.spec?.schedulingGates?.map((gate) => gate.name), ["example.com/quota"]);
    // The last gate too, and the policy narrows the runner only.
    const only = await admin.createNamespacedPod({ namespace: NAMESPACE, body: gatedPod("db-2", [GATE]) });
    const free = await runner.patchNamespacedPod({ namespace: NAMESPACE, name: "db-2", body: [{ op: "test", path: "/metadata/uid", value: only.metadata?.uid }, { op: "remove", path: "/spec/schedulingGates/0" }] }, JSON_PATCH);
    assert.deepEqual(free.spec?.schedulingGates ?? [], []);
    await admin.patchNamespacedPod({ namespace: NAMESPACE, name: "other-0", body: { metadata: { labels: { app: "web" } } } }, MERGE);
  });

  it("lets the runner make a pod as a dry run only (the check that the replica-hold policy gates a replica)", async () => {
    const runner = as(RUNNER, CoreV1Api);
    await refused(
      runner.createNamespacedPod({ namespace: NAMESPACE, body: gatedPod("db-7", []) }),
      /zoneferry: the runner makes a pod only as a dry run \(the check that the replica-hold policy gates a replica\); pod shop\/db-7 is not one, so it may not create it/,
    );
    const probe = await runner.createNamespacedPod({ namespace: NAMESPACE, body: gatedPod("db-7", []), dryRun: "All" });
    assert.equal(probe.metadata?.name, "db-7");
  });
});
