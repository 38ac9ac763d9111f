/**
 * What the chart's admission objects are sent (docs/webhook-scope.md): never the runner's writes,
 * never a scale (the scale guard is a ValidatingAdmissionPolicy the API server evaluates itself),
 * only StatefulSet writes that change a zoneferry.io/ annotation or touch a held StatefulSet, in
 * the namespaces the values select; and what an outage does, per the values' failure policies.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubernetesObject, V1Deployment, V1ValidatingWebhookConfiguration } from "@kubernetes/client-node";
import { installValues, render, renderError, renderText, type Values } from "../support/helm.ts";

const BASE = installValues({ certs: "certManager", redis: "external", credentials: "rrsa" });
const RUNNER = "system:serviceaccount:zoneferry:zf-zoneferry-runner";

interface Policy extends KubernetesObject {
  spec: {
    failurePolicy: string;
    paramKind: { apiVersion: string; kind: string };
    matchConstraints: { matchPolicy: string; resourceRules: { apiGroups: string[]; apiVersions: string[]; resources: string[]; operations: string[]; scope: string }[]; namespaceSelector: V1ValidatingWebhookConfiguration["webhooks"] extends (infer W)[] | undefined ? W extends { namespaceSelector?: infer S } ? S : never : never };
    matchConditions: { name: string; expression: string }[];
    validations: { expression: string; messageExpression: string; reason: string }[];
  };
}
interface Binding extends KubernetesObject {
  spec: { policyName: string; validationActions: string[]; paramRef: { selector: Record<string, unknown>; parameterNotFoundAction: string; name?: string } };
}

/** loadAllYaml makes class instances of known kinds; the assertions compare plain JSON. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
const one = <T extends KubernetesObject>(objects: readonly KubernetesObject[], kind: NonNullable<T["kind"]>, name?: string): T => {
  const found = objects.filter((object) => object.kind === kind && (name === undefined || object.metadata?.name === name));
  assert.equal(found.length, 1, kind);
  return found[0] as T;
};
/** The scale guard and its binding, among the chart's admission policies (the others: admission-policies.test.ts). */
const SCALE_GUARD = "zf-zoneferry-scale-guard";
/** The same guard for OpenKruise Advanced StatefulSets, rendered with workloads.kruise only. */
const KRUISE_SCALE_GUARD = "zf-zoneferry-kruise-scale-guard";
const KRUISE: Values = { ...BASE, "workloads.kruise": true };
const webhooks = (values: Values) => {
  const objects = render(values);
  return ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"].map((kind) => one<V1ValidatingWebhookConfiguration>(objects, kind).webhooks![0]!);
};

describe("the scope of the chart's webhooks and scale guard", () => {
  it("never sends the runner's writes to a webhook or the scale guard, and tells the guard the same identity", () => {
    const objects = render(BASE);
    const exempt = `request.userInfo.username != '${RUNNER}'`;
    for (const webhook of webhooks(BASE)) assert.deepEqual(plain(webhook.matchConditions?.[0]), { name: "not-the-runner", expression: exempt });
    assert.deepEqual(plain(one<Policy>(objects, "ValidatingAdmissionPolicy", SCALE_GUARD).spec.matchConditions), [{ name: "not-the-runner", expression: exempt }]);
    const webhookPod = objects.find((object): object is V1Deployment => object.kind === "Deployment" && object.metadata?.name === "zf-zoneferry-webhook")!;
    assert.equal(webhookPod.spec!.template.spec!.containers[0]!.env?.find((variable) => variable.name === "RUNNER_IDENTITY")?.value, RUNNER);
  });

  it("takes another runner identity for a runner outside the cluster, and refuses one that would break the expression", () => {
    for (const webhook of webhooks({ ...BASE, "webhook.runnerIdentity": "zoneferry-runner" })) {
      assert.equal(webhook.matchConditions?.[0]?.expression, "request.userInfo.username != 'zoneferry-runner'");
    }
    assert.match(renderError({ ...BASE, "webhook.runnerIdentity": "x' || true || '" }), /runnerIdentity/);
  });

  it("sends only writes that change a zoneferry.io/ annotation or touch a held StatefulSet, never a scale", () => {
    for (const webhook of webhooks(BASE)) {
      assert.deepEqual(webhook.rules?.map((rule) => rule.resources), [["statefulsets"]]);
      const scope = webhook.matchConditions?.[1]?.expression ?? "";
      assert.match(scope, /oldObject\.metadata\.annotations\[k\] != object\.metadata\.annotations\[k\]/, "a changed zoneferry.io/ annotation");
      assert.match(scope, /'zoneferry\.io\/status' in oldObject\.metadata\.annotations/, "a held StatefulSet");
      assert.match(scope, /\['Pending', 'Running', 'RollingBack'\]/);
    }
  });

  it("sends writes to OpenKruise Advanced StatefulSets too with workloads.kruise, v1beta1 alone (matchPolicy Equivalent converts a v1alpha1 write), under the same conditions", () => {
    const before = webhooks(BASE);
    const after = webhooks(KRUISE);
    for (const [index, webhook] of after.entries()) {
      assert.deepEqual(plain(webhook.rules), [
        { apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["statefulsets"], scope: "Namespaced" },
        { apiGroups: ["apps.kruise.io"], apiVersions: ["v1beta1"], operations: ["CREATE", "UPDATE"], resources: ["statefulsets"], scope: "Namespaced" },
      ]);
      assert.equal(webhook.matchPolicy, "Equivalent");
      assert.deepEqual(plain({ ...webhook, rules: undefined }), plain({ ...before[index], rules: undefined }), "nothing else changes");
    }
  });

  it("guards the scale subresource of Advanced StatefulSets with workloads.kruise, by a policy of their own whose conditions and message are the apps/v1 guard's", () => {
    const objects = render(KRUISE);
    const native = one<Policy>(objects, "ValidatingAdmissionPolicy", SCALE_GUARD);
    const policy = one<Policy>(objects, "ValidatingAdmissionPolicy", KRUISE_SCALE_GUARD);
    const binding = one<Binding>(objects, "ValidatingAdmissionPolicyBinding", KRUISE_SCALE_GUARD);
    assert.deepEqual(plain(policy.spec.paramKind), { apiVersion: "apps.kruise.io/v1beta1", kind: "StatefulSet" });
    assert.deepEqual(plain(policy.spec.matchConstraints.resourceRules), [{ apiGroups: ["apps.kruise.io"], apiVersions: ["v1beta1"], operations: ["UPDATE"], resources: ["statefulsets/scale"], scope: "Namespaced" }]);
    assert.equal(policy.spec.matchConstraints.matchPolicy, "Equivalent");
    const ofKind = (spec: Policy["spec"]): unknown => plain({ ...spec, paramKind: undefined, matchConstraints: { ...spec.matchConstraints, resourceRules: undefined } });
    assert.deepEqual(ofKind(policy.spec), ofKind(native.spec), "the same failure policy, namespaces, conditions, variables, validations and message");
    assert.deepEqual(plain(binding.spec), { policyName: KRUISE_SCALE_GUARD, validationActions: ["Deny"], paramRef: { selector: {}, parameterNotFoundAction: "Allow" } });
  });

  it("renders nothing of apps.kruise.io without workloads.kruise, and with it adds only the kruise rules and guard", () => {
    assert.doesNotMatch(renderText(BASE), /kruise\.io/);
    const names = (values: Values): string[] => render(values).map((object) => `${object.kind ?? ""}/${object.metadata?.name ?? ""}`);
    const [off, on] = [names(BASE), names(KRUISE)];
    assert.deepEqual(on.filter((name) => !off.includes(name)), [`ValidatingAdmissionPolicy/${KRUISE_SCALE_GUARD}`, `ValidatingAdmissionPolicyBinding/${KRUISE_SCALE_GUARD}`]);
    assert.deepEqual(off.filter((name) => !on.includes(name)), []);
  });

  it("guards the scale subresource in the API server: every StatefulSet of the namespace is a parameter, the held one refuses a change of replicas", () => {
    const objects = render(BASE);
    const policy = one<Policy>(objects, "ValidatingAdmissionPolicy", SCALE_GUARD);
    const binding = one<Binding>(objects, "ValidatingAdmissionPolicyBinding", SCALE_GUARD);
    assert.equal(policy.metadata?.name, "zf-zoneferry-scale-guard");
    assert.deepEqual(plain(policy.spec.paramKind), { apiVersion: "apps/v1", kind: "StatefulSet" });
    assert.deepEqual(policy.spec.matchConstraints.resourceRules.map((rule) => [rule.resources, rule.operations]), [[["statefulsets/scale"], ["UPDATE"]]]);
    assert.equal(policy.spec.failurePolicy, "Fail");
    assert.match(policy.spec.validations[0]!.messageExpression, /is held by zoneferry migration/);
    assert.deepEqual(plain(binding.spec), { policyName: "zf-zoneferry-scale-guard", validationActions: ["Deny"], paramRef: { selector: {}, parameterNotFoundAction: "Allow" } });
  });

  it("acts in the namespaces the values select, never in kube-system or its own", () => {
    const values = { ...BASE, "webhook.namespaceSelector.matchLabels.zoneferry\\.io/enabled": "true" };
    const objects = render(values);
    const selectors = [...webhooks(values).map((webhook) => webhook.namespaceSelector), one<Policy>(objects, "ValidatingAdmissionPolicy", SCALE_GUARD).spec.matchConstraints.namespaceSelector];
    for (const selector of selectors) {
      assert.deepEqual(plain(selector), {
        matchLabels: { "zoneferry.io/enabled": "true" },
        matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system", "zoneferry"] }],
      });
    }
  });

  it("lets the failure policies be chosen, closed for validation and open for the stamp by default", () => {
    assert.deepEqual(webhooks(BASE).map((webhook) => webhook.failurePolicy), ["Fail", "Ignore"]);
    assert.deepEqual(webhooks({ ...BASE, "webhook.failurePolicy.validating": "Ignore" }).map((webhook) => webhook.failurePolicy), ["Ignore", "Ignore"]);
    assert.match(renderError({ ...BASE, "webhook.failurePolicy.validating": "Open" }), /failurePolicy\/validating|value must be one of/);
  });
});
