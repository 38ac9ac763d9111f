/**
 * The behaviour every WorkloadClient must have (runner/workload/workload-client.ts), run for both
 * adapters, apps/v1 and OpenKruise's apps.kruise.io/v1beta1, against a real kube-apiserver with the
 * sandbox's Advanced StatefulSet CRD installed. The steps, the status writer and the reconciler rely
 * on exactly these; a third kind passes this suite before any step runs on it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AppsV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { apiStatus } from "../../core/kube/api-status.ts";
import { KRUISE, NATIVE, type WorkloadKind } from "../../core/workload/kinds.ts";
import { workloadClient } from "../../runner/workload/workload-client.ts";
import { controlPlaneBinaries, startControlPlane, type ControlPlane } from "../../sandbox/control-plane.ts";
import { installAdvancedStatefulSetCrd } from "../../sandbox/kruise-controller/crd.ts";
import { advancedSet } from "../support/kruise-sets.ts";
import { ensureNamespace } from "../support/kube-seed.ts";

const NAMESPACES = ["conform-a", "conform-b"];

/** A set of `kind` with no pods (replicas 0): nothing but the API server acts on it here. */
function manifest(kind: WorkloadKind, namespace: string, name: string): Record<string, unknown> {
  const set = advancedSet(namespace, name, { replicas: 0 });
  return { ...set, apiVersion: kind.apiVersion, metadata: { name, namespace, annotations: { "example.com/owner": "team-a" } } };
}

describe("the workload port: what each StatefulSet kind's client does on a real API server", () => {
  let plane: ControlPlane;
  let kubeconfig: KubeConfig;

  async function create(kind: WorkloadKind, namespace: string, name: string): Promise<void> {
    const body = manifest(kind, namespace, name);
    if (kind === NATIVE) await kubeconfig.makeApiClient(AppsV1Api).createNamespacedStatefulSet({ namespace, body });
    else await kubeconfig.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ group: KRUISE.group, version: KRUISE.version, plural: KRUISE.plural, namespace, body });
  }

  before(async () => {
    plane = await startControlPlane(controlPlaneBinaries(process.env));
    kubeconfig = new KubeConfig();
    kubeconfig.loadFromFile(plane.kubeconfig);
    await installAdvancedStatefulSetCrd(kubeconfig);
    for (const namespace of NAMESPACES) await ensureNamespace(kubeconfig, namespace);
    // Each kind gets its own names, and one namesake of the other kind: a client must never answer it.
    for (const kind of [NATIVE, KRUISE]) {
      const prefix = kind === NATIVE ? "native" : "kruise";
      await create(kind, "conform-a", `${prefix}-db`);
      await create(kind, "conform-b", `${prefix}-cache`);
      await create(kind, "conform-a", "shared");
    }
  });
  after(async () => {
    await plane.stop();
  });

  for (const kind of [NATIVE, KRUISE]) {
    const prefix = kind === NATIVE ? "native" : "kruise";
    describe(kind.apiVersion, () => {
      const client = () => workloadClient(kubeconfig, kind);

      it("reads a set with its kind's apiVersion and kind, as the checks read them", async () => {
        const read = await client().read("conform-a", `${prefix}-db`);
        assert.equal(read.apiVersion, kind.apiVersion);
        assert.equal(read.kind, "StatefulSet");
        assert.equal(read.metadata?.annotations?.["example.com/owner"], "team-a");
        assert.match(read.metadata.uid ?? "", /^[0-9a-f-]{36}$/);
        assert.equal(client().kind, kind);
      });

      it("answers a namesake of its own kind only, never the other kind's", async () => {
        const read = await client().read("conform-a", "shared");
        assert.equal(read.apiVersion, kind.apiVersion);
        const other = workloadClient(kubeconfig, kind === NATIVE ? KRUISE : NATIVE);
        assert.notEqual((await other.read("conform-a", "shared")).metadata?.uid, read.metadata?.uid);
      });

      it("refuses to read a set that does not exist with the API server's 404", async () => {
        await assert.rejects(client().read("conform-a", "absent"), (error: unknown) => apiStatus(error) === 404);
      });

      it("merge-patches annotations and replicas under the field manager given, keeping the others", async () => {
        await client().patch("conform-a", `${prefix}-db`, { metadata: { annotations: { "zoneferry.io/status": "Running" } }, spec: { replicas: 0 } }, "zoneferry-conformance");
        const read = await client().read("conform-a", `${prefix}-db`);
        assert.equal(read.metadata?.annotations?.["zoneferry.io/status"], "Running");
        assert.equal(read.metadata.annotations["example.com/owner"], "team-a", "a merge patch keeps what it does not name");
        assert.ok(read.metadata.managedFields?.some((entry) => entry.manager === "zoneferry-conformance"), "managedFields name who wrote");
        await client().patch("conform-a", `${prefix}-db`, { metadata: { annotations: { "zoneferry.io/status": null } } }, "zoneferry-conformance");
        assert.equal((await client().read("conform-a", `${prefix}-db`)).metadata?.annotations?.["zoneferry.io/status"], undefined, "null removes");
      });

      it("refuses a patch carrying a stale resourceVersion with 409, and writes nothing", async () => {
        const before = await client().read("conform-a", `${prefix}-db`);
        await client().patch("conform-a", `${prefix}-db`, { metadata: { annotations: { "example.com/touched": "1" } } }, "someone-else");
        const stale = { metadata: { annotations: { "zoneferry.io/step": "finish" }, resourceVersion: before.metadata?.resourceVersion } };
        await assert.rejects(client().patch("conform-a", `${prefix}-db`, stale, "zoneferry-conformance"), (error: unknown) => apiStatus(error) === 409);
        assert.equal((await client().read("conform-a", `${prefix}-db`)).metadata?.annotations?.["zoneferry.io/step"], undefined);
      });

      it("lists one namespace's sets and every namespace's, each with its apiVersion (a list's items have none on the wire)", async () => {
        const names = (items: readonly { metadata?: { name?: string } }[]): string[] => items.map((item) => item.metadata?.name ?? "").sort();
        const inA = await client().list("conform-a");
        assert.deepEqual(names(inA), [`${prefix}-db`, "shared"].sort());
        const all = await client().listAll();
        assert.deepEqual(names(all), [`${prefix}-cache`, `${prefix}-db`, "shared"].sort());
        assert.ok([...inA, ...all].every((item) => item.apiVersion === kind.apiVersion && item.kind === "StatefulSet"));
      });
    });
  }
});
