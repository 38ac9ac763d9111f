/**
 * The workload port's adapter for OpenKruise Advanced StatefulSets (apps.kruise.io/v1beta1, a
 * custom resource: client-node's custom objects API, with the same merge patches as apps/v1).
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { KRUISE, type Workload } from "../../core/workload/kinds.ts";
import { stamped } from "./stamped.ts";
import type { WorkloadClient } from "./workload-client.ts";

const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const RESOURCE = { group: KRUISE.group, version: KRUISE.version, plural: KRUISE.plural } as const;

interface WorkloadList {
  readonly items?: readonly Workload[];
}

export function kruiseStatefulSets(kubeconfig: KubeConfig): WorkloadClient {
  const custom = kubeconfig.makeApiClient(CustomObjectsApi);
  const items = (list: unknown): Workload[] => ((list as WorkloadList).items ?? []).map((item) => stamped(KRUISE, item));
  return {
    kind: KRUISE,
    read: async (namespace, name) => stamped(KRUISE, (await custom.getNamespacedCustomObject({ ...RESOURCE, namespace, name })) as Workload),
    patch: async (namespace, name, body, fieldManager) => {
      await custom.patchNamespacedCustomObject({ ...RESOURCE, namespace, name, body, fieldManager }, MERGE);
    },
    list: async (namespace) => items(await custom.listNamespacedCustomObject({ ...RESOURCE, namespace })),
    listAll: async () => items(await custom.listClusterCustomObject(RESOURCE)),
  };
}
