/**
 * Export and restore across accounts and clusters (docs/cross-account.md), end to end on two
 * sandboxes: cluster A in account 1 and cluster B in account 2, two control planes, one cloud (the
 * ECS emulator, Resource Sharing included). A StatefulSet exported in A is restored in B from a
 * manifest applied as Git would; each claim's content is checked in B, the published mapping
 * against what ECS holds, and each failure for its message and for leaving nothing half-made.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { loadYaml } from "@kubernetes/client-node";
import { waitFor } from "../../sandbox/processes.ts";
import { REPO, SandboxSession } from "../support/sandbox-session.ts";

const run = promisify(execFile);

const NS = "shop";
/** Long enough for a StatefulSet to come up, short enough that a missing share fails within the test. */
const WAITS = { "zoneferry.io/ready-timeout": "30s", "zoneferry.io/check-interval": "5s" };

interface Mapping {
  exportId: string;
  sourceNamespace: string;
  claims: { claim: string; snapshotName: string; sourceSnapshotId: string; sizeGiB: number; category: string; zone: string }[];
}

describe("exporting a StatefulSet from cluster A (account 1) and restoring it in cluster B (account 2)", { timeout: 900_000 }, () => {
  const a = new SandboxSession("zf-export-a-", NS);
  const b = new SandboxSession("zf-restore-b-", NS);
  let exported: { restoreFrom: string; mapping: Mapping } | undefined;

  /** The StatefulSet of `name` as the restore cluster's Git holds it: the source's templates, with `annotations`. */
  async function applyFromGit(session: SandboxSession, name: string, replicas: number, annotations: Record<string, string>): Promise<void> {
    const file = join(session.dir, `${name}-${session.namespace}-git.yaml`);
    writeFileSync(file, session.statefulSetManifest(name, replicas, { annotations }));
    await session.kubectl("apply", "-f", file);
  }

  async function claimsOf(session: SandboxSession): Promise<string[]> {
    const names = await session.kubectl("-n", session.namespace, "get", "pvc", "-o", "jsonpath={.items[*].metadata.name}");
    return names.split(" ").filter((name) => name !== "").sort();
  }

  async function restoreObjects(session: SandboxSession): Promise<{ snapshots: string; contents: string }> {
    return {
      snapshots: await session.kubectl("-n", session.namespace, "get", "volumesnapshots", "-o", "jsonpath={.items[*].metadata.name}"),
      contents: await session.kubectl("get", "volumesnapshotcontents", "-o", "jsonpath={.items[*].metadata.name}"),
    };
  }

  before(async () => {
    await a.up({ snapshots: true, accounts: 2 });
    await b.up({ snapshots: true, ecsFrom: a, account: 2 });
  });
  after(async () => {
    // B first: A's emulator is B's cloud too.
    await b.down();
    await a.down();
  });

  it("runs cluster B on cluster A's emulator as account 2, with no emulator of its own and Resource Sharing beside ECS", async () => {
    const [first, second] = a.accounts();
    assert.deepEqual([a.accountId, b.accountId], [first!.accountId, second!.accountId]);
    assert.notEqual(a.accountId, b.accountId);
    assert.equal(b.env["ECS_ENDPOINT"], a.env["ECS_ENDPOINT"]);
    assert.deepEqual([a.env["RESOURCE_SHARING_ENDPOINT"], b.env["RESOURCE_SHARING_ENDPOINT"]], [a.env["ECS_ENDPOINT"], a.env["ECS_ENDPOINT"]]);
    assert.equal(b.env["ALIBABA_CLOUD_ACCESS_KEY_ID"], second!.accessKeyId);
    const { stdout } = await run(process.execPath, [join(REPO, "sandbox/cli.ts"), "status", "--dir", b.dir]);
    assert.doesNotMatch(stdout, /ecs-emulator/);
    for (const component of ["disk-provisioner", "runner", "webhook", "snapshot-controller"]) assert.match(stdout, new RegExp(`${component}\\s+pid \\d+\\s+running`));
  });

  it("exports the claims of a 2-replica StatefulSet as snapshots named for each claim, shared with account 2, and publishes the restore annotation and the mapping", async () => {
    await a.statefulSet("db", 2, { zones: ["cn-shanghai-b", "cn-shanghai-g"] });
    await a.kubectl("-n", NS, "annotate", "statefulset", "db", `zoneferry.io/export-to-accounts=${b.accountId}`);
    assert.equal(await a.ended("db", 180_000), "Succeeded", await a.annotation("db", "message"));
    const exportId = await a.annotation("db", "migration-id");
    const restoreFrom = await a.kubectl("-n", NS, "get", "configmap", `zoneferry-export-db-${exportId}`, "-o", "jsonpath={.data.restore-from}");
    assert.equal(restoreFrom, `${a.accountId}/${exportId}`);
    assert.match(await a.annotation("db", "message"), new RegExp(`create the StatefulSet with zoneferry.io/restore-from: "${restoreFrom}"`));
    const mappingYaml = await a.kubectl("-n", NS, "get", "configmap", `zoneferry-export-db-${exportId}`, "-o", "jsonpath={.data.mapping\\.yaml}");
    const mapping = loadYaml<Mapping>(mappingYaml);
    assert.deepEqual(mapping.claims.map((claim) => [claim.claim, claim.snapshotName, claim.sizeGiB, claim.category]), [
      ["data-db-0", `zf-${NS}-data-db-0-${exportId}`, 20, "cloud_essd"],
      ["data-db-1", `zf-${NS}-data-db-1-${exportId}`, 20, "cloud_essd"],
    ]);
    // Each mapped snapshot is in account 1's inventory, of that claim's disk; the app runs again.
    const inventory = await a.inventory();
    for (const claim of mapping.claims) {
      const snapshot = inventory.snapshots.find((found) => found.snapshotId === claim.sourceSnapshotId);
      assert.equal(snapshot?.sourceDiskId, await a.diskOf(claim.claim), `${claim.claim}'s snapshot is of its disk`);
    }
    assert.equal(await a.readyReplicas("db"), 2);
    exported = { restoreFrom, mapping };
  });

  it("restores the StatefulSet in cluster B from Git: replicas held at 0 until every claim is made from its shared snapshot, each holding what it held in A", async () => {
    assert.ok(exported !== undefined, "the export ran");
    await applyFromGit(b, "db", 2, { "zoneferry.io/restore-from": exported.restoreFrom });
    // Held at creation: the controller makes no claim until the runner has.
    assert.equal(await b.kubectl("-n", NS, "get", "statefulset", "db", "-o", "jsonpath={.spec.replicas}"), "0");
    assert.equal(await b.annotation("db", "restore-replicas"), "2");
    assert.equal(await b.ended("db", 180_000), "Succeeded", await b.annotation("db", "message"));
    assert.match(await b.annotation("db", "message"), /restored 2 PVC\(s\) from export/);
    assert.equal(await b.readyReplicas("db"), 2);
    for (const ordinal of [0, 1]) {
      assert.equal(await b.contentOf(`data-db-${ordinal}`), `db-${ordinal} rows 1..${100 + ordinal}`, `data-db-${ordinal} holds in B what it held in A`);
    }
    // Account 2's disks were made from the snapshots shared with it; account 1 holds none of them.
    const disksOfA = new Set((await a.inventory()).disks.map((disk) => disk.diskId));
    for (const ordinal of [0, 1]) assert.ok(!disksOfA.has(await b.diskOf(`data-db-${ordinal}`)), "B's disks are account 2's own");
  });

  it("does nothing when the restored StatefulSet is applied again from Git", async () => {
    assert.ok(exported !== undefined, "the export ran");
    const journals = await b.kubectl("-n", NS, "get", "zonemigrations", "-o", "jsonpath={.items[*].metadata.name}");
    const disks = (await b.inventory()).disks.length;
    await applyFromGit(b, "db", 2, { "zoneferry.io/restore-from": exported.restoreFrom });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.equal(await b.kubectl("-n", NS, "get", "zonemigrations", "-o", "jsonpath={.items[*].metadata.name}"), journals);
    assert.equal(await b.annotation("db", "status"), "Succeeded");
    assert.equal((await b.inventory()).disks.length, disks);
    assert.equal(await b.readyReplicas("db"), 2);
  });

  it("fails a restore whose share never reached this account, saying what to check, with no claim made and the StatefulSet still at 0", async () => {
    assert.ok(exported !== undefined, "the export ran");
    const other = await b.inNamespace("orders");
    const before = await claimsOf(other);
    await applyFromGit(other, "db", 1, { "zoneferry.io/restore-from": `${a.accountId}/ffffffffffff`, ...WAITS });
    assert.equal(await other.ended("db", 120_000), "Failed");
    assert.match(await other.annotation("db", "message"), /no invitation to share zf-export-ffffffffffff from account \d{16} reached this account; nothing was made: check the account id and export id in zoneferry.io\/restore-from/);
    assert.deepEqual(await claimsOf(other), before);
    assert.equal(await other.kubectl("-n", "orders", "get", "statefulset", "db", "-o", "jsonpath={.spec.replicas}"), "0");
  });

  it("fails a restore in a namespace the export was not made from, naming each snapshot not found and deleting nothing that is not its own", async () => {
    assert.ok(exported !== undefined, "the export ran");
    const other = await b.inNamespace("billing");
    const objectsBefore = await restoreObjects(other);
    await applyFromGit(other, "db", 2, { "zoneferry.io/restore-from": exported.restoreFrom, ...WAITS });
    assert.equal(await other.ended("db", 120_000), "Failed");
    assert.match(await other.annotation("db", "message"), /no snapshot named zf-billing-data-db-0-[0-9a-f]{12} \(PVC data-db-0\), zf-billing-data-db-1-[0-9a-f]{12} \(PVC data-db-1\) is in this account/);
    assert.deepEqual(await claimsOf(other), []);
    assert.deepEqual((await restoreObjects(other)).snapshots, objectsBefore.snapshots);
    // The first restore's claims and contents in shop stand.
    assert.equal(await b.contentOf("data-db-0"), "db-0 rows 1..100");
  });

  it("fails a restore once the export's invitation has expired, saying to export again with a new retry value", async () => {
    const source = await a.inNamespace("ledger");
    await source.statefulSet("db", 1, { zones: ["cn-shanghai-b"] });
    await source.kubectl("-n", "ledger", "annotate", "statefulset", "db", `zoneferry.io/export-to-accounts=${b.accountId}`);
    assert.equal(await source.ended("db", 180_000), "Succeeded", await source.annotation("db", "message"));
    const exportId = await source.annotation("db", "migration-id");
    // Eight days of the cloud's time later, the invitation (valid for 7) is expired.
    await a.emulator("/clock", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ advanceMs: 8 * 24 * 3_600_000 }) });
    const target = await b.inNamespace("ledger");
    await applyFromGit(target, "db", 1, { "zoneferry.io/restore-from": `${a.accountId}/${exportId}`, ...WAITS });
    assert.equal(await target.ended("db", 120_000), "Failed");
    assert.match(await target.annotation("db", "message"), /the invitation to share zf-export-[0-9a-f]{12} from account \d{16} expired \(Resource Sharing invitations last 7 days\); nothing was made: in the source cluster, set a new zoneferry.io\/retry value on the export/);
    assert.deepEqual(await claimsOf(target), []);
  });

  it("rolls a restore back when the API server refuses one of its claims, deleting the claims, VolumeSnapshots and contents it made and nothing else", async () => {
    const source = await a.inNamespace("refused");
    await source.statefulSet("db", 2, { zones: ["cn-shanghai-b", "cn-shanghai-g"] });
    await source.kubectl("-n", "refused", "annotate", "statefulset", "db", `zoneferry.io/export-to-accounts=${b.accountId}`);
    assert.equal(await source.ended("db", 180_000), "Succeeded", await source.annotation("db", "message"));
    const exportId = await source.annotation("db", "migration-id");
    // A Kubernetes-native fault in cluster B: an admission policy refusing the second claim.
    const target = await b.inNamespace("refused");
    const policy = join(b.dir, "refuse-claim.yaml");
    writeFileSync(policy, `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: refuse-data-db-1}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["persistentvolumeclaims"]}]
  validations: [{expression: "object.metadata.name != 'data-db-1'", message: "quota for data-db-1 is spent"}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: refuse-data-db-1}
spec:
  policyName: refuse-data-db-1
  validationActions: [Deny]
  matchResources: {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: refused}}}
`);
    await b.kubectl("apply", "-f", policy);
    // The policy is in force once it refuses a claim of that name.
    const probe = join(b.dir, "probe-claim.yaml");
    writeFileSync(probe, "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data-db-1, namespace: refused}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n");
    await waitFor(async () => (await b.kubectlOutput("apply", "--dry-run=server", "-f", probe).then(() => "", (error: unknown) => (error as { stderr?: string }).stderr ?? "")).includes("quota for data-db-1 is spent"), 30_000, () => "the policy never refused the claim");
    try {
      await applyFromGit(target, "db", 2, { "zoneferry.io/restore-from": `${a.accountId}/${exportId}`, ...WAITS });
      assert.equal(await target.ended("db", 120_000), "Failed");
      assert.match(await target.annotation("db", "message"), /quota for data-db-1 is spent/, "the user is told what the API server refused");
      assert.deepEqual(await claimsOf(target), [], "data-db-0, made before the refusal, was deleted");
      assert.deepEqual((await restoreObjects(target)).snapshots, "");
      assert.doesNotMatch((await restoreObjects(target)).contents, /zf-refused-/);
      assert.equal(await target.kubectl("-n", "refused", "get", "statefulset", "db", "-o", "jsonpath={.spec.replicas}"), "0");
      // The shared snapshots are untouched: the export in A still holds its data.
      assert.equal(await source.contentOf("data-db-1"), "db-1 rows 1..101");
    } finally {
      await b.kubectl("delete", "-f", policy);
    }
  });

  it("refuses to export a disk encrypted with ECS's service key before anything is stopped, saying which disk and what to do", async () => {
    const vault = await a.inNamespace("vault");
    const seeded = (await (await a.emulator("/disks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ zoneId: "cn-shanghai-b", category: "cloud_essd", size: 20, status: "In_use", attachedOnce: true, encrypted: true, content: "secrets" }) })).json()) as { diskId: string };
    const file = join(a.dir, "vault.yaml");
    writeFileSync(file, `apiVersion: v1
kind: PersistentVolume
metadata: {name: ${seeded.diskId}, labels: {topology.kubernetes.io/zone: cn-shanghai-b}}
spec:
  capacity: {storage: 20Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: alicloud-disk-essd
  csi: {driver: diskplugin.csi.alibabacloud.com, volumeHandle: ${seeded.diskId}, fsType: ext4, volumeAttributes: {type: cloud_essd}}
  claimRef: {namespace: vault, name: data-vault-0}
  nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [cn-shanghai-b]}]}]}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-vault-0, namespace: vault}
spec: {accessModes: [ReadWriteOnce], storageClassName: alicloud-disk-essd, volumeName: ${seeded.diskId}, resources: {requests: {storage: 20Gi}}}
`);
    await a.kubectl("apply", "-f", file);
    await applyFromGit(vault, "vault", 1, {});
    await waitForReady(vault, "vault", 1);
    await a.emulator("/requests", { method: "DELETE" });
    await vault.kubectl("-n", "vault", "annotate", "statefulset", "vault", `zoneferry.io/export-to-accounts=${b.accountId}`);
    assert.equal(await vault.ended("vault", 120_000), "Failed");
    assert.match(await vault.annotation("vault", "message"), new RegExp(`disk ${seeded.diskId} is encrypted with ECS's service key .*cannot be shared with another account: re-encrypt it with a customer KMS key .*nothing was changed`));
    const calls = (await (await a.emulator("/requests")).json()) as { action: string }[];
    assert.deepEqual(calls.filter((call) => call.action === "CreateSnapshot" || call.action === "CreateResourceShare"), [], "nothing was snapshotted or shared");
    assert.equal(await vault.readyReplicas("vault"), 1, "the app was never stopped");
    assert.equal(await vault.contentOf("data-vault-0"), "secrets");
  });
});

async function waitForReady(session: SandboxSession, name: string, replicas: number): Promise<void> {
  await waitFor(async () => (await session.readyReplicas(name)) === replicas, 60_000, () => `${name} not Ready`);
}
