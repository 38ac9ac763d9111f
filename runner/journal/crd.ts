/**
 * Installs the ZoneMigration CRD from the chart (charts/zoneferry/crds/), the one source of truth for its schema: the
 * chart ships the same file, and the runner and the sandbox install it with this function.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ApiextensionsV1Api, loadYaml, type KubeConfig, type V1CustomResourceDefinition } from "@kubernetes/client-node";
import { apiStatus, tolerating } from "../../core/kube/api-status.ts";

/** Path of the CRD manifest in the repository. */
export const ZONE_MIGRATION_CRD_FILE = join(import.meta.dirname, "../../charts/zoneferry/crds/zonemigrations.zoneferry.io.yaml");

export interface InstallCrdOptions {
  /**
   * How long to wait for the API server to serve the new type.
   * @defaultValue 30_000 — Established takes well under a second on an idle API server; the margin is for a loaded CI.
   */
  readonly timeoutMs?: number;
}

/** The CRD as the manifest declares it (a fresh object each call). */
export function zoneMigrationCrd(): V1CustomResourceDefinition {
  // client-node's loadYaml maps `x-kubernetes-*` keys to its model's names, so the object
  // survives the serializer on the way back out.
  return loadYaml<V1CustomResourceDefinition>(readFileSync(ZONE_MIGRATION_CRD_FILE, "utf8"));
}

/**
 * Creates the CRD, or replaces an existing one with the manifest (an upgrade), then waits until it
 * is Established, i.e. the API server serves `zonemigrations.zoneferry.io`.
 */
export async function installZoneMigrationCrd(kubeconfig: KubeConfig, options: InstallCrdOptions = {}): Promise<V1CustomResourceDefinition> {
  const api = kubeconfig.makeApiClient(ApiextensionsV1Api);
  const desired = zoneMigrationCrd();
  const name = desired.metadata!.name!;
  const created = await tolerating(409, () => api.createCustomResourceDefinition({ body: desired }));
  if (created === undefined) await replaceWithRetry(api, desired);
  // Established means the API server serves the type. Its very first write still takes ~2 s
  // (the API server readies the type's write path lazily); that is paid once, by the first journal.
  return waitEstablished(api, name, options.timeoutMs ?? 30_000);
}

/** Replaces the stored CRD with `desired`, re-reading on a conflict with another writer. */
async function replaceWithRetry(api: ApiextensionsV1Api, desired: V1CustomResourceDefinition): Promise<void> {
  const name = desired.metadata!.name!;
  for (let attempt = 1; ; attempt++) {
    const current = await api.readCustomResourceDefinition({ name });
    const body = { ...desired, metadata: { ...desired.metadata, resourceVersion: current.metadata!.resourceVersion! } };
    try {
      await api.replaceCustomResourceDefinition({ name, body });
      return;
    } catch (error) {
      if (apiStatus(error) !== 409 || attempt >= 5) throw error;
    }
  }
}

async function waitEstablished(api: ApiextensionsV1Api, name: string, timeoutMs: number): Promise<V1CustomResourceDefinition> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const crd = await api.readCustomResourceDefinition({ name });
    const established = crd.status?.conditions?.some((condition) => condition.type === "Established" && condition.status === "True");
    if (established === true) return crd;
    if (Date.now() > deadline) {
      throw new Error(`CRD ${name} not Established within ${timeoutMs} ms: conditions ${JSON.stringify(crd.status?.conditions ?? [])}`);
    }
    await sleep(100);
  }
}
