/**
 * zoneferry's webhook in a real API server's admission chain, called over TLS as Argo CD, Flux,
 * Helm and kubectl writes would call it.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { AppsV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1StatefulSet } from "@kubernetes/client-node";
import { Queue } from "bullmq";
import type { MigrationJobData } from "../../core/migration-queue.ts";
import { queueEnqueuer } from "../../webhook/enqueuer.ts";
import { startInformerView, type InformerClusterView } from "../../webhook/informer-view.ts";
import { connectMigrationQueue, type MigrationQueueClient } from "../../webhook/migration-queue-client.ts";
import { startTlsServer, type TlsServer } from "../../webhook/tls-server.ts";
import { controlPlaneBinaries, startControlPlane, type ControlPlane } from "../../sandbox/control-plane.ts";
import { waitFor } from "../../sandbox/processes.ts";
import { createApp } from "../../webhook/app.ts";
import { makeCerts, type CertFiles } from "../support/certs.ts";
import { NAMESPACE, clusterWithDisks, essdStorageClass, nodes, statefulSet } from "../support/cluster-fixtures.ts";
import { registerWebhook, seed } from "../support/kube-seed.ts";
import { reviewBody, update } from "../support/admission.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";
import { capturingLogger } from "../support/webhook-app.ts";
import { createMetrics } from "../../webhook/metrics.ts";
import { cloudAnswering } from "../support/cloud-answers.ts";

const run = promisify(execFile);

/** POSTs an AdmissionReview as a caller without a client certificate would. */
function postReview(url: string, ca: Buffer, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: "POST", ca, headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => { text += chunk.toString(); });
      res.on("end", () => { resolve({ status: res.statusCode ?? 0, body: text }); });
    });
    req.once("error", reject);
    req.end(body);
  });
}
const RUNNER = "zoneferry-runner";
const M = "cn-shanghai-m";

describe("admission through a real API server", () => {
  let plane: ControlPlane;
  let redis: RedisServer;
  let view: InformerClusterView;
  let server: TlsServer;
  let queueClient: MigrationQueueClient;
  let certs: CertFiles;
  const queueName = `test-${randomUUID()}`;
  const users = new Map<string, KubeConfig>();
  const { logger } = capturingLogger();

  const as = (user: string): AppsV1Api => users.get(user)!.makeApiClient(AppsV1Api);
  const annotate = (user: string, name: string, annotations: Record<string, string>, dryRun = false): Promise<V1StatefulSet> =>
    as(user).patchNamespacedStatefulSet(
      { name, namespace: NAMESPACE, body: { metadata: { annotations } }, ...(dryRun ? { dryRun: "All" } : {}) },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  const kubectl = (user: string, ...args: string[]) =>
    run(join(plane.binDir, "kubectl"), ["--kubeconfig", plane.kubeconfigFor(user, ["system:masters"]), "-n", NAMESPACE, ...args]);
  const jobs = async () => {
    const queue = new Queue(queueName, { connection: { url: redis.url } });
    try {
      return await queue.getJobs(["waiting", "delayed", "active", "completed", "failed"]);
    } finally {
      await queue.close();
    }
  };

  /** The scale guard reads the StatefulSet from the informer view: wait until it has the status. */
  const viewShows = (status: string) =>
    waitFor(() => Promise.resolve(view.getStatefulSet(NAMESPACE, "db")?.metadata?.annotations?.["zoneferry.io/status"] === status), 10_000, () => `the view never showed status ${status}`);

  before(async () => {
    [plane, redis] = await Promise.all([startControlPlane(controlPlaneBinaries(process.env)), startRedis()]);
    for (const user of ["alice", "argocd", RUNNER]) {
      const config = new KubeConfig();
      config.loadFromFile(plane.kubeconfigFor(user, ["system:masters"]));
      users.set(user, config);
    }
    const admin = new KubeConfig();
    admin.loadFromFile(plane.kubeconfig);

    // The cluster: nodes in b, g and m; "db" on ESSD disks, "legacy" on SSD disks, "cache" on ESSD.
    const db = clusterWithDisks(statefulSet({ name: "db", replicas: 2 }), [M, M]);
    const legacy = clusterWithDisks(statefulSet({ name: "legacy", replicas: 1 }), [M], { category: "cloud_ssd" });
    const cache = clusterWithDisks(statefulSet({ name: "cache", replicas: 1 }), [M]);
    await seed(admin, { nodes: nodes(1), storageClasses: [essdStorageClass()] });
    for (const cluster of [db, legacy, cache]) {
      await seed(admin, { statefulSets: cluster.statefulSets ?? [], persistentVolumeClaims: cluster.persistentVolumeClaims, persistentVolumes: cluster.persistentVolumes });
    }

    view = startInformerView(admin, { logger });
    queueClient = connectMigrationQueue(redis.url, logger, queueName);
    const metrics = createMetrics({ processMetrics: false });
    const app = createApp({
      context: { view, cloud: cloudAnswering(), runnerIdentity: RUNNER },
      enqueuer: queueEnqueuer({ queue: queueClient.queue, timeoutMs: 1_000, metrics, logger }),
      metrics,
      logger,
      bodyLimitBytes: 3 * 1024 * 1024,
      clientCertificateRequired: true,
    });
    certs = makeCerts();
    // Only the API server's client certificate (its admission configuration) is answered.
    server = await startTlsServer(app, { port: 0, host: "127.0.0.1", certFile: certs.certFile, keyFile: certs.keyFile, clientCaFile: plane.webhookClientCaFile, logger });
    await view.whenSynced();
    await registerWebhook(admin, { url: `https://127.0.0.1:${server.port}`, caPem: readFileSync(certs.caFile, "utf8") });
  });

  after(async () => {
    await server.close();
    await view.stop();
    await queueClient.close();
    await plane.stop();
    await redis.stop();
  });

  it("admits a zone move, stamps it through the mutating webhook and queues one job", async () => {
    const stored = await annotate("alice", "db", { "zoneferry.io/target-zones": "cn-shanghai-b,cn-shanghai-g" });
    const annotations = stored.metadata!.annotations!;
    assert.equal(annotations["zoneferry.io/status"], "Pending");
    assert.match(annotations["zoneferry.io/migration-id"]!, /^[0-9a-f]{12}$/);
    const queued = await jobs();
    assert.deepEqual(queued.map((job) => job.id), [annotations["zoneferry.io/migration-id"]]);
    assert.equal((queued[0]!.data as MigrationJobData).requestedBy, "alice");
  });

  it("queues nothing when the same annotations are applied again, as every GitOps sync does", async () => {
    await annotate("argocd", "db", { "zoneferry.io/target-zones": "cn-shanghai-b,cn-shanghai-g" });
    assert.equal((await jobs()).length, 1);
  });

  it("fails an apply to SSD disks with the webhook's message and leaves the object as it was", async () => {
    await assert.rejects(annotate("alice", "legacy", { "zoneferry.io/target-zones": "cn-shanghai-g" }), (error: { code?: number; body?: string }) => {
      assert.equal(error.code, 403);
      assert.match(String(error.body), /admission webhook \\"validate.zoneferry.io\\" denied the request: zoneferry: StatefulSet shop\/legacy cannot move to cn-shanghai-g: PVC data-legacy-0 is on cloud_ssd disk d-data-legacy-0; only ESSD-family disks/);
      return true;
    });
    const legacy = await as("alice").readNamespacedStatefulSet({ name: "legacy", namespace: NAMESPACE });
    assert.equal(legacy.metadata!.annotations?.["zoneferry.io/target-zones"], undefined);
  });

  it("fails an apply to a zone without nodes, counting the nodes seen there", async () => {
    await assert.rejects(annotate("alice", "cache", { "zoneferry.io/target-zones": "cn-shanghai-x" }), (error: { body?: string }) => {
      assert.match(String(error.body), /target zone cn-shanghai-x has no Ready, schedulable node \(0 nodes seen in that zone\)/);
      return true;
    });
  });

  it("answers a server-side dry run as the real apply would, and queues nothing", async () => {
    const before = (await jobs()).length;
    const dry = await annotate("argocd", "cache", { "zoneferry.io/target-zones": "cn-shanghai-g" }, true);
    assert.equal(dry.metadata!.annotations!["zoneferry.io/status"], "Pending", "the dry run shows the stamp the apply would get");
    assert.equal((await jobs()).length, before);
    const stored = await as("alice").readNamespacedStatefulSet({ name: "cache", namespace: NAMESPACE });
    assert.equal(stored.metadata!.annotations?.["zoneferry.io/target-zones"], undefined);
  });

  it("denies kubectl scale of a StatefulSet held by a migration, naming the migration", async () => {
    const held = await as("alice").readNamespacedStatefulSet({ name: "db", namespace: NAMESPACE });
    const id = held.metadata!.annotations!["zoneferry.io/migration-id"]!;
    await viewShows("Pending");
    await assert.rejects(kubectl("alice", "scale", "statefulset", "db", "--replicas=5"), (error: { stderr?: string }) => {
      assert.match(String(error.stderr), new RegExp(`StatefulSet shop/db is held by zoneferry migration ${id} \\(status Pending\\): spec.replicas cannot change until the migration ends`));
      return true;
    });
  });

  it("holds replicas in a GitOps re-apply while the migration holds the StatefulSet: the rest applies, with a warning, on dry run alike", async () => {
    const id = (await as("alice").readNamespacedStatefulSet({ name: "db", namespace: NAMESPACE })).metadata!.annotations!["zoneferry.io/migration-id"]!;
    const warning = `Warning: zoneferry: spec.replicas held at 2 while migration ${id} runs (status Pending); it is restored when the migration ends`;
    const resync = ["patch", "statefulset", "db", "--type=merge", "-p", '{"metadata":{"labels":{"team":"shop"}},"spec":{"replicas":3}}'];
    const dry = await kubectl("argocd", ...resync, "--dry-run=server", "-o", "jsonpath={.spec.replicas}");
    assert.equal(dry.stdout, "2");
    assert.ok(dry.stderr.includes(warning), dry.stderr);
    const { stderr } = await kubectl("argocd", ...resync);
    assert.ok(stderr.includes(warning), stderr);
    const stored = await as("alice").readNamespacedStatefulSet({ name: "db", namespace: NAMESPACE });
    assert.equal(stored.spec!.replicas, 2, "replicas held");
    assert.equal(stored.metadata!.labels?.["team"], "shop", "the rest of the write applied");
  });

  it("denies a change of the pod template while the migration holds the StatefulSet", async () => {
    await assert.rejects(
      as("argocd").patchNamespacedStatefulSet({ name: "db", namespace: NAMESPACE, body: { spec: { replicas: 3, template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": "now" } } } } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch)),
      (error: { body?: string }) => /held by zoneferry migration [0-9a-f]{12} \(status Pending\): spec\.template cannot change until the migration ends/.test(String(error.body)),
    );
  });

  it("lets zoneferry's runner scale the held StatefulSet and write its status", async () => {
    await kubectl(RUNNER, "scale", "statefulset", "db", "--replicas=0");
    const updated = await annotate(RUNNER, "db", { "zoneferry.io/status": "Running", "zoneferry.io/step": "snapshot" });
    assert.equal(updated.spec!.replicas, 0);
    assert.equal(updated.metadata!.annotations!["zoneferry.io/step"], "snapshot");
  });

  it("refuses a review posted to the webhook's port without the API server's client certificate, and queues nothing", async () => {
    const before = (await jobs()).length;
    const forged = update(statefulSet({ name: "cache", replicas: 1 }), (next) => { next.metadata!.annotations = { "zoneferry.io/target-zones": "cn-shanghai-g" }; });
    const answer = await postReview(`https://127.0.0.1:${server.port}/validate`, readFileSync(certs.caFile), JSON.stringify(reviewBody(forged)));
    assert.equal(answer.status, 401);
    assert.match(answer.body, /client certificate required/);
    assert.equal((await jobs()).length, before);
  });

  it("releases the StatefulSet once the migration has ended", async () => {
    await annotate(RUNNER, "db", { "zoneferry.io/status": "Succeeded", "zoneferry.io/step": "finish" });
    await viewShows("Succeeded");
    const { stdout } = await kubectl("alice", "scale", "statefulset", "db", "--replicas=2");
    assert.match(stdout, /scaled/);
  });
});
