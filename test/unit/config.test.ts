import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../core/config.ts";

const WEBHOOK_ENV = { WEBHOOK_TLS_CERT: "/certs/tls.crt", WEBHOOK_TLS_KEY: "/certs/tls.key" };

function problems(env: Record<string, string>, component: "webhook" | "runner" = "webhook"): readonly string[] {
  try {
    loadConfig(env, component);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail("expected the configuration to be rejected");
}

describe("configuration", () => {
  it("applies the contract's defaults", () => {
    const config = loadConfig(WEBHOOK_ENV, "webhook");
    assert.equal(config.redisUrl, "redis://127.0.0.1:6379");
    assert.equal(config.webhook.port, 8443);
    assert.equal(config.webhook.bodyLimitBytes, 3 * 1024 * 1024);
    assert.equal(config.ecs.protocol, "https");
    assert.equal(config.runner.concurrency, 4);
    assert.equal(config.logLevel, "info");
    assert.equal(config.kubeconfig, undefined);
  });

  it("is frozen, so nothing can change it after start", () => {
    const config = loadConfig(WEBHOOK_ENV, "webhook");
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.webhook) && Object.isFrozen(config.ecs));
  });

  it("reads every variable it knows", () => {
    const config = loadConfig({
      ...WEBHOOK_ENV,
      REDIS_URL: "rediss://:secret@redis.zoneferry:6380/2",
      KUBECONFIG: "/home/me/.kube/config",
      ECS_REGION_ID: "cn-shanghai",
      ECS_ENDPOINT: "127.0.0.1:9100",
      ECS_PROTOCOL: "http",
      ECS_INSECURE_EMULATOR: "true",
      ECS_CACHE_TTL: "1m",
      WEBHOOK_PORT: "9443",
      WEBHOOK_BODY_LIMIT: "1Mi",
      WEBHOOK_ENQUEUE_TIMEOUT: "250ms",
      WEBHOOK_ECS_TIMEOUT: "2s",
      RUNNER_IDENTITY: "system:serviceaccount:zoneferry:runner",
      RUNNER_CONCURRENCY: "8",
      METRICS_PORT: "9091",
      LOG_LEVEL: "debug",
    }, "webhook");
    assert.equal(config.ecs.endpoint, "127.0.0.1:9100");
    assert.equal(config.ecs.protocol, "http");
    assert.equal(config.ecs.insecureEmulator, true);
    assert.equal(config.ecs.cacheTtlMs, 60_000);
    assert.equal(config.webhook.bodyLimitBytes, 1024 * 1024);
    assert.equal(config.webhook.enqueueTimeoutMs, 250);
    assert.equal(config.runner.identity, "system:serviceaccount:zoneferry:runner");
    assert.equal(config.logLevel, "debug");
  });

  it("bounds the runner's cloud waits and reconcile passes, 30 minutes and 30 seconds unless told", () => {
    const defaults = loadConfig({ ECS_REGION_ID: "cn-shanghai", RUNNER_JOURNAL_KEY_FILE: "/key" }, "runner");
    assert.equal(defaults.runner.cloudWaitTimeoutMs, 1_800_000);
    assert.equal(defaults.runner.reconcileIntervalMs, 30_000);
    assert.equal(defaults.runner.leaseDurationMs, 15_000);
    assert.match(problems({ ECS_REGION_ID: "cn-shanghai", RUNNER_JOURNAL_KEY_FILE: "/key", RUNNER_LEASE_DURATION: "1s" }, "runner")[0]!, /^RUNNER_LEASE_DURATION="1s" is not a duration from 3s to 5m;/);
    const tuned = loadConfig({ ECS_REGION_ID: "cn-shanghai", RUNNER_JOURNAL_KEY_FILE: "/key", RUNNER_CLOUD_WAIT_TIMEOUT: "2h", RUNNER_RECONCILE_INTERVAL: "5s" }, "runner");
    assert.equal(tuned.runner.cloudWaitTimeoutMs, 7_200_000);
    assert.equal(tuned.runner.reconcileIntervalMs, 5_000);
    assert.match(problems({ ECS_REGION_ID: "cn-shanghai", RUNNER_JOURNAL_KEY_FILE: "/key", RUNNER_RECONCILE_INTERVAL: "0s" }, "runner")[0]!, /^RUNNER_RECONCILE_INTERVAL="0s" is not a duration from 1s to 1h;/);
  });

  it("names every missing required variable of the webhook", () => {
    assert.deepEqual(problems({}), [
      "WEBHOOK_TLS_CERT is not set; set it to the PEM certificate file",
      "WEBHOOK_TLS_KEY is not set; set it to the PEM private key file",
    ]);
  });

  it("requires the ECS region and the journal key for the runner", () => {
    assert.deepEqual(problems({}, "runner"), [
      "ECS_REGION_ID is not set; set it to the region of the cluster's disks, e.g. cn-shanghai",
      "RUNNER_JOURNAL_KEY_FILE is not set; set it to the file of the key the runner seals its ZoneMigration journals with (the chart makes it)",
    ]);
  });

  it("names each malformed value with what is allowed, all at once", () => {
    assert.deepEqual(problems({
      ...WEBHOOK_ENV,
      REDIS_URL: "localhost:6379",
      WEBHOOK_PORT: "84430",
      ECS_PROTOCOL: "ftp",
      ECS_ENDPOINT: "https://ecs.aliyuncs.com",
      WEBHOOK_ENQUEUE_TIMEOUT: "10s",
      WEBHOOK_BODY_LIMIT: "3GB",
      RUNNER_CONCURRENCY: "zero",
      LOG_LEVEL: "loud",
    }), [
      'REDIS_URL="localhost:6379" is not a Redis URL; write it like redis://host:6379, rediss://user:password@host:6380/0 or, for Sentinel, redis+sentinel://:password@host1:26379,host2:26379/mymaster',
      'ECS_ENDPOINT="https://ecs.aliyuncs.com" is not host[:port]; write it like ecs.cn-shanghai.aliyuncs.com or 127.0.0.1:9100, without a scheme (ECS_PROTOCOL sets it)',
      'ECS_PROTOCOL="ftp" is not allowed; use one of https, http',
      'WEBHOOK_PORT="84430" is not a TCP port; use a whole number from 1 to 65535',
      'WEBHOOK_BODY_LIMIT="3GB" is not a size from 64Ki to 64Mi; write it like 3Mi, 512Ki or 3145728',
      'WEBHOOK_ENQUEUE_TIMEOUT="10s" is not a duration from 10ms to 4s; write it like "500ms", "2s" or "5m"',
      'RUNNER_CONCURRENCY="zero" is not a number of StatefulSets; use a whole number from 1 to 64',
      'LOG_LEVEL="loud" is not allowed; use one of fatal, error, warn, info, debug, trace, silent',
    ]);
  });

  it("refuses half an AccessKey instead of silently falling back to the default chain", () => {
    assert.deepEqual(problems({ ...WEBHOOK_ENV, ALIBABA_CLOUD_ACCESS_KEY_ID: "example-key-id" }), [
      "ALIBABA_CLOUD_ACCESS_KEY_SECRET is not set but its other half is; set both, or neither to use the default credential chain (RRSA, ...)",
    ]);
  });

  it("takes an explicit AccessKey pair (and STS token) or leaves credentials to the default chain", () => {
    assert.equal(loadConfig(WEBHOOK_ENV, "webhook").ecs.accessKey, undefined);
    const config = loadConfig({ ...WEBHOOK_ENV, ALIBABA_CLOUD_ACCESS_KEY_ID: "id", ALIBABA_CLOUD_ACCESS_KEY_SECRET: "secret", ALIBABA_CLOUD_SECURITY_TOKEN: "sts" }, "webhook");
    assert.deepEqual(config.ecs.accessKey, { id: "id", secret: "secret", securityToken: "sts" });
  });

  it("spaces ECS calls at 20 per second unless told otherwise, and refuses a rate that is not a count", () => {
    assert.equal(loadConfig(WEBHOOK_ENV, "webhook").ecs.requestsPerSecond, 20);
    assert.equal(loadConfig({ ...WEBHOOK_ENV, ECS_RATE_LIMIT: "100" }, "webhook").ecs.requestsPerSecond, 100);
    assert.deepEqual(problems({ ...WEBHOOK_ENV, ECS_RATE_LIMIT: "fast" }), ['ECS_RATE_LIMIT="fast" is not a number of ECS calls per second; use a whole number from 1 to 10000']);
  });

  it("reads the ECS timeouts as durations", () => {
    const config = loadConfig({ ...WEBHOOK_ENV, ECS_CONNECT_TIMEOUT: "2s", ECS_READ_TIMEOUT: "30s" }, "webhook");
    assert.equal(config.ecs.connectTimeoutMs, 2_000);
    assert.equal(config.ecs.readTimeoutMs, 30_000);
    assert.match(problems({ ...WEBHOOK_ENV, ECS_READ_TIMEOUT: "forever" })[0]!, /^ECS_READ_TIMEOUT="forever" is not a duration/);
  });

  it("refuses ECS over http unless the endpoint is named an emulator, and says what to set", () => {
    assert.deepEqual(problems({ ...WEBHOOK_ENV, ECS_ENDPOINT: "ecs.cn-shanghai.aliyuncs.com", ECS_PROTOCOL: "http" }), [
      "ECS_PROTOCOL=http is only for a local ECS emulator (requests and their credentials would travel in clear); use https, or set ECS_INSECURE_EMULATOR=true with ECS_ENDPOINT at the emulator",
    ]);
    assert.deepEqual(problems({ ...WEBHOOK_ENV, ECS_PROTOCOL: "http", ECS_INSECURE_EMULATOR: "true" }), [
      "ECS_INSECURE_EMULATOR=true with ECS_PROTOCOL=http needs ECS_ENDPOINT, the emulator's host:port; without it requests would go in clear to Alibaba Cloud's public endpoint",
    ]);
    assert.deepEqual(problems({ ...WEBHOOK_ENV, ECS_INSECURE_EMULATOR: "yes" }), ['ECS_INSECURE_EMULATOR="yes" is not allowed; use true or false']);
  });

  it("shares snapshots through the region's Resource Sharing endpoint unless told, its VPC one with the VPC switch", () => {
    const runner = { ECS_REGION_ID: "cn-shanghai", RUNNER_JOURNAL_KEY_FILE: "/key" };
    assert.equal(loadConfig(runner, "runner").ecs.resourceSharingEndpoint, "resourcesharing.cn-shanghai.aliyuncs.com");
    assert.equal(loadConfig({ ...runner, ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED: "true", ALIBABA_CLOUD_STS_REGION: "cn-shanghai" }, "runner").ecs.resourceSharingEndpoint, "resourcesharing-vpc.cn-shanghai.aliyuncs.com");
    assert.equal(loadConfig({ ...runner, RESOURCE_SHARING_ENDPOINT: "127.0.0.1:9100" }, "runner").ecs.resourceSharingEndpoint, "127.0.0.1:9100");
    assert.equal(loadConfig(WEBHOOK_ENV, "webhook").ecs.resourceSharingEndpoint, undefined, "no region, no endpoint");
    assert.deepEqual(problems({ ...runner, RESOURCE_SHARING_ENDPOINT: "https://resourcesharing.aliyuncs.com" }, "runner"), [
      'RESOURCE_SHARING_ENDPOINT="https://resourcesharing.aliyuncs.com" is not host[:port]; write it like resourcesharing.cn-shanghai.aliyuncs.com or 127.0.0.1:9100, without a scheme (ECS_PROTOCOL sets it)',
    ]);
  });

  it("refuses a runner at an emulator over http that does not name the emulator for Resource Sharing too; the webhook, which never shares, needs none", () => {
    const emulated = { ECS_REGION_ID: "cn-shanghai", RUNNER_JOURNAL_KEY_FILE: "/key", ECS_ENDPOINT: "127.0.0.1:9100", ECS_PROTOCOL: "http", ECS_INSECURE_EMULATOR: "true" };
    assert.deepEqual(problems(emulated, "runner"), [
      "ECS_INSECURE_EMULATOR=true with ECS_PROTOCOL=http needs RESOURCE_SHARING_ENDPOINT, the emulator's host:port (it serves Resource Sharing beside ECS); without it the runner's sharing calls would go in clear to Alibaba Cloud's public endpoint",
    ]);
    assert.equal(loadConfig({ ...emulated, RESOURCE_SHARING_ENDPOINT: "127.0.0.1:9100" }, "runner").ecs.resourceSharingEndpoint, "127.0.0.1:9100");
    assert.equal(loadConfig({ ...WEBHOOK_ENV, ...emulated }, "webhook").ecs.protocol, "http");
  });

  it("keeps https whatever the emulator setting says, and takes http from an emulator on loopback", () => {
    const emulated = loadConfig({ ...WEBHOOK_ENV, ECS_ENDPOINT: "127.0.0.1:9100", ECS_PROTOCOL: "HTTP", ECS_INSECURE_EMULATOR: "TRUE" }, "webhook");
    assert.deepEqual([emulated.ecs.protocol, emulated.ecs.insecureEmulator], ["http", true]);
    const secure = loadConfig({ ...WEBHOOK_ENV, ECS_INSECURE_EMULATOR: "true" }, "webhook");
    assert.deepEqual([secure.ecs.protocol, secure.ecs.insecureEmulator], ["https", true]);
    assert.equal(loadConfig(WEBHOOK_ENV, "webhook").ecs.insecureEmulator, false);
  });

  it("never echoes the password of a REDIS_URL it refuses", () => {
    for (const [url, shown] of [
      ["http://:hunter2@redis.infra:6379", "http://:***@redis.infra:6379"],
      ["redis//queue:hunter2@redis.infra:6380/0", "redis//queue:***@redis.infra:6380/0"],
      ["redis+sentinel://:hunter2@sentinel-a/mymaster", "redis+sentinel://:***@sentinel-a/mymaster"],
      ["tcp://redis.infra:6379?password=hunter2", "tcp://redis.infra:6379?password=***"],
    ] as const) {
      const [problem] = problems({ ...WEBHOOK_ENV, REDIS_URL: url });
      assert.ok(problem!.startsWith(`REDIS_URL=${JSON.stringify(shown)} is not a Redis URL;`), problem);
      assert.doesNotMatch(problem!, /hunter2/);
    }
  });

  it("shows every problem in the error message a failed start prints", () => {
    assert.throws(() => loadConfig({ WEBHOOK_PORT: "x" }, "webhook"), /invalid configuration:\n {2}- WEBHOOK_PORT="x" is not a TCP port/);
  });
});

describe("configuration of the webhook's bounds and caller check", () => {
  it("plans moves of at most 1000 replicas, 30 enqueues per namespace a minute and no caller check unless told", () => {
    const config = loadConfig(WEBHOOK_ENV, "webhook");
    assert.equal(config.maxReplicas, 1000);
    assert.equal(config.webhook.namespaceEnqueuesPerMinute, 30);
    assert.equal(config.webhook.clientCaFile, undefined);
  });

  it("reads MAX_REPLICAS, the per-namespace enqueue rate and the client CA file", () => {
    const config = loadConfig({ ...WEBHOOK_ENV, MAX_REPLICAS: "250", WEBHOOK_NAMESPACE_ENQUEUES_PER_MINUTE: "5", WEBHOOK_CLIENT_CA_FILE: "/etc/zoneferry/client-ca/ca.crt" }, "webhook");
    assert.deepEqual([config.maxReplicas, config.webhook.namespaceEnqueuesPerMinute, config.webhook.clientCaFile], [250, 5, "/etc/zoneferry/client-ca/ca.crt"]);
  });

  it("refuses a replica ceiling or an enqueue rate that is not a positive count", () => {
    assert.deepEqual(problems({ ...WEBHOOK_ENV, MAX_REPLICAS: "2147483647", WEBHOOK_NAMESPACE_ENQUEUES_PER_MINUTE: "0" }), [
      'MAX_REPLICAS="2147483647" is not a number of replicas; use a whole number from 1 to 100000',
      'WEBHOOK_NAMESPACE_ENQUEUES_PER_MINUTE="0" is not a number of migrations per minute; use a whole number from 1 to 10000',
    ]);
  });
});
