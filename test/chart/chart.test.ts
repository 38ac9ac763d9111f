/**
 * The Helm chart, rendered by a real helm over every combination of its modes: what a platform
 * team checks before installing an add-on (least privilege, hardened pods, no certificate made at
 * render time, a webhook that cannot lock the cluster), and the messages of values it refuses.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubernetesObject, V1Container, V1Deployment, V1StatefulSet, V1ValidatingWebhookConfiguration } from "@kubernetes/client-node";
import { installValues, lint, render, renderError } from "../support/helm.ts";

const MODES = (["certManager", "secret"] as const).flatMap((certs) =>
  (["external", "bundled"] as const).flatMap((redis) => (["rrsa", "secret"] as const).map((credentials) => ({ certs, redis, credentials }))));

const named = <T extends KubernetesObject>(objects: readonly KubernetesObject[], kind: NonNullable<T["kind"]>, suffix: string): T => {
  const found = objects.find((object) => object.kind === kind && object.metadata?.name?.endsWith(suffix) === true);
  assert.ok(found, `no ${kind} *${suffix}`);
  return found as T;
};
const envOf = (container: V1Container, name: string): string | undefined => container.env?.find((variable) => variable.name === name)?.value;

describe("the Helm chart", () => {
  for (const modes of MODES) {
    const label = `certificates ${modes.certs}, Redis ${modes.redis}, ECS credentials ${modes.credentials}`;
    it(`lints strictly and renders hardened pods with ${label}`, () => {
      const values = installValues(modes);
      assert.match(lint(values), /1 chart\(s\) linted, 0 chart\(s\) failed/);
      const objects = render(values);
      const workloads = objects.filter((object) => object.kind === "Deployment" || object.kind === "StatefulSet") as (V1Deployment | V1StatefulSet)[];
      assert.equal(workloads.length, modes.redis === "bundled" ? 3 : 2);
      for (const workload of workloads) {
        const pod = workload.spec!.template.spec!;
        assert.equal(pod.securityContext?.runAsNonRoot, true, workload.metadata?.name);
        for (const container of pod.containers) {
          assert.equal(container.securityContext?.readOnlyRootFilesystem, true, container.name);
          assert.equal(container.securityContext.allowPrivilegeEscalation, false, container.name);
          assert.deepEqual(container.securityContext.capabilities?.drop, ["ALL"], container.name);
          assert.ok(container.resources?.requests !== undefined && container.resources.limits !== undefined, `${container.name} has requests and limits`);
        }
      }
      for (const suffix of ["-webhook", "-runner"]) assert.equal(named<V1Deployment>(objects, "Deployment", suffix).spec!.template.spec!.securityContext?.runAsUser, 65532);
      // No certificate or key is ever rendered; the only Secrets are the random ones the chart makes.
      const secrets = objects.filter((object) => object.kind === "Secret").map((object) => object.metadata?.name);
      assert.deepEqual(secrets, modes.redis === "bundled" ? ["zf-zoneferry-journal-key", "zf-zoneferry-redis"] : ["zf-zoneferry-journal-key"]);
    });
  }

  it("lets cert-manager inject the CA, or takes the caller's CA in secret mode", () => {
    const managed = render(installValues({ certs: "certManager", redis: "external", credentials: "rrsa" }));
    const validating = named<V1ValidatingWebhookConfiguration>(managed, "ValidatingWebhookConfiguration", "-webhook");
    assert.equal(validating.metadata?.annotations?.["cert-manager.io/inject-ca-from"], "zoneferry/zf-zoneferry-webhook-ca", "the CA's, not the serving certificate's (certificates.test.ts)");
    assert.equal(validating.webhooks?.[0]?.clientConfig.caBundle, undefined);
    assert.deepEqual(named<KubernetesObject & { spec: { dnsNames: string[] } }>(managed, "Certificate", "-webhook").spec.dnsNames, ["zf-zoneferry-webhook", "zf-zoneferry-webhook.zoneferry", "zf-zoneferry-webhook.zoneferry.svc"]);
    const provided = render(installValues({ certs: "secret", redis: "external", credentials: "rrsa" }));
    assert.equal(provided.some((object) => object.kind === "Certificate" || object.kind === "Issuer"), false);
    assert.ok(named<V1ValidatingWebhookConfiguration>(provided, "ValidatingWebhookConfiguration", "-webhook").webhooks?.[0]?.clientConfig.caBundle);
  });

  it("sends the webhooks only StatefulSet writes, outside kube-system and its own namespace, with a 5 s timeout (scope in webhook-scope.test.ts)", () => {
    const objects = render(installValues({ certs: "certManager", redis: "external", credentials: "rrsa" }));
    for (const kind of ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"]) {
      const [webhook] = named<V1ValidatingWebhookConfiguration>(objects, kind, "-webhook").webhooks!;
      assert.deepEqual(webhook!.rules?.[0]?.resources, ["statefulsets"]);
      assert.deepEqual(webhook!.namespaceSelector?.matchExpressions?.[0]?.values, ["kube-system", "zoneferry"]);
      assert.equal(webhook!.sideEffects, "NoneOnDryRun");
      assert.equal(webhook!.timeoutSeconds, 5);
      assert.deepEqual(webhook!.admissionReviewVersions, ["v1"]);
      assert.equal(webhook!.failurePolicy, kind.startsWith("Validating") ? "Fail" : "Ignore");
    }
  });

  it("maps values one to one onto the components' configuration, the runner's identity included", () => {
    const objects = render({ ...installValues({ certs: "certManager", redis: "bundled", credentials: "secret" }), "runner.concurrency": 8, "runner.cloudWaitTimeout": "2h", "ecs.rateLimit": 50 });
    const runner = named<V1Deployment>(objects, "Deployment", "-runner").spec!.template.spec!.containers[0]!;
    const webhook = named<V1Deployment>(objects, "Deployment", "-webhook").spec!.template.spec!.containers[0]!;
    assert.equal(envOf(runner, "RUNNER_CONCURRENCY"), "8");
    assert.equal(envOf(runner, "RUNNER_CLOUD_WAIT_TIMEOUT"), "2h");
    assert.equal(envOf(runner, "ECS_RATE_LIMIT"), "50");
    assert.equal(envOf(runner, "REDIS_URL"), "redis://:$(REDIS_PASSWORD)@zf-zoneferry-redis:6379/0");
    assert.equal(envOf(webhook, "RUNNER_IDENTITY"), "system:serviceaccount:zoneferry:zf-zoneferry-runner");
    assert.equal(runner.env?.find((variable) => variable.name === "ALIBABA_CLOUD_ACCESS_KEY_ID")?.valueFrom?.secretKeyRef?.name, "zoneferry-ecs-runner");
    assert.equal(webhook.env?.find((variable) => variable.name === "ALIBABA_CLOUD_ACCESS_KEY_ID")?.valueFrom?.secretKeyRef?.name, "zoneferry-ecs-webhook");
    assert.deepEqual(runner.args, ["runner/main.js"]);
    assert.deepEqual(webhook.args, ["webhook/main.js"]);
  });

  it("maps the input bounds and the caller check onto the webhook, and the replica ceiling onto both components", () => {
    const objects = render({ ...installValues({ certs: "certManager", redis: "external", credentials: "rrsa" }), maxReplicas: 200, "webhook.namespaceEnqueuesPerMinute": 5, "webhook.clientAuth.caConfigMap.name": "apiserver-client-ca" });
    const runner = named<V1Deployment>(objects, "Deployment", "-runner").spec!.template.spec!;
    const webhook = named<V1Deployment>(objects, "Deployment", "-webhook").spec!.template.spec!;
    assert.equal(envOf(runner.containers[0]!, "MAX_REPLICAS"), "200");
    assert.equal(envOf(webhook.containers[0]!, "MAX_REPLICAS"), "200");
    assert.equal(envOf(webhook.containers[0]!, "WEBHOOK_NAMESPACE_ENQUEUES_PER_MINUTE"), "5");
    assert.equal(envOf(webhook.containers[0]!, "WEBHOOK_CLIENT_CA_FILE"), "/etc/zoneferry/client-ca/ca.crt");
    assert.equal(webhook.volumes?.find((volume) => volume.name === "client-ca")?.configMap?.name, "apiserver-client-ca");
    const open = named<V1Deployment>(render(installValues({ certs: "certManager", redis: "external", credentials: "rrsa" })), "Deployment", "-webhook").spec!.template.spec!;
    assert.equal(envOf(open.containers[0]!, "WEBHOOK_CLIENT_CA_FILE"), undefined, "no caller check unless a CA is named");
  });

  it("tells both components to migrate OpenKruise Advanced StatefulSets only with workloads.kruise, and lints strictly either way", () => {
    for (const kruise of [false, true]) {
      const values = { ...installValues({ certs: "certManager", redis: "external", credentials: "rrsa" }), "workloads.kruise": kruise };
      assert.match(lint(values), /1 chart\(s\) linted, 0 chart\(s\) failed/);
      const objects = render(values);
      for (const suffix of ["-webhook", "-runner"]) assert.equal(envOf(named<V1Deployment>(objects, "Deployment", suffix).spec!.template.spec!.containers[0]!, "WORKLOADS_KRUISE"), String(kruise), suffix);
    }
    const defaults = render(installValues({ certs: "certManager", redis: "external", credentials: "rrsa" }));
    assert.equal(envOf(named<V1Deployment>(defaults, "Deployment", "-runner").spec!.template.spec!.containers[0]!, "WORKLOADS_KRUISE"), "false", "off by default");
  });

  it("lints strictly with exports and restores across accounts on, in either RBAC mode", () => {
    const values = { ...installValues({ certs: "certManager", redis: "external", credentials: "rrsa" }), "crossAccount.enabled": true, "ecs.resourceSharingEndpoint": "resourcesharing-vpc.cn-shanghai.aliyuncs.com" };
    for (const namespaced of [{}, { "rbac.namespaced": true, "rbac.namespaces[0]": "shop" }]) assert.match(lint({ ...values, ...namespaced }), /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it("mounts the RRSA token for STS itself, or leaves both the token and the variables to ACK's pod-identity webhook", () => {
    const values = installValues({ certs: "certManager", redis: "external", credentials: "rrsa" });
    const pod = (objects: readonly KubernetesObject[]): NonNullable<V1Deployment["spec"]>["template"] => named<V1Deployment>(objects, "Deployment", "-runner").spec!.template;
    const mounted = pod(render(values));
    assert.equal(envOf(mounted.spec!.containers[0]!, "ALIBABA_CLOUD_ROLE_ARN"), "acs:ram::1234567890:role/zoneferry-runner");
    assert.equal(envOf(mounted.spec!.containers[0]!, "ALIBABA_CLOUD_OIDC_TOKEN_FILE"), "/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token");
    assert.equal(mounted.spec!.volumes?.find((volume) => volume.name === "rrsa-oidc-token")?.projected?.sources?.[0]?.serviceAccountToken?.audience, "sts.aliyuncs.com");
    const injected = pod(render({ ...values, "ecs.credentials.rrsa.mountToken": false }));
    assert.equal(envOf(injected.spec!.containers[0]!, "ALIBABA_CLOUD_ROLE_ARN"), undefined);
    assert.deepEqual(injected.spec!.volumes?.map((volume) => volume.name), ["journal-key"], "no token volume");
  });

  it("keeps two webhook pods spread over zones and nodes, a disruption budget, and a preStop delay", () => {
    const objects = render(installValues({ certs: "certManager", redis: "external", credentials: "rrsa" }));
    const webhook = named<V1Deployment>(objects, "Deployment", "-webhook");
    assert.equal(webhook.spec?.replicas, 2);
    assert.deepEqual(webhook.spec.template.spec!.topologySpreadConstraints?.map((constraint) => constraint.topologyKey), ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]);
    assert.equal(webhook.spec.template.spec!.containers[0]!.lifecycle?.preStop?.sleep?.seconds, 15);
    assert.equal(named<KubernetesObject & { spec: { minAvailable: number } }>(objects, "PodDisruptionBudget", "-webhook").spec.minAvailable, 1);
  });

  it("refuses a misspelt value, naming it, and a missing region with what to set", () => {
    assert.match(renderError({ ...installValues({ certs: "certManager", redis: "external", credentials: "rrsa" }), "runner.concurency": 8 }), /additional properties 'concurency' not allowed/);
    assert.match(renderError({ ...installValues({ certs: "certManager", redis: "external", credentials: "rrsa" }), "ecs.regionId": "" }), /ecs\.regionId is required: the region of the cluster's disks/);
    assert.match(renderError({ ...installValues({ certs: "certManager", redis: "external", credentials: "rrsa" }), "redis.mode": "cluster" }), /redis\/mode|value must be one of/);
  });
});
