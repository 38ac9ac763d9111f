/**
 * End to end on the sandbox, started once for this file through the same CLI users run
 * (`npm run sandbox -- up`), in a folder of its own: the API server calls zoneferry's webhook over
 * TLS, the disk provisioner creates disks through the ECS emulator, kwok runs the pods.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { Queue } from "bullmq";
import { MIGRATION_QUEUE } from "../../core/migration-queue.ts";
import { waitFor } from "../../sandbox/processes.ts";
import { startInformerView } from "../../webhook/informer-view.ts";
import { capturingLogger } from "../support/webhook-app.ts";

const run = promisify(execFile);
const REPO = join(import.meta.dirname, "../..");
const NS = "e2e";

function statefulSet(name: string, storageClass: string, replicas: number, annotations: Record<string, string> = {}): string {
  const annotationBlock = Object.entries(annotations).map(([key, value]) => `    ${key}: "${value}"\n`).join("");
  return `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ${name}
  namespace: ${NS}
${annotationBlock === "" ? "" : `  annotations:\n${annotationBlock}`}spec:
  replicas: ${replicas}
  serviceName: ${name}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: main, image: nginx:1.27}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], storageClassName: ${storageClass}, resources: {requests: {storage: 20Gi}}}
`;
}

function servedFingerprint(url: string, caFile: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: Number(port), ca: readFileSync(caFile), servername: "localhost" }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.once("error", reject);
  });
}

describe("zoneferry on the sandbox", () => {
  const dir = mkdtempSync(join(tmpdir(), "zf-sandbox-"));
  let env: Record<string, string> = {};

  const kubectl = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const { stdout, stderr } = await run(env["KUBECTL"]!, args, { env: { ...process.env, KUBECONFIG: env["KUBECONFIG"]! } });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof failed.code === "number" ? failed.code : 1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
    }
  };
  const apply = async (name: string, manifest: string): Promise<{ code: number; stdout: string; stderr: string }> => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, manifest);
    return kubectl("apply", "-f", file);
  };
  const ready = (name: string, replicas: number): Promise<void> =>
    waitFor(async () => Number((await kubectl("-n", NS, "get", "statefulset", name, "-o", "jsonpath={.status.readyReplicas}")).stdout) === replicas, 90_000, () => `${name} never had ${replicas} Ready replicas`);
  const jobs = async (): Promise<number> => {
    const queue = new Queue(MIGRATION_QUEUE, { connection: { url: env["REDIS_URL"]! } });
    try {
      return Object.values(await queue.getJobCounts("waiting", "delayed", "active", "completed", "failed", "prioritized")).reduce((sum, count) => sum + count, 0);
    } finally {
      await queue.close();
    }
  };

  before(async () => {
    await run(process.execPath, [join(REPO, "sandbox/cli.ts"), "up", "--dir", dir], { timeout: 300_000 });
    env = Object.fromEntries(
      readFileSync(join(dir, "env"), "utf8").trim().split("\n").map((line) => {
        const [, key, value] = /^export ([A-Z_]+)='(.*)'$/.exec(line)!;
        return [key!, value!.replace(/'\\''/g, "'")];
      }),
    );
    await kubectl("create", "namespace", NS);
    await apply("essd", statefulSet("essd", "alicloud-disk-essd", 2));
    await apply("legacy", statefulSet("legacy", "alicloud-disk-ssd", 1));
    await Promise.all([ready("essd", 2), ready("legacy", 1)]);
  });
  after(async () => {
    await run(process.execPath, [join(REPO, "sandbox/cli.ts"), "down", "--dir", dir]);
  });

  it("reports every component running", async () => {
    const { stdout } = await run(process.execPath, [join(REPO, "sandbox/cli.ts"), "status", "--dir", dir]);
    for (const component of ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "redis-server", "ecs-emulator", "disk-provisioner", "webhook"]) {
      assert.match(stdout, new RegExp(`${component}\\s+pid \\d+\\s+running`));
    }
  });

  it("builds an informer view that sees the sandbox's nodes and the provisioner's PVs", async () => {
    const kubeconfig = new KubeConfig();
    kubeconfig.loadFromFile(env["KUBECONFIG"]!);
    const view = startInformerView(kubeconfig, { logger: capturingLogger().logger });
    try {
      await view.whenSynced();
      assert.equal(view.listNodes().length, 3);
      const claim = view.getPersistentVolumeClaim(NS, "data-essd-0");
      const pv = view.getPersistentVolume(claim!.spec!.volumeName!);
      const csi = pv?.spec?.csi;
      assert.ok(csi !== undefined);
      assert.equal(csi.driver, "diskplugin.csi.alibabacloud.com");
      assert.equal(pv?.metadata?.name, csi.volumeHandle, "PVs are named by their disk id");
    } finally {
      await view.stop();
    }
  });

  it("denies moving a StatefulSet on SSD disks, and kubectl shows the webhook's message with the PVC", async () => {
    const result = await kubectl("-n", NS, "annotate", "statefulset", "legacy", "zoneferry.io/target-zones=cn-shanghai-g");
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /admission webhook "validate.zoneferry.io" denied the request: zoneferry: StatefulSet e2e\/legacy cannot move to cn-shanghai-g: PVC data-legacy-0 is on cloud_ssd disk d-/);
  });

  it("answers kubectl's server-side dry run as the real apply would, and queues nothing", async () => {
    const before = await jobs();
    const dry = await kubectl("-n", NS, "annotate", "--dry-run=server", "statefulset", "essd", "zoneferry.io/target-zones=cn-shanghai-g", "-o", "jsonpath={.metadata.annotations.zoneferry\\.io/status}");
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.stdout, "Pending", "the dry run shows the stamp the apply would get");
    assert.equal(await jobs(), before);
    const stored = await kubectl("-n", NS, "get", "statefulset", "essd", "-o", "jsonpath={.metadata.annotations}");
    assert.doesNotMatch(stored.stdout, /zoneferry/);
  });

  it("denies a target zone whose nodes are all cordoned, counting them", async () => {
    await kubectl("cordon", "node-cn-shanghai-b-0");
    try {
      const result = await kubectl("-n", NS, "annotate", "--dry-run=server", "statefulset", "legacy", "zoneferry.io/target-zones=cn-shanghai-b", "--overwrite");
      assert.match(result.stderr, /target zone cn-shanghai-b has no Ready, schedulable node for these pods \(1 node seen in that zone: 1 cordoned\)/);
    } finally {
      await kubectl("uncordon", "node-cn-shanghai-b-0");
    }
  });

  it("admits a StatefulSet applied from scratch with the annotation, and kubectl shows the warning", async () => {
    const result = await apply("fresh", statefulSet("fresh", "alicloud-disk-essd", 1, { "zoneferry.io/target-zones": "cn-shanghai-g" }));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Warning: zoneferry.io\/target-zones set at creation: a new StatefulSet has no disks to move, so nothing is queued/);
  });

  it("denies kubectl scale while a migration holds the StatefulSet", async () => {
    // The runner moves it in seconds: a slow snapshot keeps the migration holding it meanwhile.
    await fetch(`${env["ECS_EMULATOR_URL"]!}/_emulator/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ action: "CreateSnapshot", delayMs: 6_000, times: 2 }) });
    const admitted = await kubectl("-n", NS, "annotate", "statefulset", "essd", "zoneferry.io/target-zones=cn-shanghai-g");
    assert.equal(admitted.code, 0, admitted.stderr);
    const id = (await kubectl("-n", NS, "get", "statefulset", "essd", "-o", "jsonpath={.metadata.annotations.zoneferry\\.io/migration-id}")).stdout;
    assert.match(id, /^[0-9a-f]{12}$/);
    assert.equal(await jobs(), 1);
    // The scale guard reads the StatefulSet from the webhook's informers: give the watch a moment.
    await waitFor(async () => (await kubectl("-n", NS, "scale", "statefulset", "essd", "--replicas=3")).stderr.includes(`held by zoneferry migration ${id}`), 10_000, () => "kubectl scale was not denied by the guard");
    // The runner may have scaled it to zero meanwhile; what matters is that the user's 3 did not land.
    assert.notEqual((await kubectl("-n", NS, "get", "statefulset", "essd", "-o", "jsonpath={.spec.replicas}")).stdout, "3");
  });

  it("answers reviews only from the API server: curl without its client certificate is refused, health stays open", async () => {
    const before = await jobs();
    const caFile = join(dir, "webhook-certs", "ca.crt");
    const forged = JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: {
      uid: "forged", kind: { group: "apps", version: "v1", kind: "StatefulSet" }, name: "essd", namespace: NS, operation: "UPDATE", userInfo: { username: "mallory" },
      object: { metadata: { name: "essd", namespace: NS, annotations: { "zoneferry.io/target-zones": "cn-shanghai-g" } }, spec: { template: {} } },
      oldObject: { metadata: { name: "essd", namespace: NS }, spec: { template: {} } },
    } });
    const curl = async (...args: string[]): Promise<string> => (await run("curl", ["-sS", "--cacert", caFile, "-o", "/dev/null", "-w", "%{http_code}", ...args])).stdout;
    assert.equal(await curl("-H", "Content-Type: application/json", "--data", forged, `${env["WEBHOOK_URL"]!}/validate`), "401");
    assert.equal(await curl(`${env["WEBHOOK_URL"]!}/healthz`), "200");
    assert.equal(await jobs(), before, "nothing was queued");
  });

  it("keeps answering while its certificate files are replaced, then serves the new certificate", async () => {
    const certDir = join(dir, "webhook-certs");
    const caFile = join(certDir, "ca.crt");
    const before = await servedFingerprint(env["WEBHOOK_URL"]!, caFile);
    await run("bash", [join(REPO, "certs/make-certs.sh"), "--out", certDir, "--ip", "127.0.0.1", "--dns", "localhost", "--days", "30", "--reuse-ca"]);
    await waitFor(async () => {
      const answer = await kubectl("-n", NS, "annotate", "--dry-run=server", "statefulset", "legacy", "zoneferry.io/target-zones=cn-shanghai-x");
      assert.match(answer.stderr, /target zone cn-shanghai-x has no Ready, schedulable node \(0 nodes seen in that zone\)/, "the webhook answered during the rotation");
      return (await servedFingerprint(env["WEBHOOK_URL"]!, caFile)) !== before;
    }, 20_000, () => "the new certificate was never served");
  });
});
