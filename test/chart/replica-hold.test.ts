/**
 * The chart's replica hold (templates/replica-hold.yaml, docs/decisions/0008-hold-a-replica-with-a-scheduling-gate.md):
 * a MutatingAdmissionPolicy the API server evaluates itself, at pod CREATE only, in the namespaces
 * the other admission objects act in, parameterised by each namespace's zoneferry-held-pods
 * ConfigMap. What it does to pods: test/integration/pod-hold.test.ts.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import type { KubernetesObject } from "@kubernetes/client-node";
import { setArgs } from "../../sandbox/helm.ts";
import { CHART, helmBinary, installValues, render } from "../support/helm.ts";

const BASE = installValues({ certs: "certManager", redis: "external", credentials: "rrsa" });
const NAME = "zf-zoneferry-replica-hold";

interface Policy extends KubernetesObject {
  spec: {
    failurePolicy: string;
    paramKind: object;
    reinvocationPolicy: string;
    matchConstraints: { namespaceSelector: object; resourceRules: { apiGroups: string[]; resources: string[]; operations: string[] }[] };
    matchConditions: { name: string; expression: string }[];
    mutations: { patchType: string; applyConfiguration: { expression: string } }[];
  };
}

const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
const named = <T extends KubernetesObject>(objects: readonly KubernetesObject[], kind: NonNullable<T["kind"]>): T => {
  const found = objects.filter((object) => object.kind === kind && object.metadata?.name === NAME);
  assert.equal(found.length, 1, kind);
  return found[0] as T;
};

describe("the chart's replica hold", () => {
  it("gates pods at CREATE only, from each namespace's zoneferry-held-pods ConfigMap, and skips a namespace that has none", () => {
    const objects = render(BASE);
    const policy = named<Policy>(objects, "MutatingAdmissionPolicy");
    assert.equal(policy.apiVersion, "admissionregistration.k8s.io/v1");
    assert.deepEqual(policy.spec.matchConstraints.resourceRules.map((rule) => [rule.apiGroups, rule.resources, rule.operations]), [[[""], ["pods"], ["CREATE"]]]);
    assert.deepEqual(plain(policy.spec.paramKind), { apiVersion: "v1", kind: "ConfigMap" });
    const binding = named<KubernetesObject & { spec: object }>(objects, "MutatingAdmissionPolicyBinding");
    assert.deepEqual(plain(binding.spec), { policyName: NAME, paramRef: { name: "zoneferry-held-pods", parameterNotFoundAction: "Allow" } });
    assert.deepEqual(policy.spec.mutations.map((mutation) => mutation.patchType), ["ApplyConfiguration"]);
    assert.match(policy.spec.mutations[0]!.applyConfiguration.expression, /schedulingGates\{name: 'zoneferry\.io\/rebind'\}/);
  });

  it("holds only a pod named in the ConfigMap whose controller is the StatefulSet of that uid, and never twice", () => {
    const conditions = named<Policy>(render(BASE), "MutatingAdmissionPolicy").spec.matchConditions;
    assert.deepEqual(conditions.map((condition) => condition.name), ["asked-for-by-zoneferry", "not-yet-gated"]);
    assert.match(conditions[0]!.expression, /owner\.kind == 'StatefulSet' && owner\.uid == params\.data\[object\.metadata\.name\]/);
    assert.match(conditions[1]!.expression, /gate\.name == 'zoneferry\.io\/rebind'/);
  });

  it("never stops pod creation on an error of its own: failure policy Ignore, the runner checks the gate itself", () => {
    assert.equal(named<Policy>(render(BASE), "MutatingAdmissionPolicy").spec.failurePolicy, "Ignore");
  });

  it("is left out on a cluster older than 1.36, which serves no MutatingAdmissionPolicy, and the rest of the chart installs", () => {
    const older = execFileSync(helmBinary(), ["template", "zf", CHART, "--namespace", "zoneferry", "--kube-version", "1.35.2", ...setArgs(BASE)], { encoding: "utf8" });
    assert.doesNotMatch(older, /MutatingAdmissionPolicy/);
    assert.match(older, /kind: ValidatingAdmissionPolicy\n/);
    assert.match(execFileSync(helmBinary(), ["template", "zf", CHART, "--namespace", "zoneferry", "--kube-version", "1.36.0", ...setArgs(BASE)], { encoding: "utf8" }), /kind: MutatingAdmissionPolicy\n/);
  });

  it("acts in the namespaces the values select, never in kube-system or its own", () => {
    const values = { ...BASE, "webhook.namespaceSelector.matchLabels.zoneferry\\.io/enabled": "true" };
    assert.deepEqual(plain(named<Policy>(render(values), "MutatingAdmissionPolicy").spec.matchConstraints.namespaceSelector), {
      matchLabels: { "zoneferry.io/enabled": "true" },
      matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system", "zoneferry"] }],
    });
  });
});
