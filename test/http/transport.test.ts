import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fastJsonPatch from "fast-json-patch";
import fc from "fast-check";
import request from "supertest";
import { SnapshotClusterView } from "../../core/cluster-view.ts";
import { reviewBody, update } from "../support/admission.ts";
import { clusterWithDisks, statefulSet } from "../support/cluster-fixtures.ts";
import { recordingEnqueuer, testApp } from "../support/webhook-app.ts";

const G = "cn-shanghai-g";
const M = "cn-shanghai-m";

function moveReview() {
  const old = statefulSet({ replicas: 2 });
  const admission = update(old, (next) => { next.metadata!.annotations!["zoneferry.io/target-zones"] = G; });
  return { admission, body: reviewBody(admission), view: new SnapshotClusterView(clusterWithDisks(old, [M, M])) };
}

interface ReviewResponse {
  apiVersion: string;
  kind: string;
  response: { uid: string; allowed: boolean; status?: { code: number; message: string }; patch?: string; patchType?: string; warnings?: string[] };
}

async function post(app: ReturnType<typeof testApp>["app"], path: string, body: string | object, contentType = "application/json"): Promise<ReviewResponse> {
  const payload = typeof body === "string" ? body : JSON.stringify(body);
  const response = await request(app).post(path).set("Content-Type", contentType).send(payload);
  assert.equal(response.status, 200, "every admission is answered with HTTP 200");
  assert.match(String(response.headers["content-type"]), /application\/json/);
  const review = JSON.parse(response.text) as ReviewResponse;
  assert.equal(review.apiVersion, "admission.k8s.io/v1");
  assert.equal(review.kind, "AdmissionReview");
  return review;
}

describe("answering malformed admission requests inside an AdmissionReview", () => {
  const { app } = testApp({ view: new SnapshotClusterView({}) });

  it("answers malformed JSON with allowed false and code 400", async () => {
    const review = await post(app, "/validate", '{"apiVersion": "admission.k8s.io/v1", "kind": ');
    assert.equal(review.response.allowed, false);
    assert.equal(review.response.status?.code, 400);
    assert.match(review.response.status.message, /^request body is not valid JSON: /);
    assert.equal(review.response.uid, "");
  });

  it("answers an empty body with code 400", async () => {
    const review = await post(app, "/mutate", "");
    assert.deepEqual(review.response, { uid: "", allowed: false, status: { code: 400, message: "request body is empty" } });
  });

  it("answers a body that is not JSON by content type with code 400", async () => {
    const review = await post(app, "/validate", "uid=1", "application/x-www-form-urlencoded");
    assert.deepEqual(review.response, { uid: "", allowed: false, status: { code: 400, message: "contentType=application/x-www-form-urlencoded, expected application/json" } });
  });

  it("answers a review of another API version with code 400 and the request's uid", async () => {
    const review = await post(app, "/validate", { apiVersion: "admission.k8s.io/v1beta1", kind: "AdmissionReview", request: { uid: "abc" } });
    assert.deepEqual(review.response, { uid: "abc", allowed: false, status: { code: 400, message: "expected kind AdmissionReview of admission.k8s.io/v1, got AdmissionReview of admission.k8s.io/v1beta1" } });
  });

  it("answers a request for a kind zoneferry does not serve with code 400 and the request's uid", async () => {
    const { admission } = moveReview();
    const body = reviewBody({ ...admission, kind: { group: "apps", version: "v1", kind: "Deployment" } });
    const review = await post(app, "/validate", body);
    assert.deepEqual(review.response, { uid: admission.uid, allowed: false, status: { code: 400, message: "zoneferry serves StatefulSets of apps/v1 and apps.kruise.io/v1beta1 and their scale subresource, not apps/v1 Deployment" } });
  });

  it("answers a StatefulSet whose spec has the wrong shape with code 400", async () => {
    const { admission } = moveReview();
    const body = reviewBody({ ...admission, object: { metadata: { name: "db" }, spec: { template: "nginx" } } });
    const review = await post(app, "/validate", body);
    assert.deepEqual(review.response.status, { code: 400, message: "spec.template is not an object" });
  });

  it("answers a body over the 3 MiB limit with code 413", async () => {
    const { body } = moveReview();
    const padded = JSON.stringify({ ...body, padding: "x".repeat(3 * 1024 * 1024) });
    const review = await post(app, "/validate", padded);
    assert.deepEqual(review.response, { uid: "", allowed: false, status: { code: 413, message: "request body is larger than 3145728 bytes" } });
  });

  it("answers a fault inside the webhook with code 500 and the request's uid, and keeps serving", async () => {
    const { admission, body, view: broken } = moveReview();
    broken.listNodes = () => { throw new Error("node cache corrupted"); };
    const { app: failing } = testApp({ view: broken });
    const review = await post(failing, "/validate", body);
    assert.deepEqual(review.response, { uid: admission.uid, allowed: false, status: { code: 500, message: "zoneferry webhook internal error: node cache corrupted" } });
    const health = await request(failing).get("/healthz");
    assert.equal(health.status, 200);
  });
});

describe("answering well-formed admission requests", () => {
  it("echoes the request's uid and admits a valid move", async () => {
    const { admission, body, view } = moveReview();
    const enqueuer = recordingEnqueuer();
    const { app } = testApp({ view, enqueuer });
    const review = await post(app, "/validate", body);
    assert.equal(review.response.uid, admission.uid);
    assert.equal(review.response.allowed, true);
    assert.equal(enqueuer.jobs.length, 1);
  });

  it("carries a denial's message to the API server with code 403", async () => {
    const { admission, view } = moveReview();
    admission.object!.metadata!.annotations!["zoneferry.io/target-zones"] = "cn-shanghai-x";
    const { app } = testApp({ view });
    const review = await post(app, "/validate", reviewBody(admission));
    assert.equal(review.response.allowed, false);
    assert.equal(review.response.status?.code, 403);
    assert.match(review.response.status.message, /target zone cn-shanghai-x has no Ready, schedulable node/);
  });

  it("returns a patch that applies cleanly and yields exactly the stamped annotations", async () => {
    const { admission, body, view } = moveReview();
    const { app } = testApp({ view });
    const review = await post(app, "/mutate", body);
    assert.equal(review.response.patchType, "JSONPatch");
    const operations = JSON.parse(Buffer.from(review.response.patch!, "base64").toString()) as fastJsonPatch.Operation[];
    const patched = fastJsonPatch.applyPatch(structuredClone(admission.object), operations, true, false).newDocument;
    const before = admission.object!.metadata!.annotations!;
    const after = patched!.metadata!.annotations!;
    const added = Object.keys(after).filter((key) => !(key in before)).sort();
    assert.deepEqual(added, ["zoneferry.io/migration-id", "zoneferry.io/status"]);
    assert.equal(after["zoneferry.io/status"], "Pending");
    assert.match(after["zoneferry.io/migration-id"]!, /^[0-9a-f]{12}$/);
    assert.deepEqual({ ...patched!.metadata, annotations: undefined }, { ...admission.object!.metadata, annotations: undefined });
    assert.deepEqual(patched!.spec, admission.object!.spec);
  });

  it("answers a dry run as the real request, with the plan as its first warning, and queues nothing", async () => {
    const { admission, view } = moveReview();
    const enqueuer = recordingEnqueuer();
    const { app } = testApp({ view, enqueuer });
    const dry = await post(app, "/validate", reviewBody({ ...admission, dryRun: true }));
    assert.equal(enqueuer.jobs.length, 0);
    const real = await post(app, "/validate", reviewBody(admission));
    const [plan, ...warnings] = dry.response.warnings ?? [];
    assert.match(plan ?? "", /^dry run: plan for db to cn-shanghai-g: db-0 → cn-shanghai-g/);
    assert.deepEqual({ ...dry.response, warnings }, real.response);
    assert.equal(enqueuer.jobs.length, 1);
  });

  it("admits with a warning when the job could not be queued in time", async () => {
    const { body, view } = moveReview();
    const { app } = testApp({ view, enqueuer: recordingEnqueuer("timeout") });
    const review = await post(app, "/validate", body);
    assert.equal(review.response.allowed, true);
    assert.ok(review.response.warnings?.includes("zoneferry could not queue this migration right now; the runner's reconciler queues it shortly"));
  });
});

describe("health, readiness, metrics and logs", () => {
  it("is live at once but ready only once the cluster view has synced", async () => {
    const view = new SnapshotClusterView({});
    let synced = false;
    view.synced = () => synced;
    const { app } = testApp({ view });
    assert.equal((await request(app).get("/healthz")).status, 200);
    const before = await request(app).get("/readyz");
    assert.equal(before.status, 503);
    assert.equal(before.text, "cluster view not synced yet");
    synced = true;
    assert.equal((await request(app).get("/readyz")).status, 200);
  });

  it("counts admissions by handler, operation and decision, and their latency", async () => {
    const { body, view } = moveReview();
    const { app } = testApp({ view });
    await post(app, "/validate", body);
    await post(app, "/mutate", body);
    await post(app, "/validate", "{");
    const text = (await request(app).get("/metrics")).text;
    assert.match(text, /zoneferry_webhook_admissions_total\{handler="validate",operation="UPDATE",decision="allowed"\} 1/);
    assert.match(text, /zoneferry_webhook_admissions_total\{handler="mutate",operation="UPDATE",decision="allowed"\} 1/);
    assert.match(text, /zoneferry_webhook_admissions_total\{handler="validate",operation="unknown",decision="errored"\} 1/);
    assert.match(text, /zoneferry_webhook_admission_duration_seconds_count\{handler="validate"\} 2/);
  });

  it("writes one JSON log line per admission with uid, object, decision and duration", async () => {
    const { admission, body, view } = moveReview();
    const { app, logs } = testApp({ view });
    await post(app, "/validate", body);
    const lines = logs.filter((line) => line["msg"] === "admission");
    assert.equal(lines.length, 1);
    const line = lines[0]!;
    assert.equal(line["uid"], admission.uid);
    assert.equal(line["object"], "shop/db");
    assert.equal(line["decision"], "allowed");
    assert.equal(line["operation"], "UPDATE");
    assert.equal(typeof line["durationMs"], "number");
  });
});

describe("surviving any input", () => {
  it("answers any JSON body of any shape with HTTP 200 and a well-formed AdmissionReview", async () => {
    const { body, view } = moveReview();
    const { app } = testApp({ view });
    // Arbitrary JSON, and valid reviews with one subtree replaced by arbitrary JSON.
    const paths = ["request", "request.uid", "request.kind", "request.object", "request.object.metadata", "request.object.metadata.annotations", "request.object.spec", "request.object.spec.replicas", "request.object.spec.volumeClaimTemplates", "request.oldObject", "request.userInfo", "request.operation", "request.dryRun", "request.subResource"];
    const corrupted = fc.tuple(fc.constantFrom(...paths), fc.jsonValue()).map(([path, value]) => {
      const copy = structuredClone<Record<string, unknown>>(body);
      const keys = path.split(".");
      let cursor = copy;
      for (const key of keys.slice(0, -1)) cursor = cursor[key] as Record<string, unknown>;
      cursor[keys.at(-1)!] = value;
      return copy;
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), corrupted), fc.constantFrom("/validate", "/mutate"), async (value, path) => {
        const review = await post(app, path, JSON.stringify(value));
        assert.equal(typeof review.response.allowed, "boolean");
        assert.equal(typeof review.response.uid, "string");
        if (!review.response.allowed) assert.ok(review.response.status!.code >= 400 && review.response.status!.code < 600);
      }),
      { numRuns: 300 },
    );
    assert.equal((await request(app).get("/healthz")).status, 200, "the process is alive");
  });
});
