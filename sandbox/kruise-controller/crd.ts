/**
 * The Advanced StatefulSet CRD the sandbox installs in place of kruise's chart. Short name `asts`
 * only: kruise's own CRD also claims `sts`, which would make `kubectl get sts` ambiguous with
 * apps/v1 on a cluster that has both. Served and stored as v1beta1 (kruise also serves v1alpha1,
 * which zoneferry never reads).
 */
import { ApiextensionsV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1CustomResourceDefinition } from "@kubernetes/client-node";
import { KRUISE } from "../../core/workload/kinds.ts";
import { waitFor } from "../processes.ts";
import { ADVANCED_STATEFULSET_SCHEMA } from "./crd-schema.ts";

export const ADVANCED_STATEFULSET_CRD_NAME = `${KRUISE.plural}.${KRUISE.group}`;
/** The field manager of the CRD's server-side apply. */
const FIELD_MANAGER = "zoneferry-sandbox";

/** The CRD (a fresh object each call). */
export function advancedStatefulSetCrd(): Record<string, unknown> {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: ADVANCED_STATEFULSET_CRD_NAME, labels: { "app.kubernetes.io/part-of": "zoneferry-sandbox" } },
    spec: {
      group: KRUISE.group,
      scope: "Namespaced",
      names: { kind: KRUISE.kind, listKind: "StatefulSetList", plural: KRUISE.plural, singular: "statefulset", shortNames: ["asts"] },
      versions: [
        {
          name: KRUISE.version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: ADVANCED_STATEFULSET_SCHEMA },
          subresources: {
            status: {},
            scale: { specReplicasPath: ".spec.replicas", statusReplicasPath: ".status.replicas", labelSelectorPath: ".status.labelSelector" },
          },
          additionalPrinterColumns: [
            { name: "Desired", type: "integer", jsonPath: ".spec.replicas" },
            { name: "Current", type: "integer", jsonPath: ".status.replicas" },
            { name: "Ready", type: "integer", jsonPath: ".status.readyReplicas" },
            { name: "Updated", type: "integer", jsonPath: ".status.updatedReplicas" },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
        },
      ],
    },
  };
}

/**
 * Creates or updates the CRD (server-side apply: one idempotent call, no read-modify-write race)
 * and resolves once it is Established, i.e. the API server serves `statefulsets.apps.kruise.io`.
 */
export async function installAdvancedStatefulSetCrd(kubeconfig: KubeConfig, timeoutMs = 30_000): Promise<void> {
  const api = kubeconfig.makeApiClient(ApiextensionsV1Api);
  await api.patchCustomResourceDefinition(
    { name: ADVANCED_STATEFULSET_CRD_NAME, body: advancedStatefulSetCrd(), fieldManager: FIELD_MANAGER, force: true },
    setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
  );
  let last: V1CustomResourceDefinition | undefined;
  await waitFor(async () => {
    last = await api.readCustomResourceDefinition({ name: ADVANCED_STATEFULSET_CRD_NAME });
    return last.status?.conditions?.some((condition) => condition.type === "Established" && condition.status === "True") === true;
  }, timeoutMs, () => `CRD ${ADVANCED_STATEFULSET_CRD_NAME} not Established within ${timeoutMs} ms: conditions ${JSON.stringify(last?.status?.conditions ?? [])}`);
}
