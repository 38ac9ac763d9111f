/**
 * What the chart does for least privilege and hygiene (docs/security.md), rendered by a real helm:
 * a cloud identity per component that the webhook never shares with the runner, the journal key
 * mounted into the runner alone, a password on the bundled Redis that no pod spec holds, the
 * webhook's port open only to the peers the values name, ECS over https only, read-only key files,
 * and the write policies the API server enforces (their behaviour: test/integration/admission-policies.test.ts).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubernetesObject, V1Container, V1Deployment, V1NetworkPolicy, V1PodSpec, V1Secret, V1ServiceAccount, V1StatefulSet } from "@kubernetes/client-node";
import { installValues, render, renderError, type Values } from "../support/helm.ts";

const RUNNER_ROLE = "acs:ram::1234567890:role/zoneferry-runner";
const WEBHOOK_ROLE = "acs:ram::1234567890:role/zoneferry-webhook";

const named = <T extends KubernetesObject>(objects: readonly KubernetesObject[], kind: NonNullable<T["kind"]>, name: string): T => {
  const found = objects.find((object) => object.kind === kind && object.metadata?.name === name);
  assert.ok(found, `no ${kind} ${name}`);
  return found as T;
};
const podOf = (objects: readonly KubernetesObject[], component: "webhook" | "runner"): V1PodSpec => named<V1Deployment>(objects, "Deployment", `zf-zoneferry-${component}`).spec!.template.spec!;
const env = (container: V1Container, name: string) => container.env?.find((variable) => variable.name === name);
/** Every Secret a pod can read: its env's and its volumes' (projected included). */
const secretsOf = (pod: V1PodSpec): string[] => [
  ...pod.containers.flatMap((container) => (container.env ?? []).flatMap((variable) => variable.valueFrom?.secretKeyRef?.name ?? [])),
  ...(pod.volumes ?? []).flatMap((volume) => [volume.secret?.secretName ?? [], ...(volume.projected?.sources ?? []).map((source) => source.secret?.name ?? [])].flat()),
];
const decoded = (secret: V1Secret, key: string): string => Buffer.from(secret.data![key]!, "base64").toString("utf8");

describe("the chart's security settings", () => {
  describe("cloud identities", () => {
    it("gives the webhook its own RAM role in rrsa mode, on its pod and its service account, never the runner's", () => {
      const objects = render(installValues({ certs: "certManager", redis: "external", credentials: "rrsa" }));
      const webhook = podOf(objects, "webhook").containers[0]!;
      const runner = podOf(objects, "runner").containers[0]!;
      assert.equal(env(webhook, "ALIBABA_CLOUD_ROLE_ARN")?.value, WEBHOOK_ROLE);
      assert.equal(env(runner, "ALIBABA_CLOUD_ROLE_ARN")?.value, RUNNER_ROLE);
      const roleNames = ["webhook", "runner"].map((component) => named<V1ServiceAccount>(objects, "ServiceAccount", `zf-zoneferry-${component}`).metadata?.annotations?.["pod-identity.alibabacloud.com/role-name"]);
      assert.deepEqual(roleNames, ["zoneferry-webhook", "zoneferry-runner"]);
      assert.doesNotMatch(JSON.stringify(named(objects, "Deployment", "zf-zoneferry-webhook")), /role\/zoneferry-runner/);
    });

    it("gives the webhook its own AccessKey Secret in secret mode, and its pod can read neither the runner's nor the journal key", () => {
      for (const redis of ["external", "bundled"] as const) {
        const objects = render(installValues({ certs: "secret", redis, credentials: "secret" }));
        const webhook = secretsOf(podOf(objects, "webhook"));
        assert.ok(webhook.includes("zoneferry-ecs-webhook"), webhook.join(", "));
        assert.ok(!webhook.includes("zoneferry-ecs-runner") && !webhook.includes("zf-zoneferry-journal-key"), webhook.join(", "));
        assert.ok(secretsOf(podOf(objects, "runner")).includes("zoneferry-ecs-runner"));
      }
    });

    it("refuses the runner's role or Secret for the webhook, a webhook without one, and the removed shared values, saying what to set", () => {
      const rrsa = installValues({ certs: "certManager", redis: "external", credentials: "rrsa" });
      const secret = installValues({ certs: "certManager", redis: "external", credentials: "secret" });
      assert.match(renderError({ ...rrsa, "ecs.credentials.webhook.rrsa.roleArn": RUNNER_ROLE }), /ecs\.credentials\.webhook\.rrsa\.roleArn is the runner's role: the webhook must have a role of its own/);
      assert.match(renderError({ ...secret, "ecs.credentials.webhook.secret.name": "zoneferry-ecs-runner" }), /ecs\.credentials\.webhook\.secret\.name is the runner's Secret/);
      assert.match(renderError({ ...rrsa, "ecs.credentials.webhook.rrsa.roleArn": "" }), /ecs\.credentials\.webhook\.rrsa\.roleArn is required when credentials\.mode is rrsa: the webhook's own RAM role/);
      assert.match(renderError({ ...secret, "ecs.credentials.webhook.secret.name": "" }), /ecs\.credentials\.webhook\.secret\.name is required when credentials\.mode is secret/);
      assert.match(renderError({ ...rrsa, "ecs.credentials.rrsa.roleArn": RUNNER_ROLE }), /ecs\.credentials\.rrsa\.roleArn was split per component: set ecs\.credentials\.runner\.rrsa\.roleArn and ecs\.credentials\.webhook\.rrsa\.roleArn/);
      assert.match(renderError({ ...secret, "ecs.credentials.secret.name": "zoneferry-ecs" }), /ecs\.credentials\.secret was split per component/);
    });

    it("runs the webhook without any cloud identity when told to, still never with the runner's", () => {
      for (const credentials of ["rrsa", "secret"] as const) {
        const objects = render({ ...installValues({ certs: "certManager", redis: "external", credentials }), "ecs.credentials.webhook.enabled": false, "ecs.credentials.webhook.rrsa.roleArn": "", "ecs.credentials.webhook.secret.name": "" });
        const webhook = podOf(objects, "webhook");
        assert.deepEqual(webhook.containers[0]!.env!.filter((variable) => /^(ECS_|ALIBABA_CLOUD_)/.test(variable.name)), [], "no region, so the webhook asks ECS nothing");
        assert.deepEqual(secretsOf(webhook).filter((name) => name.startsWith("zoneferry-ecs")), []);
        assert.equal(webhook.volumes?.some((volume) => volume.name === "rrsa-oidc-token"), false);
        assert.equal(named<V1ServiceAccount>(objects, "ServiceAccount", "zf-zoneferry-webhook").metadata?.annotations, undefined);
        assert.ok(env(podOf(objects, "runner").containers[0]!, "ECS_REGION_ID"));
      }
    });

    it("takes ECS over https only", () => {
      const values = installValues({ certs: "certManager", redis: "external", credentials: "rrsa" });
      assert.equal(env(podOf(render(values), "runner").containers[0]!, "ECS_PROTOCOL")?.value, "https");
      assert.match(renderError({ ...values, "ecs.protocol": "http" }), /ecs\/protocol|value must be one of 'https'/);
    });
  });

  describe("the journal key", () => {
    it("is generated (48 characters), kept on uninstall, and mounted read-only into the runner alone, its file named by RUNNER_JOURNAL_KEY_FILE", () => {
      const objects = render(installValues({ certs: "certManager", redis: "bundled", credentials: "rrsa" }));
      const secret = named<V1Secret>(objects, "Secret", "zf-zoneferry-journal-key");
      assert.match(decoded(secret, "key"), /^[A-Za-z0-9]{48}$/);
      assert.equal(secret.metadata?.annotations?.["helm.sh/resource-policy"], "keep");
      const runner = podOf(objects, "runner");
      const volume = runner.volumes!.find((candidate) => candidate.secret?.secretName === "zf-zoneferry-journal-key")!;
      assert.deepEqual(JSON.parse(JSON.stringify(volume.secret)), { secretName: "zf-zoneferry-journal-key", items: [{ key: "key", path: "key" }], defaultMode: 0o440 });
      assert.deepEqual(JSON.parse(JSON.stringify(runner.containers[0]!.volumeMounts!.find((mount) => mount.name === volume.name))), { name: volume.name, mountPath: "/etc/zoneferry/journal-key", readOnly: true });
      assert.equal(env(runner.containers[0]!, "RUNNER_JOURNAL_KEY_FILE")?.value, "/etc/zoneferry/journal-key/key");
      const webhook = podOf(objects, "webhook");
      assert.equal(secretsOf(webhook).includes("zf-zoneferry-journal-key"), false);
      assert.equal(env(webhook.containers[0]!, "RUNNER_JOURNAL_KEY_FILE"), undefined);
    });

    it("is the user's Secret when named, and then none is generated", () => {
      const objects = render({ ...installValues({ certs: "certManager", redis: "external", credentials: "rrsa" }), "runner.journalKeySecret": "my-journal-key" });
      assert.equal(objects.some((object) => object.kind === "Secret"), false);
      assert.ok(secretsOf(podOf(objects, "runner")).includes("my-journal-key"));
    });
  });

  describe("the bundled Redis", () => {
    const objects = render(installValues({ certs: "certManager", redis: "bundled", credentials: "rrsa" }));

    it("requires a generated password that redis-server takes from the Secret, through the environment", () => {
      assert.match(decoded(named<V1Secret>(objects, "Secret", "zf-zoneferry-redis"), "password"), /^[A-Za-z0-9]{32}$/);
      const redis = named<V1StatefulSet>(objects, "StatefulSet", "zf-zoneferry-redis").spec!.template.spec!.containers[0]!;
      assert.deepEqual(redis.args?.slice(0, 2), ["--requirepass", "$(REDIS_PASSWORD)"]);
      for (const name of ["REDIS_PASSWORD", "REDISCLI_AUTH"]) assert.deepEqual(JSON.parse(JSON.stringify(env(redis, name)?.valueFrom)), { secretKeyRef: { name: "zf-zoneferry-redis", key: "password" } });
    });

    it("gives both components the password in REDIS_URL from the Secret, never as a value in the pod spec", () => {
      const password = decoded(named<V1Secret>(objects, "Secret", "zf-zoneferry-redis"), "password");
      for (const component of ["webhook", "runner"] as const) {
        const container = podOf(objects, component).containers[0]!;
        assert.deepEqual(JSON.parse(JSON.stringify(env(container, "REDIS_PASSWORD")?.valueFrom)), { secretKeyRef: { name: "zf-zoneferry-redis", key: "password" } });
        assert.equal(env(container, "REDIS_URL")?.value, "redis://:$(REDIS_PASSWORD)@zf-zoneferry-redis:6379/0");
        const names = container.env!.map((variable) => variable.name);
        assert.ok(names.indexOf("REDIS_PASSWORD") < names.indexOf("REDIS_URL"), "the kubelet expands only variables defined before");
      }
      const workloads = objects.filter((object) => object.kind !== "Secret");
      assert.doesNotMatch(JSON.stringify(workloads), new RegExp(password), "the password is in the Secret only");
    });

    it("takes the user's password Secret when named, and then generates none", () => {
      const own = render({ ...installValues({ certs: "certManager", redis: "bundled", credentials: "rrsa" }), "redis.bundled.passwordSecret": "my-redis" });
      assert.equal(own.some((object) => object.kind === "Secret" && object.metadata?.name === "zf-zoneferry-redis"), false);
      assert.ok(secretsOf(podOf(own, "runner")).includes("my-redis"));
      assert.ok(secretsOf(named<V1StatefulSet>(own, "StatefulSet", "zf-zoneferry-redis").spec!.template.spec!).includes("my-redis"));
    });
  });

  it("mounts the webhook's serving key read-only, group-readable by its non-root user alone", () => {
    const tls = podOf(render(installValues({ certs: "certManager", redis: "external", credentials: "rrsa" })), "webhook").volumes!.find((volume) => volume.name === "tls")!;
    assert.equal(tls.secret?.defaultMode, 0o440);
  });

  describe("the webhook's NetworkPolicy", () => {
    const ingressOf = (values: Values) => named<V1NetworkPolicy>(render(values), "NetworkPolicy", "zf-zoneferry-webhook").spec!.ingress!;
    const base = installValues({ certs: "certManager", redis: "external", credentials: "rrsa" });

    it("admits the webhook's port from anywhere by default, as before", () => {
      assert.deepEqual(JSON.parse(JSON.stringify(ingressOf(base))), [{ ports: [{ protocol: "TCP", port: 8443 }] }]);
    });

    it("admits it only from the peers networkPolicy.webhookFrom names, e.g. the API server's addresses", () => {
      const ingress = ingressOf({ ...base, "networkPolicy.webhookFrom[0].ipBlock.cidr": "10.0.0.0/24", "networkPolicy.webhookFrom[1].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name": "monitoring" });
      assert.equal(ingress.length, 1);
      assert.deepEqual(JSON.parse(JSON.stringify(ingress[0]!.ports)), [{ protocol: "TCP", port: 8443 }]);
      // client-node names the field `_from` (`from` is a keyword in its generator).
      assert.deepEqual(JSON.parse(JSON.stringify(ingress[0]!._from)), [
        { ipBlock: { cidr: "10.0.0.0/24" } },
        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
        // `helm test`'s pod, in the release's namespace only: the test checks this port.
        { podSelector: { matchLabels: { "app.kubernetes.io/instance": "zf", "app.kubernetes.io/component": "helm-test" } } },
      ]);
      assert.match(renderError({ ...base, "networkPolicy.webhookFrom[0].ipBlock.except[0]": "10.0.0.1/32" }), /cidr/);
    });
  });

  describe("the write policies", () => {
    interface Policy extends KubernetesObject {
      spec: {
        failurePolicy: string;
        matchConstraints: { namespaceSelector?: object; resourceRules: { apiGroups: string[]; apiVersions: string[]; resources: string[]; operations: string[] }[] };
        matchConditions?: { expression: string }[];
        variables?: { name: string; expression: string }[];
        validations: { expression: string; messageExpression: string }[];
      };
    }
    const objects = render(installValues({ certs: "certManager", redis: "external", credentials: "rrsa" }));

    it("keeps the journal the runner's: every namespace, create, update and delete, status included, failing closed", () => {
      const policy = named<Policy>(objects, "ValidatingAdmissionPolicy", "zf-zoneferry-journal-writer");
      assert.equal(policy.spec.failurePolicy, "Fail");
      assert.equal(policy.spec.matchConstraints.namespaceSelector, undefined);
      assert.deepEqual(policy.spec.matchConstraints.resourceRules.map((rule) => [rule.resources, rule.operations]), [[["zonemigrations", "zonemigrations/status"], ["CREATE", "UPDATE", "DELETE"]]]);
      assert.equal(policy.spec.variables?.find((variable) => variable.name === "byRunner")?.expression, "request.userInfo.username == 'system:serviceaccount:zoneferry:zf-zoneferry-runner'");
      assert.ok(objects.some((object) => object.kind === "ValidatingAdmissionPolicyBinding" && object.metadata?.name === "zf-zoneferry-journal-writer"));
    });

    it("narrows the runner's own writes to disk PVs, pre-bound PVCs, StatefulSets under migration, the hold's ConfigMap and a pod's gate, and no one else's", () => {
      const policy = named<Policy>(objects, "ValidatingAdmissionPolicy", "zf-zoneferry-runner-writes");
      assert.equal(policy.spec.failurePolicy, "Fail");
      assert.deepEqual(policy.spec.matchConditions?.map((condition) => condition.expression), ["request.userInfo.username == 'system:serviceaccount:zoneferry:zf-zoneferry-runner'"]);
      assert.deepEqual(policy.spec.matchConstraints.resourceRules.map((rule) => [rule.resources, rule.operations]), [
        [["persistentvolumes", "persistentvolumes/status"], ["CREATE", "UPDATE", "DELETE"]],
        [["persistentvolumeclaims"], ["CREATE"]],
        [["statefulsets"], ["UPDATE"]],
        [["pods"], ["CREATE", "UPDATE"]],
        [["configmaps"], ["CREATE", "UPDATE", "DELETE"]],
      ]);
    });

    it("narrows the runner's writes with crossAccount.enabled to an export's ConfigMaps, claims made from a VolumeSnapshot, VolumeSnapshots of a static content and Retain contents of the disk driver", () => {
      const policy = named<Policy>(render({ ...installValues({ certs: "certManager", redis: "external", credentials: "rrsa" }), "crossAccount.enabled": true }), "ValidatingAdmissionPolicy", "zf-zoneferry-runner-writes");
      const snapshotRules = policy.spec.matchConstraints.resourceRules.filter((rule) => rule.apiGroups.includes("snapshot.storage.k8s.io")).map((rule) => [rule.resources, rule.operations]);
      assert.deepEqual(snapshotRules, [[["volumesnapshotcontents"], ["CREATE", "DELETE"]], [["volumesnapshots"], ["CREATE"]]]);
      const expressions = policy.spec.validations.map((validation) => validation.expression);
      assert.ok(expressions.some((expression) => expression.startsWith("request.resource.resource != 'configmaps'") && expression.includes("request.name == 'zoneferry-held-pods'") && expression.includes("request.name.startsWith('zoneferry-export-')")));
      assert.ok(expressions.some((expression) => expression.startsWith("request.resource.resource != 'persistentvolumeclaims'") && expression.includes("object.spec.dataSource.kind == 'VolumeSnapshot'")));
      assert.ok(expressions.some((expression) => expression.startsWith("request.resource.resource != 'volumesnapshotcontents'") && expression.includes("content.spec.deletionPolicy == 'Retain'") && expression.includes("content.spec.driver == 'diskplugin.csi.alibabacloud.com'")));
      const without = JSON.stringify(named<Policy>(objects, "ValidatingAdmissionPolicy", "zf-zoneferry-runner-writes").spec);
      assert.doesNotMatch(without, /snapshot\.storage\.k8s\.io|zoneferry-export-/, "none without crossAccount.enabled");
    });

    it("narrows the runner's writes to Advanced StatefulSets with workloads.kruise as to apps/v1 ones: update only, of one that carries a migration id", () => {
      const base = installValues({ certs: "certManager", redis: "external", credentials: "rrsa" });
      const policy = named<Policy>(render({ ...base, "workloads.kruise": true }), "ValidatingAdmissionPolicy", "zf-zoneferry-runner-writes");
      const statefulSets = policy.spec.matchConstraints.resourceRules.filter((rule) => rule.resources.includes("statefulsets")).map((rule) => [rule.apiGroups, rule.apiVersions, rule.operations]);
      assert.deepEqual(statefulSets, [[["apps"], ["v1"], ["UPDATE"]], [["apps.kruise.io"], ["v1beta1"], ["UPDATE"]]]);
      // The migration-id check names the resource, not its group: it holds for both kinds.
      const check = policy.spec.validations.find((validation) => validation.messageExpression.includes("zoneferry.io/migration-id"))!;
      assert.match(check.expression, /^request\.resource\.resource != 'statefulsets' \|\|/);
      assert.doesNotMatch(check.expression, /request\.resource\.group/);
      assert.doesNotMatch(JSON.stringify(named<Policy>(objects, "ValidatingAdmissionPolicy", "zf-zoneferry-runner-writes").spec.matchConstraints), /kruise/, "none without workloads.kruise");
    });
  });
});
