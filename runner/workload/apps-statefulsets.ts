/** The workload port's adapter for apps/v1 StatefulSets (runner/workload/workload-client.ts). */
import { AppsV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { NATIVE } from "../../core/workload/kinds.ts";
import { stamped } from "./stamped.ts";
import type { WorkloadClient } from "./workload-client.ts";

const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export function appsStatefulSets(kubeconfig: KubeConfig): WorkloadClient {
  const apps = kubeconfig.makeApiClient(AppsV1Api);
  return {
    kind: NATIVE,
    read: async (namespace, name) => stamped(NATIVE, await apps.readNamespacedStatefulSet({ namespace, name })),
    patch: async (namespace, name, body, fieldManager) => {
      await apps.patchNamespacedStatefulSet({ namespace, name, body, fieldManager }, MERGE);
    },
    list: async (namespace) => (await apps.listNamespacedStatefulSet({ namespace })).items.map((item) => stamped(NATIVE, item)),
    listAll: async () => (await apps.listStatefulSetForAllNamespaces()).items.map((item) => stamped(NATIVE, item)),
  };
}
