/**
 * The schema of our stand-in Advanced StatefulSet CRD: kruise's own CRD is thousands of lines
 * generated from Go types; this holds only the fields zoneferry and the stand-in controller use
 * (next-capabilities.md §2). The pod template and claim templates are kept whole but unchecked
 * (preserve-unknown-fields), so the API server neither prunes nor defaults what users write.
 */

/**
 * A JSON schema as the API server reads it. Not client-node's JsonSchema: the CRD is sent as
 * a server-side apply patch, whose body client-node passes on unserialized, so keys must be the
 * wire's (`enum`, `x-kubernetes-preserve-unknown-fields`), not the model's (`_enum`, `x_kubernetes_…`).
 */
export type JsonSchema = { readonly [key: string]: unknown };

const integer: JsonSchema = { type: "integer", format: "int32" };
const string: JsonSchema = { type: "string" };
const anything: JsonSchema = { type: "object", "x-kubernetes-preserve-unknown-fields": true };
const intOrString: JsonSchema = { "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }, { type: "string" }] };
const retention: JsonSchema = { type: "string", enum: ["Retain", "Delete"] };

const selector: JsonSchema = {
  type: "object",
  properties: {
    matchLabels: { type: "object", additionalProperties: string },
    matchExpressions: {
      type: "array",
      items: {
        type: "object",
        required: ["key", "operator"],
        properties: { key: string, operator: string, values: { type: "array", items: string } },
      },
    },
  },
};

const updateStrategy: JsonSchema = {
  type: "object",
  properties: {
    type: { type: "string", enum: ["RollingUpdate", "OnDelete"] },
    rollingUpdate: {
      type: "object",
      properties: {
        partition: integer,
        maxUnavailable: intOrString,
        podUpdatePolicy: { type: "string", enum: ["ReCreate", "InPlaceIfPossible", "InPlaceOnly"] },
        paused: { type: "boolean" },
        unorderedUpdate: anything,
        minReadySeconds: integer,
      },
    },
  },
};

const spec: JsonSchema = {
  type: "object",
  required: ["selector", "template"],
  properties: {
    replicas: { ...integer, minimum: 0 },
    selector,
    serviceName: string,
    template: anything,
    volumeClaimTemplates: { type: "array", items: anything },
    podManagementPolicy: { type: "string", enum: ["OrderedReady", "Parallel"] },
    updateStrategy,
    reserveOrdinals: { type: "array", items: intOrString },
    ordinals: { type: "object", properties: { start: { ...integer, minimum: 0 } } },
    lifecycle: anything,
    persistentVolumeClaimRetentionPolicy: { type: "object", properties: { whenDeleted: retention, whenScaled: retention } },
    minReadySeconds: integer,
    revisionHistoryLimit: integer,
    scaleStrategy: anything,
    volumeClaimUpdateStrategy: anything,
  },
};

const status: JsonSchema = {
  type: "object",
  properties: {
    replicas: integer,
    readyReplicas: integer,
    availableReplicas: integer,
    currentReplicas: integer,
    updatedReplicas: integer,
    updatedReadyReplicas: integer,
    updatedAvailableReplicas: integer,
    currentRevision: string,
    updateRevision: string,
    observedGeneration: { type: "integer", format: "int64" },
    labelSelector: string,
    collisionCount: integer,
    conditions: { type: "array", items: anything },
  },
};

/** The openAPIV3Schema of apps.kruise.io/v1beta1 StatefulSet, as far as the sandbox needs it. */
export const ADVANCED_STATEFULSET_SCHEMA: JsonSchema = {
  type: "object",
  properties: { apiVersion: string, kind: string, metadata: { type: "object" }, spec, status },
};
