/**
 * What an OpenKruise Advanced StatefulSet may carry that a move cannot work with (issue 15), and
 * the one conflict between the two kinds. Pure over the object and the view, as every check of
 * core/assess-migration.ts: the webhook and the runner's precheck answer the same.
 */
import type { ClusterView } from "../cluster-view.ts";
import { DISK_ZONE_KEY, ZONE_KEY } from "../disk-volumes.ts";
import { KRUISE, NATIVE, workloadKind, type Workload } from "./kinds.ts";

/** kruise's PersistentPodState, asked for on the workload itself (next-capabilities.md §2). */
export const PERSISTENT_POD_STATE = {
  autoGenerate: "kruise.io/auto-generate-persistent-pod-state",
  requiredTopology: "kruise.io/required-persistent-topology",
} as const;

const ZONE_KEYS: ReadonlySet<string> = new Set([ZONE_KEY, DISK_ZONE_KEY, "failure-domain.beta.kubernetes.io/zone"]);

/** Every reason the workload's kind stops a move; empty for an apps/v1 StatefulSet without a namesake. */
export function workloadDenials(sts: Workload, view: ClusterView): string[] {
  const kind = workloadKind(sts.apiVersion);
  const denials = [namesakeDenial(sts, view)];
  if (kind === KRUISE) denials.push(preDeleteDenial(sts), persistentPodStateDenial(sts));
  return denials.filter((denial) => denial !== undefined);
}

/**
 * A StatefulSet of the other kind with the same name in the namespace: both name their claims
 * `<template>-<name>-<ordinal>`, so the claims zoneferry would move may be the other's.
 */
function namesakeDenial(sts: Workload, view: ClusterView): string | undefined {
  const namespace = sts.metadata?.namespace ?? "";
  const name = sts.metadata?.name ?? "";
  const other = workloadKind(sts.apiVersion) === KRUISE ? NATIVE : KRUISE;
  if (view.getStatefulSet(namespace, name, other) === undefined) return undefined;
  return `an ${other.label === "StatefulSet" ? "apps/v1 StatefulSet" : "Advanced StatefulSet (apps.kruise.io)"} of the same name exists in ${namespace}, and both name their claims <template>-${name}-<ordinal>: zoneferry cannot tell whose disks it would move, so rename one of them first`;
}

/**
 * A pre-delete hook holds each pod in PreparingDelete until whoever set the hook releases it: the
 * move takes replicas down (scale to zero, evictions) and waits a bounded time for them to go, so
 * a hook nobody releases in time ends every move rolled back.
 */
function preDeleteDenial(sts: Workload): string | undefined {
  const hook = sts.spec?.lifecycle?.preDelete;
  if (hook === undefined) return undefined;
  const handlers = [...Object.keys(hook.labelsHandler ?? {}).map((key) => `label ${key}`), ...(hook.finalizersHandler ?? []).map((finalizer) => `finalizer ${finalizer}`)];
  if (handlers.length === 0 && hook.markPodNotReady !== true) return undefined;
  return `spec.lifecycle.preDelete (${handlers.join(", ") || "markPodNotReady"}) holds each pod in PreparingDelete until its hook is released, and the move takes every moving replica down and waits a bounded time for it to go: remove spec.lifecycle.preDelete for the move (set it back after) and apply again`;
}

/**
 * kruise's PersistentPodState with a required zone topology pins every re-created pod to the zone
 * it ran in (a required node affinity its webhook injects): a replica whose disk moved would never
 * schedule again.
 */
function persistentPodStateDenial(sts: Workload): string | undefined {
  const annotations = sts.metadata?.annotations ?? {};
  if (annotations[PERSISTENT_POD_STATE.autoGenerate] !== "true") return undefined;
  const topology = (annotations[PERSISTENT_POD_STATE.requiredTopology] ?? "").split(",").map((key) => key.trim());
  const zoneKeys = topology.filter((key) => ZONE_KEYS.has(key));
  if (zoneKeys.length === 0) return undefined;
  return `${PERSISTENT_POD_STATE.autoGenerate}=true with ${PERSISTENT_POD_STATE.requiredTopology} ${zoneKeys.join(",")} makes OpenKruise pin every re-created pod to the zone it ran in, so a replica whose disk moved would never schedule: remove ${PERSISTENT_POD_STATE.requiredTopology} (or make the zone preferred with kruise.io/preferred-persistent-topology) for the move, and apply again`;
}
