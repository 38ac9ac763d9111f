/**
 * Whether a zone has a node the StatefulSet's pods can run on: Ready, not cordoned, taints
 * tolerated, nodeSelector and required node affinity matched. The denial message counts what was
 * seen, so a user can tell "no nodes there" from "nodes there, all cordoned".
 */
import type { V1Node, V1NodeSelectorRequirement, V1PodSpec, V1Taint, V1Toleration } from "@kubernetes/client-node";
import { DISK_ZONE_KEY, ZONE_KEY } from "./disk-volumes.ts";

export type NodeMisfit = "not Ready" | "cordoned" | "tainted" | "excluded by the pod's nodeSelector or node affinity";

/** A node's zone, by the well-known label or the disk CSI driver's own. */
export function nodeZone(node: V1Node): string | undefined {
  const labels = node.metadata?.labels ?? {};
  return labels[ZONE_KEY] ?? labels[DISK_ZONE_KEY];
}

/** Why the pod cannot run on the node, or undefined when it can. */
export function nodeMisfit(node: V1Node, pod: V1PodSpec | undefined): NodeMisfit | undefined {
  const ready = node.status?.conditions?.find((condition) => condition.type === "Ready")?.status === "True";
  if (!ready) return "not Ready";
  if (node.spec?.unschedulable === true) return "cordoned";
  const untolerated = (node.spec?.taints ?? []).filter((taint) => blocks(taint) && !tolerated(taint, pod?.tolerations ?? []));
  if (untolerated.length > 0) return "tainted";
  if (!selected(node, pod)) return "excluded by the pod's nodeSelector or node affinity";
  return undefined;
}

export interface ZoneCapacity {
  readonly zone: string;
  readonly nodesSeen: number;
  /** True when at least one node of the zone can run the pods. */
  readonly usable: boolean;
  /** How many nodes of the zone fail for each reason; counted only when none is usable. */
  readonly misfits: ReadonlyMap<NodeMisfit, number>;
}

export function zoneCapacity(zone: string, nodes: readonly V1Node[], pod: V1PodSpec | undefined): ZoneCapacity {
  const inZone = nodes.filter((node) => nodeZone(node) === zone);
  // One usable node is enough for admission; reasons are only counted for the denial message.
  if (inZone.some((node) => nodeMisfit(node, pod) === undefined)) {
    return { zone, nodesSeen: inZone.length, usable: true, misfits: new Map() };
  }
  const misfits = new Map<NodeMisfit, number>();
  for (const node of inZone) {
    const misfit = nodeMisfit(node, pod)!;
    misfits.set(misfit, (misfits.get(misfit) ?? 0) + 1);
  }
  return { zone, nodesSeen: inZone.length, usable: false, misfits };
}

function blocks(taint: V1Taint): boolean {
  return taint.effect === "NoSchedule" || taint.effect === "NoExecute";
}

function tolerated(taint: V1Taint, tolerations: readonly V1Toleration[]): boolean {
  return tolerations.some((toleration) => {
    if (toleration.effect !== undefined && toleration.effect !== "" && toleration.effect !== taint.effect) return false;
    if (toleration.operator === "Exists") return toleration.key === undefined || toleration.key === "" || toleration.key === taint.key;
    return toleration.key === taint.key && (toleration.value ?? "") === (taint.value ?? "");
  });
}

function selected(node: V1Node, pod: V1PodSpec | undefined): boolean {
  const labels = node.metadata?.labels ?? {};
  const selector = pod?.nodeSelector ?? {};
  if (!Object.entries(selector).every(([label, value]) => labels[label] === value)) return false;
  const terms = pod?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms === undefined || terms.length === 0) return true;
  // Terms are ORed, the expressions of a term ANDed (Kubernetes node affinity semantics).
  return terms.some((term) => (term.matchExpressions ?? []).every((requirement) => requirementHolds(requirement, labels)));
}

/**
 * Whether `labels` meet one requirement of a node selector, or of a label selector (the same shape;
 * a label selector has no Gt or Lt, which the API server refuses there).
 */
export function requirementHolds(requirement: V1NodeSelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const value = labels[requirement.key];
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
      return value !== undefined && Number(value) > Number(values[0]);
    case "Lt":
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
}
