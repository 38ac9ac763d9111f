/**
 * The chart's values and the components' configuration agree (issue 14, item 4): for each value
 * that maps onto a variable, each probe value (the bounds, just past them, malformed forms) is
 * accepted by `helm template` (the schema, and the range checks in _helpers.tpl) exactly when
 * core/config.ts accepts it, and an accepted one reaches the pod unchanged. So a value the
 * components would refuse at start fails `helm install` instead of leaving a pod that exits.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Deployment } from "@kubernetes/client-node";
import { ConfigError, loadConfig, type Component } from "../../core/config.ts";
import { installValues, render, type Values } from "../support/helm.ts";

const BASE = installValues({ certs: "certManager", redis: "external", credentials: "rrsa" });
const BASE_ENV: Record<Component, Record<string, string>> = {
  runner: { ECS_REGION_ID: "cn-shanghai", RUNNER_JOURNAL_KEY_FILE: "/etc/zoneferry/journal-key/key" },
  webhook: { WEBHOOK_TLS_CERT: "/tls/tls.crt", WEBHOOK_TLS_KEY: "/tls/tls.key" },
};

interface Rule { value: string; env: string; component: Component; probes: readonly (string | number | boolean)[] }

const ports = [0, 1, 65_535, 65_536];
const RULES: readonly Rule[] = [
  { value: "maxReplicas", env: "MAX_REPLICAS", component: "runner", probes: [0, 1, 100_000, 100_001] },
  { value: "logLevel", env: "LOG_LEVEL", component: "runner", probes: ["info", "silent", "trace", "loud"] },
  { value: "workloads.kruise", env: "WORKLOADS_KRUISE", component: "runner", probes: [false, true, "yes", "1"] },
  { value: "workloads.kruise", env: "WORKLOADS_KRUISE", component: "webhook", probes: [false, true, "on"] },
  { value: "crossAccount.enabled", env: "CROSS_ACCOUNT", component: "webhook", probes: [false, true, "on"] },
  { value: "redis.url", env: "REDIS_URL", component: "runner", probes: ["redis://h:6379/0", "rediss://u:p@h:6380/0", "redis+sentinel://:p@sentinel-a:26379/mymaster", "localhost:6379", "http://h:6379"] },
  { value: "ecs.endpoint", env: "ECS_ENDPOINT", component: "runner", probes: ["ecs.cn-shanghai.aliyuncs.com", "127.0.0.1:9100", "https://ecs.aliyuncs.com", "host:123456", "ecs.aliyuncs.com/x"] },
  { value: "ecs.resourceSharingEndpoint", env: "RESOURCE_SHARING_ENDPOINT", component: "runner", probes: ["resourcesharing-vpc.cn-shanghai.aliyuncs.com", "127.0.0.1:9100", "https://resourcesharing.aliyuncs.com", "host:123456", "resourcesharing.aliyuncs.com/x"] },
  { value: "ecs.serviceKeyId", env: "ECS_SERVICE_KEY_ID", component: "runner", probes: ["0e478b7a-4262-4802-b8cb-00d3fb408260", "key-shh6x", "two words", "alias/acs/ecs"] },
  { value: "ecs.rateLimit", env: "ECS_RATE_LIMIT", component: "runner", probes: [0, 1, 10_000, 10_001] },
  { value: "ecs.cacheTtl", env: "ECS_CACHE_TTL", component: "runner", probes: ["0s", "5m", "10", "1.5", "24h", "24h1ms", "abc", "5 m", "-1s"] },
  { value: "ecs.connectTimeout", env: "ECS_CONNECT_TIMEOUT", component: "runner", probes: ["99ms", "100ms", "0.5s", "2m", "2m1ms", "1m30s"] },
  { value: "ecs.readTimeout", env: "ECS_READ_TIMEOUT", component: "runner", probes: ["99ms", "100ms", "2m", "2m1ms"] },
  { value: "ecs.stsRegion", env: "ALIBABA_CLOUD_STS_REGION", component: "runner", probes: ["cn-shanghai", "ap-southeast-1", "Shanghai", "cn_shanghai"] },
  { value: "webhook.port", env: "WEBHOOK_PORT", component: "webhook", probes: ports },
  { value: "webhook.bodyLimit", env: "WEBHOOK_BODY_LIMIT", component: "webhook", probes: ["65535", "65536", "64Ki", "3Mi", "64Mi", "65Mi", "3MB", "1Gi"] },
  { value: "webhook.enqueueTimeout", env: "WEBHOOK_ENQUEUE_TIMEOUT", component: "webhook", probes: ["9ms", "10ms", "1s", "4s", "4001ms", "5s"] },
  { value: "webhook.ecsTimeout", env: "WEBHOOK_ECS_TIMEOUT", component: "webhook", probes: ["9ms", "10ms", "1500ms", "4s", "4.5s"] },
  { value: "webhook.namespaceEnqueuesPerMinute", env: "WEBHOOK_NAMESPACE_ENQUEUES_PER_MINUTE", component: "webhook", probes: [0, 1, 10_000, 10_001] },
  { value: "runner.concurrency", env: "RUNNER_CONCURRENCY", component: "runner", probes: [0, 1, 64, 65] },
  { value: "runner.cloudWaitTimeout", env: "RUNNER_CLOUD_WAIT_TIMEOUT", component: "runner", probes: ["999ms", "1s", "30m", "24h", "25h"] },
  { value: "runner.reconcileInterval", env: "RUNNER_RECONCILE_INTERVAL", component: "runner", probes: ["999ms", "1s", "30s", "1h", "61m"] },
  { value: "runner.leaseDuration", env: "RUNNER_LEASE_DURATION", component: "runner", probes: ["2999ms", "3s", "0.05", "15s", "5m", "5m1ms"] },
  { value: "runner.metricsPort", env: "METRICS_PORT", component: "runner", probes: ports },
];

/**
 * Where the chart is deliberately stricter than the configuration: the configuration takes a log
 * level, protocol or switch in any case; the chart only as written in values.yaml (and https only:
 * http is for a local ECS emulator, which the chart never runs; a switch as a YAML boolean).
 */
const STRICTER_IN_CHART: readonly { value: string; env: string; probe: string }[] = [
  { value: "logLevel", env: "LOG_LEVEL", probe: "INFO" },
  { value: "ecs.protocol", env: "ECS_PROTOCOL", probe: "HTTPS" },
  { value: "workloads.kruise", env: "WORKLOADS_KRUISE", probe: "TRUE" },
];

/** Variables the chart sets from no value of the user's, or from one checked elsewhere (identities, files). */
const NOT_FROM_A_VALUE = new Set(["ECS_REGION_ID", "ECS_PROTOCOL", "RUNNER_IDENTITY", "RUNNER_JOURNAL_KEY_FILE", "WEBHOOK_TLS_CERT", "WEBHOOK_TLS_KEY", "ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE", "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"]);

const containerEnv = (values: Values, component: Component): Map<string, string | undefined> => {
  const deployment = render(values).find((object) => object.kind === "Deployment" && object.metadata?.name === `zf-zoneferry-${component}`) as V1Deployment;
  return new Map(deployment.spec!.template.spec!.containers[0]!.env!.map((variable) => [variable.name, variable.value]));
};
const chartAccepts = (values: Values): boolean => {
  try {
    render(values);
    return true;
  } catch {
    return false;
  }
};
const configAccepts = (component: Component, env: string, value: string): boolean => {
  try {
    loadConfig({ ...BASE_ENV[component], [env]: value }, component);
    return true;
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.ok(error.problems.every((problem) => problem.startsWith(env)), error.problems.join("\n"));
    return false;
  }
};

describe("the chart's values and core/config.ts", () => {
  for (const rule of RULES) {
    it(`agree on ${rule.value} (${rule.env}${RULES.filter((other) => other.env === rule.env).length > 1 ? `, the ${rule.component}'s` : ""})`, () => {
      const verdicts = rule.probes.map((probe) => {
        const values = { ...BASE, [rule.value]: probe };
        const chart = chartAccepts(values);
        const config = configAccepts(rule.component, rule.env, String(probe));
        if (chart) assert.equal(containerEnv(values, rule.component).get(rule.env), String(probe), `${rule.value}=${String(probe)} reaches ${rule.env} as it is`);
        return { probe, chart, config };
      });
      assert.deepEqual(verdicts.filter((verdict) => verdict.chart !== verdict.config), [], "the chart and the configuration disagree");
      assert.ok(verdicts.some((verdict) => verdict.chart) && verdicts.some((verdict) => !verdict.chart), "the probes reach both sides of the rule");
    });
  }

  it("refuses, where it is stricter on purpose, only what the configuration would take", () => {
    for (const { value, env, probe } of STRICTER_IN_CHART) {
      assert.equal(chartAccepts({ ...BASE, [value]: probe }), false, value);
      assert.equal(configAccepts("runner", env, probe), true, env);
    }
  });

  it("covers every variable the chart sets from a user's value", () => {
    const covered = new Set(RULES.map((rule) => rule.env));
    const values = { ...BASE, "ecs.endpoint": "ecs.cn-shanghai.aliyuncs.com", "ecs.resourceSharingEndpoint": "resourcesharing.cn-shanghai.aliyuncs.com", "ecs.stsRegion": "cn-shanghai", "ecs.vpcEndpoints": true };
    const set = new Set([...containerEnv(values, "runner").keys(), ...containerEnv(values, "webhook").keys()]);
    assert.deepEqual([...set].filter((name) => !covered.has(name) && !NOT_FROM_A_VALUE.has(name)).sort(), []);
  });

  it("gives the Resource Sharing endpoint to the runner alone, and leaves the region's default to the configuration when unset", () => {
    const values = { ...BASE, "ecs.resourceSharingEndpoint": "resourcesharing-vpc.cn-shanghai.aliyuncs.com" };
    assert.equal(containerEnv(values, "runner").get("RESOURCE_SHARING_ENDPOINT"), "resourcesharing-vpc.cn-shanghai.aliyuncs.com");
    assert.equal(containerEnv(values, "webhook").has("RESOURCE_SHARING_ENDPOINT"), false, "the webhook never calls Resource Sharing");
    assert.equal(containerEnv(BASE, "runner").has("RESOURCE_SHARING_ENDPOINT"), false);
    assert.equal(loadConfig(BASE_ENV.runner, "runner").ecs.resourceSharingEndpoint, "resourcesharing.cn-shanghai.aliyuncs.com");
  });

  it("takes ECS inside the VPC from the library's own switch, and refuses the switch without an STS region, as the schema does", () => {
    const config = loadConfig({ ...BASE_ENV.runner, ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED: "true", ALIBABA_CLOUD_STS_REGION: "cn-shanghai" }, "runner");
    assert.equal(config.ecs.endpoint, "ecs-vpc.cn-shanghai.aliyuncs.com");
    assert.equal(config.ecs.stsRegion, "cn-shanghai");
    assert.equal(loadConfig({ ...BASE_ENV.runner, ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED: "true", ALIBABA_CLOUD_STS_REGION: "cn-shanghai", ECS_ENDPOINT: "ecs.internal:443" }, "runner").ecs.endpoint, "ecs.internal:443");
    assert.equal(loadConfig(BASE_ENV.runner, "runner").ecs.endpoint, undefined, "the SDK's public default otherwise");
    assert.throws(() => loadConfig({ ...BASE_ENV.runner, ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED: "true" }, "runner"), /ALIBABA_CLOUD_STS_REGION is not set but ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true/);
    assert.equal(chartAccepts({ ...BASE, "ecs.vpcEndpoints": true }), false);
  });
});
