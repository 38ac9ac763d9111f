/**
 * The values a platform team expects of an add-on's chart (issue 14): where the images come from
 * (registry, mirror, digest), where the pods run and with what metadata, extra environment that
 * cannot override the configuration, the webhook's budget, ECS and STS inside a VPC, the helm
 * test, NOTES, and a chart that `helm package` takes. Each rendered by the real helm, and each
 * refused value refused by the schema, before anything reaches the cluster.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { KubernetesObject, V1Container, V1Deployment, V1Pod, V1PodSpec, V1StatefulSet } from "@kubernetes/client-node";
import { setArgs } from "../../sandbox/helm.ts";
import { CHART, helmBinary, installValues, render, renderError, type Values } from "../support/helm.ts";

const BASE = installValues({ certs: "certManager", redis: "bundled", credentials: "rrsa" });
const DIGEST = `sha256:${"ab".repeat(32)}`;

const find = (objects: readonly KubernetesObject[], kind: string, name: string): KubernetesObject | undefined =>
  objects.find((object) => object.kind === kind && object.metadata?.name === name);
const named = <T extends KubernetesObject>(objects: readonly KubernetesObject[], kind: NonNullable<T["kind"]>, name: string): T => {
  const found = find(objects, kind, name);
  assert.ok(found, `no ${kind} ${name}`);
  return found as T;
};
const deployment = (objects: readonly KubernetesObject[], component: "webhook" | "runner"): V1Deployment => named<V1Deployment>(objects, "Deployment", `zf-zoneferry-${component}`);
const podOf = (objects: readonly KubernetesObject[], component: "webhook" | "runner"): V1PodSpec => deployment(objects, component).spec!.template.spec!;
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
const images = (objects: readonly KubernetesObject[]): string[] =>
  objects.flatMap((object) => {
    if (!["Pod", "Deployment", "StatefulSet"].includes(object.kind ?? "")) return [];
    const spec = object.kind === "Pod" ? (object as V1Pod).spec : (object as V1Deployment | V1StatefulSet).spec?.template.spec;
    return spec?.containers.map((container: V1Container) => container.image!) ?? [];
  });

describe("the chart's install values", () => {
  describe("images", () => {
    it("pulls from ghcr.io and Docker Hub by default, tagged with the appVersion", () => {
      assert.deepEqual([...new Set(images(render(BASE)))].sort(), ["docker.io/library/redis:7.4-alpine", "ghcr.io/zoneferry/zoneferry:0.1.0"]);
    });

    it("takes a registry of zoneferry's own, a digest instead of the tag, and Redis's digest", () => {
      const objects = render({ ...BASE, "image.registry": "registry.cn-hangzhou.aliyuncs.com", "image.repository": "acme/zoneferry", "image.tag": "0.1.0", "image.digest": DIGEST, "redis.bundled.image.digest": DIGEST });
      assert.deepEqual([...new Set(images(objects))].sort(), [`docker.io/library/redis@${DIGEST}`, `registry.cn-hangzhou.aliyuncs.com/acme/zoneferry@${DIGEST}`]);
    });

    it("moves every image to global.imageRegistry, as an umbrella chart sets it", () => {
      const objects = render({ ...BASE, "global.imageRegistry": "registry.cn-shanghai.aliyuncs.com", "global.storageClass": "ignored-by-zoneferry" });
      assert.deepEqual([...new Set(images(objects))].sort(), ["registry.cn-shanghai.aliyuncs.com/library/redis:7.4-alpine", "registry.cn-shanghai.aliyuncs.com/zoneferry/zoneferry:0.1.0"]);
    });

    it("gives every pod the pull secrets, the helm test's and Redis's included", () => {
      const objects = render({ ...BASE, "imagePullSecrets[0].name": "acr-pull" });
      const pods = objects.filter((object) => ["Deployment", "StatefulSet", "Pod"].includes(object.kind ?? ""));
      assert.equal(pods.length, 4);
      for (const object of pods) {
        const spec = object.kind === "Pod" ? (object as V1Pod).spec! : (object as V1Deployment).spec!.template.spec!;
        assert.deepEqual(plain(spec.imagePullSecrets), [{ name: "acr-pull" }], object.metadata?.name);
      }
    });

    it("refuses a malformed digest, a registry left in the repository, and a pull secret without a name", () => {
      assert.match(renderError({ ...BASE, "image.digest": "sha256:abc" }), /\/image\/digest/);
      assert.match(renderError({ ...BASE, "image.repository": "ghcr.io/zoneferry/zoneferry" }), /\/image\/repository/);
      assert.match(renderError({ ...BASE, "imagePullSecrets[0].secret": "acr-pull" }), /\/imagePullSecrets\/0/);
    });
  });

  describe("where the pods run", () => {
    const set: Values = {
      ...BASE,
      "webhook.priorityClassName": "system-cluster-critical",
      "webhook.nodeSelector.kubernetes\\.io/os": "linux",
      "webhook.tolerations[0].key": "dedicated",
      "webhook.tolerations[0].operator": "Exists",
      "webhook.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key": "node.kubernetes.io/instance-type",
      "webhook.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator": "Exists",
      "webhook.podAnnotations.example\\.com/team": "platform",
      "webhook.podLabels.team": "platform",
      "runner.priorityClassName": "zoneferry-runner",
      "runner.podLabels.team": "storage",
    };

    it("renders affinity, nodeSelector, tolerations, priorityClassName, pod labels and annotations per component", () => {
      const objects = render(set);
      const webhook = deployment(objects, "webhook").spec!.template;
      assert.equal(webhook.spec!.priorityClassName, "system-cluster-critical");
      assert.deepEqual(plain(webhook.spec!.nodeSelector), { "kubernetes.io/os": "linux" });
      assert.deepEqual(plain(webhook.spec!.tolerations), [{ key: "dedicated", operator: "Exists" }]);
      assert.equal(webhook.spec!.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.key, "node.kubernetes.io/instance-type");
      assert.deepEqual(plain(webhook.metadata!.annotations), { "example.com/team": "platform" });
      assert.equal(webhook.metadata!.labels?.["team"], "platform");
      assert.equal(webhook.metadata!.labels["app.kubernetes.io/component"], "webhook", "the chart's labels stay");
      const runner = deployment(objects, "runner").spec!.template;
      assert.equal(runner.spec!.priorityClassName, "zoneferry-runner");
      assert.equal(runner.metadata!.labels?.["team"], "storage");
      assert.equal(runner.spec!.tolerations, undefined, "each component's own values");
      assert.equal(runner.metadata!.annotations, undefined);
    });

    it("leaves every field out when unset", () => {
      const pod = podOf(render(BASE), "webhook");
      for (const field of ["priorityClassName", "nodeSelector", "tolerations", "affinity"] as const) assert.equal(pod[field], undefined, field);
    });

    it("refuses a pod label that is one of the chart's own (its selector would break), and a bad priority class name", () => {
      // helm's schema library names the wrong path for a property name; the name itself is right.
      assert.match(renderError({ ...BASE, "webhook.podLabels.app\\.kubernetes\\.io/component": "x" }), /invalid propertyName 'app\.kubernetes\.io\/component'/);
      assert.match(renderError({ ...BASE, "runner.podLabels.app\\.kubernetes\\.io/instance": "x" }), /invalid propertyName 'app\.kubernetes\.io\/instance'/);
      assert.match(renderError({ ...BASE, "webhook.priorityClassName": "System Critical" }), /\/webhook\/priorityClassName/);
      assert.match(renderError({ ...BASE, "webhook.nodeSelector.disk": 1 }), /\/webhook\/nodeSelector/);
    });
  });

  describe("extraEnv", () => {
    it("adds the user's variables after the chart's, per component", () => {
      const objects = render({ ...BASE, "webhook.extraEnv[0].name": "HTTPS_PROXY", "webhook.extraEnv[0].value": "http://proxy:3128", "runner.extraEnv[0].name": "TZ", "runner.extraEnv[0].value": "Asia/Shanghai" });
      const webhook = podOf(objects, "webhook").containers[0]!.env!;
      assert.deepEqual(plain(webhook.at(-1)), { name: "HTTPS_PROXY", value: "http://proxy:3128" });
      assert.deepEqual(plain(podOf(objects, "runner").containers[0]!.env!.at(-1)), { name: "TZ", value: "Asia/Shanghai" });
    });

    it("refuses any variable the chart sets or the configuration reads: those have values of their own, checked by the schema", () => {
      const rendered = new Set((["webhook", "runner"] as const).flatMap((component) => podOf(render({ ...BASE, "ecs.vpcEndpoints": true, "ecs.stsRegion": "cn-shanghai" }), component).containers[0]!.env!.map((variable) => variable.name)));
      for (const name of [...rendered, "KUBECONFIG", "ALIBABA_CLOUD_ACCESS_KEY_ID", "ECS_INSECURE_EMULATOR", "RESOURCE_SHARING_ENDPOINT"]) {
        assert.match(renderError({ ...BASE, "runner.extraEnv[0].name": name, "runner.extraEnv[0].value": "x" }), /\/runner\/extraEnv\/0\/name/, name);
      }
    });
  });

  describe("the webhook's disruption budget", () => {
    it("is made with two replicas or more, and not with one, where minAvailable 1 would block every node drain", () => {
      assert.ok(find(render(BASE), "PodDisruptionBudget", "zf-zoneferry-webhook"));
      assert.ok(find(render({ ...BASE, "webhook.replicas": 3 }), "PodDisruptionBudget", "zf-zoneferry-webhook"));
      assert.equal(find(render({ ...BASE, "webhook.replicas": 1 }), "PodDisruptionBudget", "zf-zoneferry-webhook"), undefined);
    });
  });

  describe("the ServiceMonitor", () => {
    it("carries the labels a Prometheus selects by, and the chart's", () => {
      const monitor = named(render({ ...BASE, "serviceMonitor.enabled": true, "serviceMonitor.labels.release": "kube-prometheus-stack" }), "ServiceMonitor", "zf-zoneferry");
      assert.equal(monitor.metadata?.labels?.["release"], "kube-prometheus-stack");
      assert.equal(monitor.metadata.labels["app.kubernetes.io/name"], "zoneferry");
    });
  });

  describe("ECS and STS inside a VPC", () => {
    const env = (objects: readonly KubernetesObject[], component: "webhook" | "runner", name: string): string | undefined => podOf(objects, component).containers[0]!.env!.find((variable) => variable.name === name)?.value;

    it("sets the credentials library's own variables, one value each, on both components", () => {
      const objects = render({ ...BASE, "ecs.vpcEndpoints": true, "ecs.stsRegion": "cn-shanghai" });
      for (const component of ["webhook", "runner"] as const) {
        assert.equal(env(objects, component, "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"), "true");
        assert.equal(env(objects, component, "ALIBABA_CLOUD_STS_REGION"), "cn-shanghai");
      }
      const plainInstall = render(BASE);
      assert.equal(env(plainInstall, "runner", "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"), undefined);
      assert.equal(env(plainInstall, "runner", "ALIBABA_CLOUD_STS_REGION"), undefined);
      assert.equal(env(render({ ...BASE, "ecs.stsRegion": "cn-shanghai" }), "runner", "ALIBABA_CLOUD_STS_REGION"), "cn-shanghai", "a regional STS endpoint without the VPC");
    });

    it("refuses the VPC switch without an STS region (the library would call the public STS), and a malformed region", () => {
      assert.match(renderError({ ...BASE, "ecs.vpcEndpoints": true }), /\/ecs/);
      assert.match(renderError({ ...BASE, "ecs.stsRegion": "Shanghai" }), /\/ecs\/stsRegion/);
    });
  });

  describe("the bundled Redis", () => {
    it("asks for a 20Gi disk by default, the smallest ACK's disk plugin provisions", () => {
      const redis = named<V1StatefulSet>(render(BASE), "StatefulSet", "zf-zoneferry-redis");
      assert.equal(redis.spec!.volumeClaimTemplates![0]!.spec!.resources!.requests!["storage"], "20Gi");
    });
  });

  describe("helm test", () => {
    const testPod = (values: Values): V1Pod => named<V1Pod>(render(values), "Pod", "zf-zoneferry-webhook-test");

    it("is a test hook that asks the webhook's /readyz through its Service, verifying the CA cert-manager issued", () => {
      const pod = testPod(BASE);
      assert.equal(pod.metadata?.annotations?.["helm.sh/hook"], "test");
      const container = pod.spec!.containers[0]!;
      assert.equal(container.image, "ghcr.io/zoneferry/zoneferry:0.1.0");
      assert.equal(container.env?.find((variable) => variable.name === "WEBHOOK_URL")?.value, "https://zf-zoneferry-webhook.zoneferry.svc/readyz");
      assert.deepEqual(plain(pod.spec!.volumes), [{ name: "ca", secret: { secretName: "zf-zoneferry-webhook-tls", items: [{ key: "ca.crt", path: "ca.crt" }] } }], "the CA only, never the key");
      assert.equal(pod.spec!.automountServiceAccountToken, false);
      assert.equal(container.securityContext?.readOnlyRootFilesystem, true);
      assert.match(container.args!.join("\n"), /https\.get\(url, \{ ca,/);
    });

    it("trusts exactly the caBundle the API server is given, in secret mode", () => {
      const values = installValues({ certs: "secret", redis: "external", credentials: "secret" });
      const pod = testPod(values);
      assert.equal(pod.spec!.containers[0]!.env?.find((variable) => variable.name === "CA_PEM")?.value, "-----BEGIN CERTIFICATE-----\n");
      assert.equal(pod.spec!.volumes, undefined);
    });

    it("runs its script, which fails when nothing answers", () => {
      const script = testPod(BASE).spec!.containers[0]!.args![1]!;
      let failed: { status: number | null; stderr: string } | undefined;
      try {
        execFileSync(process.execPath, ["-e", script.replace("attempt(6)", "attempt(1)")], { env: { ...process.env, WEBHOOK_URL: "https://127.0.0.1:1/readyz", CA_PEM: "x" }, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", timeout: 20_000 });
      } catch (error) {
        failed = error as { status: number | null; stderr: string };
      }
      assert.equal(failed?.status, 1);
      assert.match(failed.stderr, /https:\/\/127\.0\.0\.1:1\/readyz: /);
    });
  });

  describe("the chart as a package", () => {
    it("has a version and an appVersion, and `helm package` makes zoneferry-<version>.tgz", () => {
      const chart = readFileSync(join(CHART, "Chart.yaml"), "utf8");
      const version = /^version: (\S+)$/m.exec(chart)?.[1];
      assert.match(version ?? "", /^\d+\.\d+\.\d+$/);
      assert.match(chart, /^appVersion: "\d+\.\d+\.\d+"$/m);
      const out = mkdtempSync(join(tmpdir(), "zf-package-"));
      assert.match(execFileSync(helmBinary(), ["package", CHART, "--destination", out], { encoding: "utf8" }), new RegExp(`zoneferry-${version!.replaceAll(".", "\\.")}\\.tgz`));
      const listing = execFileSync("tar", ["-tzf", join(out, `zoneferry-${version!}.tgz`)], { encoding: "utf8" });
      for (const file of ["zoneferry/Chart.yaml", "zoneferry/values.schema.json", "zoneferry/crds/zonemigrations.zoneferry.io.yaml", "zoneferry/templates/NOTES.txt", "zoneferry/templates/tests/webhook-answers.yaml"]) assert.ok(listing.includes(file), file);
    });

    it("prints NOTES that say how to check the install and to let migrations end before an uninstall", () => {
      // `helm template` leaves NOTES out; a client-side install dry run prints them, with no cluster.
      const output = execFileSync(helmBinary(), ["install", "zf", CHART, "--namespace", "zoneferry", "--dry-run=client", ...setArgs({ ...BASE, "webhook.replicas": 1 })], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, KUBECONFIG: "/nonexistent" } });
      const notes = output.slice(output.indexOf("NOTES:"));
      assert.match(notes, /helm test zf -n zoneferry/);
      assert.match(notes, /One webhook replica/);
      assert.match(notes, /let running migrations end/);
    });
  });
});
