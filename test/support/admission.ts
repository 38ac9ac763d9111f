/** AdmissionRequests as the API server sends them for StatefulSets and their scale subresource. */
import type { V1StatefulSet } from "@kubernetes/client-node";
import { randomUUID } from "node:crypto";
import type { AdmissionRequest, KubeObject, Operation } from "../../webhook/admission/review.ts";

export const USER = "alice@example.com";
export const ARGO = "system:serviceaccount:argocd:argocd-application-controller";
export const RUNNER = "system:serviceaccount:zoneferry:zoneferry-runner";

export interface RequestOptions {
  operation?: Operation;
  oldObject?: V1StatefulSet | null;
  user?: string;
  dryRun?: boolean;
}

export function stsRequest(object: V1StatefulSet | null, options: RequestOptions = {}): AdmissionRequest {
  const subject = object ?? options.oldObject ?? null;
  return {
    uid: randomUUID(),
    kind: { group: "apps", version: "v1", kind: "StatefulSet" },
    subResource: undefined,
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

export function scaleRequest(namespace: string, name: string, from: number, to: number, user = USER): AdmissionRequest {
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
  return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request };
}
