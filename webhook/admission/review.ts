/**
 * AdmissionReview (admission.k8s.io/v1) as the API server sends it, and its decoding from
 * untrusted JSON: anything that is not a well-formed review of a kind we serve becomes a
 * `DecodeFailure`, never an exception.
 */

import { KRUISE, NATIVE, kindOfGroup, type WorkloadKind } from "../../core/workload/kinds.ts";

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";

export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
const OPERATIONS: ReadonlySet<string> = new Set(["CREATE", "UPDATE", "DELETE", "CONNECT"]);

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface UserInfo {
  readonly username: string;
  readonly groups?: readonly string[];
}

/** Any Kubernetes object as it arrives: only metadata is typed, the rest is read defensively. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    [field: string]: unknown;
  };
  spec?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: GroupVersionKind;
  readonly subResource: string | undefined;
  /**
   * Which StatefulSet kind the request is about: from the object's group, or, for a Scale (whose
   * kind is autoscaling/v1 for both), from the resource's group.
   */
  readonly workload: WorkloadKind;
  readonly name: string;
  readonly namespace: string;
  readonly operation: Operation;
  readonly userInfo: UserInfo;
  readonly object: KubeObject | null;
  readonly oldObject: KubeObject | null;
  readonly dryRun: boolean;
}

export interface AdmissionStatus {
  readonly code: number;
  readonly message: string;
  readonly reason?: string;
}

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: AdmissionStatus;
  readonly warnings?: readonly string[];
  readonly patchType?: "JSONPatch";
  /** Base64 of the RFC 6902 patch. */
  readonly patch?: string;
}

export interface AdmissionReview {
  readonly apiVersion: typeof ADMISSION_API_VERSION;
  readonly kind: "AdmissionReview";
  readonly response: AdmissionResponse;
}

/**
 * The kinds the webhook serves: StatefulSets of apps/v1 and of OpenKruise (apps.kruise.io/v1beta1;
 * its v1alpha1 arrives converted, the configurations match with matchPolicy Equivalent), and their
 * scale subresource.
 */
const SERVED_KINDS: readonly GroupVersionKind[] = [
  { group: NATIVE.group, version: NATIVE.version, kind: "StatefulSet" },
  { group: KRUISE.group, version: KRUISE.version, kind: "StatefulSet" },
  { group: "autoscaling", version: "v1", kind: "Scale" },
];

export type Decoded = { readonly ok: true; readonly request: AdmissionRequest } | DecodeFailure;

export interface DecodeFailure {
  readonly ok: false;
  /** The request's uid when it could be read, so the answer still pairs with the request. */
  readonly uid: string;
  readonly message: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Validates the shape of a parsed body; the message says what is wrong. */
export function decodeAdmissionReview(body: unknown): Decoded {
  if (!isRecord(body)) return fail("", "the body is not a JSON object");
  const request = body["request"];
  const uid = isRecord(request) && typeof request["uid"] === "string" ? request["uid"] : "";
  if (body["kind"] !== "AdmissionReview" || body["apiVersion"] !== ADMISSION_API_VERSION) {
    return fail(uid, `expected kind AdmissionReview of ${ADMISSION_API_VERSION}, got ${describeKind(body)}`);
  }
  if (!isRecord(request)) return fail(uid, "the AdmissionReview has no request");
  if (uid === "") return fail(uid, "the request has no uid");
  return decodeRequest(request, uid);
}

function decodeRequest(request: Record<string, unknown>, uid: string): Decoded {
  const kind = request["kind"];
  if (!isGvk(kind)) return fail(uid, "request.kind is not a group/version/kind");
  const subResource = optionalString(request["subResource"]);
  const workload = servedWorkload(kind, subResource, request["resource"]);
  if (workload === undefined) {
    return fail(uid, `zoneferry serves StatefulSets of apps/v1 and apps.kruise.io/v1beta1 and their scale subresource, not ${gvkText(kind)}${subResource === undefined ? "" : `/${subResource}`}`);
  }
  const operation = request["operation"];
  if (typeof operation !== "string" || !OPERATIONS.has(operation)) return fail(uid, "request.operation is not CREATE, UPDATE, DELETE or CONNECT");
  const object = request["object"] ?? null;
  const oldObject = request["oldObject"] ?? null;
  if (!isObjectOrNull(object) || !isObjectOrNull(oldObject)) return fail(uid, "request.object and request.oldObject must be Kubernetes objects");
  const shapeProblem = objectProblem(object) ?? objectProblem(oldObject);
  if (shapeProblem !== undefined) return fail(uid, shapeProblem);
  const specProblem = kind.kind === "StatefulSet" ? (statefulSetProblem(object) ?? statefulSetProblem(oldObject)) : undefined;
  if (specProblem !== undefined) return fail(uid, specProblem);
  const userInfo = request["userInfo"];
  return {
    ok: true,
    request: {
      uid,
      kind,
      subResource,
      workload,
      name: optionalString(request["name"]) ?? "",
      namespace: optionalString(request["namespace"]) ?? "",
      operation: operation as Operation,
      userInfo: { username: isRecord(userInfo) ? (optionalString(userInfo["username"]) ?? "") : "" },
      object,
      oldObject,
      dryRun: request["dryRun"] === true,
    },
  };
}

function fail(uid: string, message: string): DecodeFailure {
  return { ok: false, uid, message };
}

function describeKind(body: Record<string, unknown>): string {
  const kind = typeof body["kind"] === "string" ? body["kind"] : "no kind";
  const apiVersion = typeof body["apiVersion"] === "string" ? body["apiVersion"] : "no apiVersion";
  return `${kind} of ${apiVersion}`;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function isGvk(value: unknown): value is GroupVersionKind {
  return isRecord(value) && typeof value["group"] === "string" && typeof value["version"] === "string" && typeof value["kind"] === "string";
}

function gvkText(kind: GroupVersionKind): string {
  return `${kind.group === "" ? "core" : kind.group}/${kind.version} ${kind.kind}`;
}

/** The StatefulSet kind a served request is about; undefined for a kind zoneferry does not serve. */
function servedWorkload(kind: GroupVersionKind, subResource: string | undefined, resource: unknown): WorkloadKind | undefined {
  const served = SERVED_KINDS.some((candidate) => candidate.group === kind.group && candidate.version === kind.version && candidate.kind === kind.kind);
  if (!served || (kind.kind === "Scale") !== (subResource === "scale")) return undefined;
  if (kind.kind !== "Scale") return kindOfGroup(kind.group);
  // A Scale names its owner only in request.resource; the API server always sends it.
  const group = isRecord(resource) && typeof resource["group"] === "string" ? resource["group"] : NATIVE.group;
  return kindOfGroup(group);
}

function isObjectOrNull(value: unknown): value is KubeObject | null {
  return value === null || isRecord(value);
}

/** The fields handlers rely on must have the types Kubernetes gives them. */
function objectProblem(object: KubeObject | null): string | undefined {
  if (object === null) return undefined;
  const metadata = object.metadata;
  if (metadata !== undefined && !isRecord(metadata)) return "an object's metadata is not an object";
  for (const field of ["annotations", "labels"] as const) {
    const map: unknown = metadata?.[field];
    if (map === undefined || map === null) continue;
    if (!isRecord(map) || Object.values(map).some((value) => typeof value !== "string")) {
      return `an object's metadata.${field} is not a map of strings`;
    }
  }
  if (object.spec !== undefined && !isRecord(object.spec)) return "an object's spec is not an object";
  return undefined;
}

/** The StatefulSet fields the checks walk must have Kubernetes' types (the API server guarantees it). */
function statefulSetProblem(object: KubeObject | null): string | undefined {
  const spec = object?.spec;
  if (spec === undefined) return undefined;
  if (spec["replicas"] !== undefined && spec["replicas"] !== null && !Number.isInteger(spec["replicas"])) return "spec.replicas is not an integer";
  if (!isRecord(spec["template"])) return "spec.template is not an object";
  const templates = spec["volumeClaimTemplates"];
  if (templates !== undefined && templates !== null && (!Array.isArray(templates) || !templates.every(isRecord))) {
    return "spec.volumeClaimTemplates is not a list of objects";
  }
  return undefined;
}
