/**
 * One server of the webhook benchmark, in its own process so the load generator does not share
 * its event loop: `zoneferry` (the real app, a view of 3 zones, 300 nodes, 100 replicas x 2
 * volumes) or `floor` (a minimal express HTTPS server that always allows). Prints its port.
 */
import express from "express";
import { createServer } from "node:https";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { SnapshotClusterView } from "../core/cluster-view.ts";
import { createApp } from "../webhook/app.ts";
import { createLogger } from "../webhook/logger.ts";
import { createMetrics } from "../webhook/metrics.ts";
import { cloudAnswering } from "../test/support/cloud-answers.ts";
import { benchCluster } from "./bench-cluster.ts";

const [mode, certFile, keyFile] = process.argv.slice(2);
const tls = { cert: readFileSync(certFile!), key: readFileSync(keyFile!), minVersion: "TLSv1.2" as const };

function floorApp(): express.Express {
  const app = express();
  app.post("/validate", express.json({ limit: "3mb" }), (req, res) => {
    const uid = (req.body as { request?: { uid?: string } }).request?.uid ?? "";
    res.json({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid, allowed: true } });
  });
  return app;
}

function zoneferryApp(): express.Express {
  const metrics = createMetrics({ processMetrics: false });
  return createApp({
    context: { view: new SnapshotClusterView(benchCluster().objects), cloud: cloudAnswering(), runnerIdentity: "runner" },
    enqueuer: { enqueue: () => Promise.resolve("queued") },
    metrics,
    // Logging stays on (one JSON line per admission, as in production), written to /dev/null.
    logger: createLogger("info", { write: () => undefined }),
    bodyLimitBytes: 3 * 1024 * 1024,
  });
}

const server = createServer(tls, mode === "floor" ? floorApp() : zoneferryApp());
server.keepAliveTimeout = 90_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});

// Exit cleanly on SIGINT so `--cpu-prof` (BENCH_PROF=1) can write its profile.
process.once("SIGINT", () => { server.close(); server.closeAllConnections(); process.exit(0); });
