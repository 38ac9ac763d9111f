/**
 * The caller check (WEBHOOK_CLIENT_CA_FILE) on a real HTTPS server: the admission routes answer
 * only a caller whose client certificate the configured CA signed; probes and scrapes reach the
 * health and metrics routes without one.
 */
import assert from "node:assert/strict";
import { copyFileSync, readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { after, before, describe, it } from "node:test";
import type { ClientCert } from "../../sandbox/pki.ts";
import { SnapshotClusterView } from "../../core/cluster-view.ts";
import { createApp } from "../../webhook/app.ts";
import { createMetrics } from "../../webhook/metrics.ts";
import { startTlsServer, type TlsServer } from "../../webhook/tls-server.ts";
import { RUNNER, reviewBody, update } from "../support/admission.ts";
import { makeCerts, makeClientCa, type CertFiles } from "../support/certs.ts";
import { cloudAnswering } from "../support/cloud-answers.ts";
import { clusterWithDisks, statefulSet } from "../support/cluster-fixtures.ts";
import { capturingLogger, recordingEnqueuer } from "../support/webhook-app.ts";

interface Reply {
  readonly status: number;
  readonly body: string;
}

describe("the caller check of the webhook's port", () => {
  const old = statefulSet({ replicas: 2 });
  const review = JSON.stringify(reviewBody(update(old, (next) => { next.metadata!.annotations!["zoneferry.io/target-zones"] = "cn-shanghai-g"; })));
  const clientCa = makeClientCa("zoneferry-test-apiserver-client-ca");
  const apiServer = clientCa.client("kube-apiserver");
  const enqueuer = recordingEnqueuer();
  const metrics = createMetrics({ processMetrics: false });
  const { logger } = capturingLogger();
  let certs: CertFiles;
  let server: TlsServer;

  const call = (path: string, client?: ClientCert, method = "POST"): Promise<Reply> => new Promise((resolve, reject) => {
    const identity = client === undefined ? {} : { cert: readFileSync(client.certFile), key: readFileSync(client.keyFile) };
    const req = httpsRequest(`https://127.0.0.1:${server.port}${path}`, { method, ca: readFileSync(certs.caFile), headers: { "content-type": "application/json" }, agent: false, ...identity }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => { body += chunk.toString(); });
      res.on("end", () => { resolve({ status: res.statusCode ?? 0, body }); });
    });
    req.once("error", reject);
    req.end(method === "POST" ? review : undefined);
  });

  before(async () => {
    certs = makeCerts();
    const app = createApp({
      context: { view: new SnapshotClusterView(clusterWithDisks(old, ["cn-shanghai-m", "cn-shanghai-m"])), cloud: cloudAnswering(), runnerIdentity: RUNNER },
      enqueuer,
      metrics,
      logger,
      bodyLimitBytes: 3 * 1024 * 1024,
      clientCertificateRequired: true,
    });
    server = await startTlsServer(app, { port: 0, host: "127.0.0.1", certFile: certs.certFile, keyFile: certs.keyFile, clientCaFile: clientCa.caFile, logger, pollIntervalMs: 100 });
  });
  after(async () => { await server.close(); });

  it("answers the API server's client certificate as it answers any review, and queues the migration", async () => {
    const reply = await call("/validate", apiServer);
    assert.equal(reply.status, 200);
    assert.equal((JSON.parse(reply.body) as { response: { allowed: boolean } }).response.allowed, true);
    assert.equal(enqueuer.jobs.length, 1);
  });

  it("refuses /validate and /mutate with 401 to a caller without a client certificate, and queues nothing", async () => {
    const queued = enqueuer.jobs.length;
    for (const path of ["/validate", "/mutate"]) {
      const reply = await call(path);
      assert.equal(reply.status, 401, path);
      assert.match(reply.body, /^client certificate required: this webhook answers only the Kubernetes API server/);
    }
    assert.equal(enqueuer.jobs.length, queued);
  });

  it("refuses with 403 a client certificate another CA signed", async () => {
    const stranger = makeClientCa("someone-else").client("kube-apiserver");
    const reply = await call("/validate", stranger);
    assert.equal(reply.status, 403);
    assert.match(reply.body, /client certificate not signed by the CA this webhook trusts/);
  });

  it("keeps /healthz, /readyz and /metrics open to callers without a certificate (kubelet probes, Prometheus)", async () => {
    for (const path of ["/healthz", "/readyz", "/metrics"]) assert.equal((await call(path, undefined, "GET")).status, 200, path);
  });

  it("counts the callers it refused, by reason", async () => {
    const counted = await metrics.registry.getSingleMetricAsString("zoneferry_webhook_refused_callers_total");
    assert.match(counted, /reason="missing"\} 2/);
    assert.match(counted, /reason="untrusted"\} 1/);
  });

  it("trusts a replaced client CA file without a restart", async () => {
    const next = makeClientCa("zoneferry-test-rotated-client-ca");
    const rotated = next.client("kube-apiserver");
    copyFileSync(next.caFile, clientCa.caFile);
    const deadline = Date.now() + 10_000;
    while ((await call("/validate", rotated)).status !== 200) {
      assert.ok(Date.now() < deadline, "the new client CA was never trusted");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal((await call("/validate", apiServer)).status, 403, "the old CA's certificate no longer passes");
  });
});
