/** The benchmark's cluster: 3 zones, 300 nodes, a StatefulSet of 100 replicas with 2 volumes each. */
import type { ClusterObjects } from "../core/cluster-view.ts";
import { clusterWithDisks, nodes, statefulSet } from "../test/support/cluster-fixtures.ts";
import { reviewBody, update } from "../test/support/admission.ts";

export function benchCluster(): { objects: ClusterObjects; body: string } {
  const old = statefulSet({ name: "orders", replicas: 100, templates: ["data", "wal"] });
  const zonesByOrdinal = Array.from({ length: 100 }, () => "cn-shanghai-m");
  const objects = { ...clusterWithDisks(old, zonesByOrdinal), nodes: nodes(100) };
  // The most frequent admission in GitOps: a server-side dry run (Argo CD diff, Flux drift check)
  // of a new request, which runs every check.
  const admission = update(old, (next) => {
    next.metadata!.annotations!["zoneferry.io/target-zones"] = "cn-shanghai-b,cn-shanghai-g";
  }, { dryRun: true });
  return { objects, body: JSON.stringify(reviewBody(admission)) };
}
