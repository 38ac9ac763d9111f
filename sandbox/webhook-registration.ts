/**
 * The Validating and Mutating WebhookConfigurations that put zoneferry in the API server's
 * admission chain, for a webhook reached by URL (local runs, the sandbox, tests). The Helm chart
 * renders the same rules for an in-cluster Service.
 */
import {
  AdmissionregistrationV1Api,
  type KubeConfig,
  type V1MutatingWebhookConfiguration,
  type V1ValidatingWebhook,
  type V1ValidatingWebhookConfiguration,
} from "@kubernetes/client-node";

export interface WebhookEndpoint {
  /** Base URL of the webhook, e.g. https://127.0.0.1:8443 */
  readonly url: string;
  /** PEM of the CA that signed the webhook's serving certificate. */
  readonly caPem: string;
  /** Namespaces never intercepted: the webhook's own and kube-system. */
  readonly excludedNamespaces?: readonly string[];
}

export const WEBHOOK_CONFIGURATION_NAME = "zoneferry";

/**
 * Only StatefulSets carrying a zoneferry annotation (now or before the write) reach the webhook,
 * and every scale request: a Scale object has no annotations to match on.
 */
const MATCH_CONDITION = {
  name: "zoneferry-annotated-or-scale",
  expression: [
    // subResource is absent, not empty, on writes to the StatefulSet itself: test for it first.
    "(has(request.subResource) && request.subResource == 'scale')",
    "(has(object.metadata.annotations) && object.metadata.annotations.exists(k, k.startsWith('zoneferry.io/')))",
    "(oldObject != null && has(oldObject.metadata.annotations) && oldObject.metadata.annotations.exists(k, k.startsWith('zoneferry.io/')))",
  ].join(" || "),
};

/** What the validating and mutating webhooks share. */
type CommonFields = Omit<V1ValidatingWebhook, "name" | "rules" | "failurePolicy">;

function common(endpoint: WebhookEndpoint, path: string): CommonFields {
  return {
    admissionReviewVersions: ["v1"],
    clientConfig: { url: `${endpoint.url}${path}`, caBundle: Buffer.from(endpoint.caPem).toString("base64") },
    // Enqueueing is the only side effect, and it is skipped on dry run.
    sideEffects: "NoneOnDryRun",
    timeoutSeconds: 5,
    matchPolicy: "Equivalent",
    namespaceSelector: {
      matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: [...(endpoint.excludedNamespaces ?? ["kube-system", "zoneferry-system"])] }],
    },
    matchConditions: [MATCH_CONDITION],
  };
}

export function validatingWebhookConfiguration(endpoint: WebhookEndpoint): V1ValidatingWebhookConfiguration {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name: WEBHOOK_CONFIGURATION_NAME },
    webhooks: [{
      name: "validate.zoneferry.io",
      ...common(endpoint, "/validate"),
      rules: [{ apiGroups: ["apps"], apiVersions: ["v1"], resources: ["statefulsets", "statefulsets/scale"], operations: ["CREATE", "UPDATE"], scope: "Namespaced" }],
      // Closed: a migration guard that fails open would let a sync undo a migration half-way.
      failurePolicy: "Fail",
    }],
  };
}

export function mutatingWebhookConfiguration(endpoint: WebhookEndpoint): V1MutatingWebhookConfiguration {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name: WEBHOOK_CONFIGURATION_NAME },
    webhooks: [{
      name: "mutate.zoneferry.io",
      ...common(endpoint, "/mutate"),
      rules: [{ apiGroups: ["apps"], apiVersions: ["v1"], resources: ["statefulsets"], operations: ["CREATE", "UPDATE"], scope: "Namespaced" }],
      // Open: the stamp is a convenience the runner also writes; validation stays closed.
      failurePolicy: "Ignore",
      reinvocationPolicy: "Never",
    }],
  };
}

/** Creates both configurations, or replaces them (a new URL or CA after a restart). */
export async function registerWebhookConfigurations(kubeconfig: KubeConfig, endpoint: WebhookEndpoint): Promise<void> {
  const admission = kubeconfig.makeApiClient(AdmissionregistrationV1Api);
  const validating = validatingWebhookConfiguration(endpoint);
  const mutating = mutatingWebhookConfiguration(endpoint);
  await admission.deleteValidatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME }).catch(ignoreNotFound);
  await admission.deleteMutatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME }).catch(ignoreNotFound);
  await admission.createValidatingWebhookConfiguration({ body: validating });
  await admission.createMutatingWebhookConfiguration({ body: mutating });
}

function ignoreNotFound(error: unknown): void {
  if ((error as { code?: number }).code !== 404) throw error;
}
