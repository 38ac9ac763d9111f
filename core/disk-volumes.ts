/**
 * What a StatefulSet's replicas stand on: for each ordinal and each volumeClaimTemplate, the PVC,
 * its PV, and, for volumes of the Alibaba disk CSI driver, the disk id, its zone and category as
 * far as the cluster tells them (ECS fills the gaps).
 */
import type { V1PersistentVolume } from "@kubernetes/client-node";
import type { ClusterView } from "./cluster-view.ts";
import type { Workload } from "./workload/kinds.ts";
import { liveOrdinals } from "./workload/ordinals.ts";

export const DISK_CSI_DRIVER = "diskplugin.csi.alibabacloud.com";
export const DISK_ZONE_KEY = "topology.diskplugin.csi.alibabacloud.com/zone";
export const ZONE_KEY = "topology.kubernetes.io/zone";
const LEGACY_ZONE_KEY = "failure-domain.beta.kubernetes.io/zone";
const DISK_TYPE_LABEL = "csi.alibabacloud.com/disktype";
const ZONE_KEYS: ReadonlySet<string> = new Set([DISK_ZONE_KEY, ZONE_KEY, LEGACY_ZONE_KEY]);

/** Every PV label a check reads (volumeZone, provenCategory): the webhook's cache keeps these only. */
export const VOLUME_LABELS: readonly string[] = [ZONE_KEY, DISK_ZONE_KEY, LEGACY_ZONE_KEY, DISK_TYPE_LABEL];

/** The ESSD family: the only categories with instant-access snapshots zoneferry relies on. */
export const ESSD_FAMILY: ReadonlySet<string> = new Set(["cloud_essd", "cloud_auto", "cloud_essd_entry"]);

export interface DiskVolume {
  readonly kind: "disk";
  readonly ordinal: number;
  readonly claim: string;
  readonly persistentVolume: string;
  readonly diskId: string;
  /** From the PV's node affinity or labels; undefined when the PV does not say. */
  readonly zone: string | undefined;
  /** From the PV's disktype label or `volumeAttributes.type`; undefined when neither proves it. */
  readonly category: string | undefined;
}

export interface OtherVolume {
  readonly kind: "other";
  readonly ordinal: number;
  readonly claim: string;
  /** CSI driver or in-tree source, for the warning text. */
  readonly source: string;
}

export interface UnboundClaim {
  readonly kind: "unbound";
  readonly ordinal: number;
  readonly claim: string;
  /** Why it cannot be moved, for the denial text. */
  readonly reason: string;
}

export type ClaimState = DiskVolume | OtherVolume | UnboundClaim;

/** PVC name the StatefulSet controller gives a template's claim for one ordinal. */
export function claimName(template: string, statefulSet: string, ordinal: number): string {
  return `${template}-${statefulSet}-${ordinal}`;
}

const ORDINAL = /^(0|[1-9]\d{0,8})$/;

/** Whether `claim` is named as a claim of a StatefulSet named `statefulSet`: `<template>-<statefulSet>-<ordinal>`. */
export function claimShapedFor(statefulSet: string, claim: string): boolean {
  const at = claim.lastIndexOf(`-${statefulSet}-`);
  return at > 0 && ORDINAL.test(claim.slice(at + statefulSet.length + 2));
}

/** Whether `claim` is the claim of template `template` of StatefulSet `statefulSet` for some ordinal. */
export function claimOfTemplate(template: string, statefulSet: string, claim: string): boolean {
  const prefix = `${template}-${statefulSet}-`;
  return claim.startsWith(prefix) && ORDINAL.test(claim.slice(prefix.length));
}

/**
 * Ordinals the StatefulSet runs now: `replicas` of them from `spec.ordinals.start`, skipping an
 * Advanced StatefulSet's `reserveOrdinals` (core/workload/ordinals.ts).
 */
export function currentOrdinals(sts: Workload): number[] {
  return liveOrdinals(sts.spec);
}

/** Every claim of every current ordinal, in ordinal then template order. */
export function resolveClaims(sts: Workload, view: ClusterView): ClaimState[] {
  const namespace = sts.metadata?.namespace ?? "";
  const name = sts.metadata?.name ?? "";
  const templates = (sts.spec?.volumeClaimTemplates ?? []).map((template) => template.metadata?.name ?? "");
  return currentOrdinals(sts).flatMap((ordinal) =>
    templates.map((template) => resolveClaim(view, namespace, claimName(template, name, ordinal), ordinal)),
  );
}

function resolveClaim(view: ClusterView, namespace: string, claim: string, ordinal: number): ClaimState {
  const pvc = view.getPersistentVolumeClaim(namespace, claim);
  if (pvc === undefined) return { kind: "unbound", ordinal, claim, reason: "does not exist" };
  const phase = pvc.status?.phase ?? "Pending";
  const volumeName = pvc.spec?.volumeName;
  if (phase !== "Bound" || volumeName === undefined || volumeName === "") {
    return { kind: "unbound", ordinal, claim, reason: `is ${phase}, not Bound` };
  }
  const pv = view.getPersistentVolume(volumeName);
  if (pv === undefined) return { kind: "unbound", ordinal, claim, reason: `is bound to PV ${volumeName}, which does not exist` };
  const driver = pv.spec?.csi?.driver;
  if (driver !== DISK_CSI_DRIVER) return { kind: "other", ordinal, claim, source: driver ?? inTreeSource(pv) };
  return {
    kind: "disk",
    ordinal,
    claim,
    persistentVolume: volumeName,
    diskId: pv.spec?.csi?.volumeHandle ?? "",
    zone: volumeZone(pv),
    category: provenCategory(pv),
  };
}

function inTreeSource(pv: V1PersistentVolume): string {
  return sourceField(pv.spec) ?? "unknown source";
}

/**
 * The field of a PV's spec that names its volume source for a message: the first object-valued
 * one that is not the claim, the node affinity or the capacity. First in the spec's key order, so
 * the webhook's cache keeps this field, first, on a PV it strips.
 */
export function sourceField(spec: V1PersistentVolume["spec"]): string | undefined {
  const fields = (spec ?? {}) as Record<string, unknown>;
  return Object.keys(fields).find((field) => typeof fields[field] === "object" && field !== "claimRef" && field !== "nodeAffinity" && field !== "capacity");
}

/** The zone a disk PV is pinned to: its node affinity first (what the scheduler obeys), then labels. */
export function volumeZone(pv: V1PersistentVolume): string | undefined {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [];
  for (const term of terms) {
    for (const expression of term.matchExpressions ?? []) {
      if (ZONE_KEYS.has(expression.key) && expression.operator === "In" && expression.values?.length === 1) return expression.values[0];
    }
  }
  const labels = pv.metadata?.labels ?? {};
  return labels[ZONE_KEY] ?? labels[DISK_ZONE_KEY] ?? labels[LEGACY_ZONE_KEY];
}

/**
 * The disk category a PV proves. The CSI driver's label carries the performance level too
 * (`cloud_essd.PL1`); a list ("cloud_essd,cloud_ssd", from a topology-alltype StorageClass) proves
 * nothing: the driver took the first category the zone offered.
 */
export function provenCategory(pv: V1PersistentVolume): string | undefined {
  const candidates = [pv.metadata?.labels?.[DISK_TYPE_LABEL], pv.spec?.csi?.volumeAttributes?.["type"]];
  const proof = candidates.find((value) => value !== undefined && value !== "" && !value.includes(","));
  return proof?.replace(/\.PL\d$/, "");
}
