/** AdmissionRequests as the API server sends them for StatefulSets and their scale subresource. */
import type { V1StatefulSet } from "@kubernetes/client-node";
import { randomUUID } from "node:crypto";
import { NATIVE, type WorkloadKind } from "../../core/workload/kinds.ts";
import type { AdmissionRequest, KubeObject, Operation } from "../../webhook/admission/review.ts";

export const USER = "alice@example.com";
export const ARGO = "system:serviceaccount:argocd:argocd-application-controller";
export const RUNNER = "system:serviceaccount:zoneferry:zoneferry-runner";

export interface RequestOptions {
  operation?: Operation;
  oldObject?: V1StatefulSet | null;
  user?: string;
  dryRun?: boolean;
  /** apps/v1 when absent. */
  workload?: WorkloadKind;
}

export function stsRequest(object: V1StatefulSet | null, options: RequestOptions = {}): AdmissionRequest {
  const subject = object ?? options.oldObject ?? null;
  const workload = options.workload ?? NATIVE;
  return {
    uid: randomUUID(),
    kind: { group: workload.group, version: workload.version, kind: "StatefulSet" },
    subResource: undefined,
    workload,
    name: subject?.metadata?.name ?? "",
    namespace: subject?.metadata?.namespace ?? "",
    operation: options.operation ?? (options.oldObject === undefined || options.oldObject === null ? "CREATE" : "UPDATE"),
    userInfo: { username: options.user ?? USER },
    object: object as KubeObject | null,
    oldObject: (options.oldObject ?? null) as KubeObject | null,
    dryRun: options.dryRun ?? false,
  };
}

/** An UPDATE of the `old` StatefulSet into a copy changed by `change`. */
export function update(old: V1StatefulSet, change: (next: V1StatefulSet) => void, options: Omit<RequestOptions, "oldObject"> = {}): AdmissionRequest {
  const next = structuredClone(old);
  change(next);
  return stsRequest(next, { ...options, oldObject: old, operation: "UPDATE" });
}

export function scaleRequest(namespace: string, name: string, from: number, to: number, user = USER, workload: WorkloadKind = NATIVE): AdmissionRequest {
  const scale = (replicas: number): KubeObject => ({
    apiVersion: "autoscaling/v1",
    kind: "Scale",
    metadata: { name, namespace },
    spec: { replicas },
  });
  return {
    uid: randomUUID(),
    kind: { group: "autoscaling", version: "v1", kind: "Scale" },
    subResource: "scale",
    workload,
    name,
    namespace,
    operation: "UPDATE",
    userInfo: { username: user },
    object: scale(to),
    oldObject: scale(from),
    dryRun: false,
  };
}

/** The wire form: an AdmissionReview v1 around a request. */
export function reviewBody(request: AdmissionRequest): Record<string, unknown> {
  // The wire has no `workload`: the API server names the resource, and the webhook reads the kind from it.
  const { workload, ...wire } = request;
  const resource = { group: workload.group, version: workload.version, resource: "statefulsets" };
  return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { ...wire, resource } };
}
