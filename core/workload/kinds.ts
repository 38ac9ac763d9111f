/**
 * The workload kinds zoneferry migrates, one record each: the API they are served from and how
 * messages name them. The one source for "which kinds": the job, the journal, the webhook's
 * informers and the runner's clients all take the kind from here.
 *
 * An OpenKruise Advanced StatefulSet is, for everything zoneferry reads and writes, an apps/v1
 * StatefulSet with more fields (reserveOrdinals, lifecycle, podUpdatePolicy, paused): the object
 * is handled as a `Workload`, and what differs by kind is the API path and the kruise-only checks.
 */
import type { V1StatefulSet, V1StatefulSetSpec } from "@kubernetes/client-node";
import type { OrdinalSpec } from "./ordinals.ts";

export const NATIVE_API_VERSION = "apps/v1";
export const KRUISE_API_VERSION = "apps.kruise.io/v1beta1";
export type WorkloadApiVersion = typeof NATIVE_API_VERSION | typeof KRUISE_API_VERSION;

export interface WorkloadKind {
  readonly apiVersion: WorkloadApiVersion;
  readonly group: string;
  readonly version: string;
  /** Both kinds are named StatefulSet; their plural is the same too. */
  readonly kind: "StatefulSet";
  readonly plural: "statefulsets";
  /** How a message names one: "StatefulSet" or "Advanced StatefulSet". */
  readonly label: string;
}

export const NATIVE: WorkloadKind = Object.freeze({ apiVersion: NATIVE_API_VERSION, group: "apps", version: "v1", kind: "StatefulSet", plural: "statefulsets", label: "StatefulSet" });
export const KRUISE: WorkloadKind = Object.freeze({ apiVersion: KRUISE_API_VERSION, group: "apps.kruise.io", version: "v1beta1", kind: "StatefulSet", plural: "statefulsets", label: "Advanced StatefulSet" });

export const WORKLOAD_KINDS: readonly WorkloadKind[] = [NATIVE, KRUISE];

/** The kind of an apiVersion; absent or unknown is apps/v1's (jobs queued before kinds existed). */
export function workloadKind(apiVersion: string | undefined): WorkloadKind {
  return apiVersion === KRUISE_API_VERSION ? KRUISE : NATIVE;
}

/** The kind of an admission request's resource group, or undefined for one zoneferry does not handle. */
export function kindOfGroup(group: string | undefined): WorkloadKind | undefined {
  return WORKLOAD_KINDS.find((kind) => kind.group === (group ?? ""));
}

/** The fields of an Advanced StatefulSet's spec beyond apps/v1's that zoneferry reads. */
export interface KruiseSpecFields extends OrdinalSpec {
  readonly lifecycle?: { readonly preDelete?: LifecycleHook; readonly inPlaceUpdate?: LifecycleHook };
  readonly updateStrategy?: V1StatefulSetSpec["updateStrategy"] & {
    readonly rollingUpdate?: { readonly partition?: number; readonly paused?: boolean; readonly podUpdatePolicy?: string; readonly maxUnavailable?: number | string };
  };
}

export interface LifecycleHook {
  readonly labelsHandler?: Readonly<Record<string, string>>;
  readonly finalizersHandler?: readonly string[];
  readonly markPodNotReady?: boolean;
}

/** A StatefulSet of either kind, as read from the API server. */
export type Workload = V1StatefulSet & { spec?: V1StatefulSetSpec & KruiseSpecFields };
