/**
 * Forged and outsized input through the webhook's HTTP routes: every answer comes quickly, stays
 * small, and leaves the process's heap as it was.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import request from "supertest";
import { SnapshotClusterView } from "../../core/cluster-view.ts";
import { reviewBody, update } from "../support/admission.ts";
import { clusterWithDisks, statefulSet } from "../support/cluster-fixtures.ts";
import { recordingEnqueuer, testApp } from "../support/webhook-app.ts";

const G = "cn-shanghai-g";
const M = "cn-shanghai-m";

interface Answer {
  readonly allowed: boolean;
  readonly status?: { code: number; message: string };
  readonly warnings?: string[];
}

/** The webhook over HTTP, the cluster holding a 2-replica StatefulSet "db" on disks in M. */
function webhook() {
  const old = statefulSet({ replicas: 2 });
  const enqueuer = recordingEnqueuer();
  const { app } = testApp({ view: new SnapshotClusterView(clusterWithDisks(old, [M, M])), enqueuer });
  const post = async (change: Parameters<typeof update>[1]): Promise<{ answer: Answer; bytes: number; ms: number }> => {
    const body = JSON.stringify(reviewBody(update(old, change)));
    const started = performance.now();
    const response = await request(app).post("/validate").set("Content-Type", "application/json").send(body);
    const ms = performance.now() - started;
    return { answer: (JSON.parse(response.text) as { response: Answer }).response, bytes: response.text.length, ms };
  };
  return { post, enqueuer };
}

describe("bounded input at the webhook", () => {
  it("denies replicas: 2147483647 quickly with a clear message, and the heap stays small", async () => {
    const { post, enqueuer } = webhook();
    const heapBefore = process.memoryUsage().heapUsed;
    const { answer, ms } = await post((next) => {
      next.metadata!.annotations!["zoneferry.io/target-zones"] = G;
      next.spec!.replicas = 2_147_483_647;
    });
    const grown = process.memoryUsage().heapUsed - heapBefore;
    assert.equal(answer.allowed, false);
    assert.match(answer.status!.message, /spec\.replicas is 2147483647; zoneferry moves StatefulSets of at most 1000 replicas \(MAX_REPLICAS/);
    assert.ok(ms < 1_000, `answered in ${ms} ms`);
    assert.ok(grown < 32 * 1024 * 1024, `heap grew by ${grown} bytes`);
    assert.equal(enqueuer.jobs.length, 0);
  });

  it("denies a 2.9 MB retry value with an answer of a few hundred bytes, and queues nothing", async () => {
    const { post, enqueuer } = webhook();
    const { answer, bytes } = await post((next) => {
      next.metadata!.annotations!["zoneferry.io/target-zones"] = G;
      next.metadata!.annotations!["zoneferry.io/retry"] = "r".repeat(2_900_000);
    });
    assert.equal(answer.allowed, false);
    assert.match(answer.status!.message, /annotation zoneferry\.io\/retry: "r{80}"… \(2900000 characters\) is too long; it may have at most 63 characters/);
    assert.ok(bytes < 1_000, `answer of ${bytes} bytes`);
    assert.equal(enqueuer.jobs.length, 0);
  });

  it("answers 3,447 unknown zoneferry.io/ annotations within half a second and 3 kB, naming five and counting the rest", async () => {
    const { post } = webhook();
    const { answer, bytes, ms } = await post((next) => {
      next.metadata!.annotations!["zoneferry.io/target-zones"] = G;
      for (let index = 0; index < 3_447; index++) next.metadata!.annotations![`zoneferry.io/retain-sources-${index}`] = "true";
    });
    assert.equal(answer.allowed, false);
    assert.match(answer.status!.message, /3442 more zoneferry\.io\/ annotations are not zoneferry annotations either; remove them$/);
    assert.ok(ms < 500, `answered in ${ms} ms`);
    assert.ok(bytes < 3_000, `answer of ${bytes} bytes`);
  });
});
