/**
 * Configuration (contract §7), parsed once at start into a typed, frozen object. Nothing below a
 * `main` reads `process.env`; the Helm values map one to one onto these variables.
 */
import { formatDuration, parseDuration } from "./duration.ts";
import { DEFAULT_MAX_REPLICAS } from "./size-limits.ts";
import { redactRedisUrl, redisTarget } from "./redis-target.ts";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  readonly redisUrl: string;
  /** Path of a kubeconfig; undefined means in-cluster credentials. */
  readonly kubeconfig: string | undefined;
  /**
   * MAX_REPLICAS: the largest StatefulSet a move is planned for (core/size-limits.ts). Read by both
   * components, so admission and the runner's precheck refuse the same StatefulSets.
   */
  readonly maxReplicas: number;
  /**
   * WORKLOADS_KRUISE: OpenKruise Advanced StatefulSets (apps.kruise.io/v1beta1) are migrated too.
   * Off, the webhook watches and admits only apps/v1 and the runner never calls the kruise API,
   * so a cluster without kruise's CRD needs nothing from it (core/workload/kinds.ts).
   */
  readonly workloads: { readonly kruise: boolean };
  /**
   * CROSS_ACCOUNT: exports and restores across accounts (docs/cross-account.md) are admitted and
   * run. Off (the chart grants the runner nothing they write), the webhook refuses them up front.
   */
  readonly crossAccount: boolean;
  readonly ecs: {
    readonly regionId: string | undefined;
    /**
     * host[:port]: ECS_ENDPOINT, else with `vpcEndpoints` the region's VPC endpoint
     * (ecs-vpc.<region>.aliyuncs.com); undefined means the SDK's default, public, for the region.
     */
    readonly endpoint: string | undefined;
    /**
     * host[:port] of Resource Sharing, which the runner's exports and restores share snapshots
     * across accounts through: RESOURCE_SHARING_ENDPOINT, else the region's
     * (resourcesharing.<region>.aliyuncs.com, resourcesharing-vpc.<region> with `vpcEndpoints`).
     * Always set when the region is known: openapi-core's generic call, which Resource Sharing is
     * called through, derives no endpoint from a region as the ECS SDK does. Undefined without a
     * region (a webhook that asks ECS nothing).
     */
    readonly resourceSharingEndpoint: string | undefined;
    /**
     * ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED, the switch @alicloud/credentials reads for STS (RRSA's
     * AssumeRoleWithOIDC goes to sts-vpc.<ALIBABA_CLOUD_STS_REGION>.aliyuncs.com); read here too
     * so that ECS calls take the VPC endpoint with it. The library reads both variables itself.
     */
    readonly vpcEndpoints: boolean;
    /** ALIBABA_CLOUD_STS_REGION, as the credentials library reads it; required with vpcEndpoints. */
    readonly stsRegion: string | undefined;
    readonly protocol: "https" | "http";
    /**
     * The endpoint is a local ECS emulator (ECS_INSECURE_EMULATOR): the only case in which
     * `protocol` may be http, since over http every request, signed with the cloud credentials,
     * travels in clear.
     */
    readonly insecureEmulator: boolean;
    /** How long an ECS answer stays in the webhook's cache. */
    readonly cacheTtlMs: number;
    readonly connectTimeoutMs: number;
    readonly readTimeoutMs: number;
    /** Largest average rate of ECS calls this process makes (bursts up to one second's worth). */
    readonly requestsPerSecond: number;
    /**
     * ECS_SERVICE_KEY_ID: the region's ECS service key (the KMSKeyId ECS reports for a disk
     * encrypted without a key of the user's). Resource Sharing refuses snapshots encrypted with it,
     * so an export of such a disk is refused before anything changes (core/shareable.ts). Undefined:
     * only a disk ECS reports no key for is recognized, and Resource Sharing refuses the others.
     */
    readonly serviceKeyId: string | undefined;
    /** Explicit keys (ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET); undefined uses the credentials default chain (RRSA, ...). */
    readonly accessKey: { readonly id: string; readonly secret: string; readonly securityToken?: string } | undefined;
  };
  readonly webhook: {
    readonly port: number;
    readonly tlsCertFile: string;
    readonly tlsKeyFile: string;
    /** Largest AdmissionReview body accepted, in bytes. */
    readonly bodyLimitBytes: number;
    /** Time an admission may spend adding its job to Redis before it admits without it. */
    readonly enqueueTimeoutMs: number;
    /** Time an admission may wait for ECS before it admits with an "ECS unreachable" warning. */
    readonly ecsTimeoutMs: number;
    /** New migrations queued per namespace per minute (bursts of as many); the reconciler queues the rest. */
    readonly namespaceEnqueuesPerMinute: number;
    /**
     * PEM file of the CA that signs the API server's client certificate for webhooks; undefined
     * means no caller check. When set, /validate and /mutate answer only callers with a
     * certificate it signed (webhook/client-auth.ts).
     */
    readonly clientCaFile: string | undefined;
  };
  readonly runner: {
    /** Kubernetes username of the runner: the only identity the migration guard lets through. */
    readonly identity: string | undefined;
    readonly concurrency: number;
    readonly metricsPort: number;
    /** How long new snapshots and disks may take to become Available before the migration rolls back. */
    readonly cloudWaitTimeoutMs: number;
    /** How often journals and StatefulSets are compared with the queue. */
    readonly reconcileIntervalMs: number;
    /**
     * How long a migration's Lease lasts unrenewed: a successor waits at most this long after a
     * runner dies mid-step. The job's BullMQ lock lasts two thirds of it (runner/worker.ts).
     */
    readonly leaseDurationMs: number;
    /** RUNNER_JOURNAL_KEY_FILE: the key the runner seals its journals with (runner/journal/seal.ts); "" for the webhook. */
    readonly journalKeyFile: string;
  };
  readonly logLevel: LogLevel;
}

export type Component = "webhook" | "runner";

/** Thrown with every problem found, one per line, so one start shows all of them. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Parses the environment of a component; throws ConfigError naming every bad variable. */
export function loadConfig(env: Env, component: Component): Config {
  const reader = new EnvReader(env);
  // Read in this order so the problems are listed in the order of the contract's table.
  const redisUrl = reader.redisUrl("REDIS_URL", "redis://127.0.0.1:6379");
  const kubeconfig = reader.optional("KUBECONFIG");
  const maxReplicas = reader.integer("MAX_REPLICAS", DEFAULT_MAX_REPLICAS, { min: 1, max: 100_000, what: "a number of replicas" });
  const regionId = component === "runner" ? reader.required("ECS_REGION_ID", "the region of the cluster's disks, e.g. cn-shanghai") : reader.optional("ECS_REGION_ID");
  const explicitEndpoint = reader.endpoint("ECS_ENDPOINT", "ecs.cn-shanghai.aliyuncs.com");
  const explicitSharingEndpoint = reader.endpoint("RESOURCE_SHARING_ENDPOINT", "resourcesharing.cn-shanghai.aliyuncs.com");
  const vpcEndpoints = reader.boolean("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED", false);
  const region = regionId !== undefined && regionId !== "" ? regionId : undefined;
  const endpoint = explicitEndpoint ?? (vpcEndpoints && region !== undefined ? `ecs-vpc.${region}.aliyuncs.com` : undefined);
  const resourceSharingEndpoint = explicitSharingEndpoint ?? (region === undefined ? undefined : `resourcesharing${vpcEndpoints ? "-vpc" : ""}.${region}.aliyuncs.com`);
  const config: Config = {
    redisUrl,
    kubeconfig,
    maxReplicas,
    workloads: { kruise: reader.boolean("WORKLOADS_KRUISE", false) },
    crossAccount: reader.boolean("CROSS_ACCOUNT", false),
    ecs: {
      regionId,
      endpoint,
      resourceSharingEndpoint,
      vpcEndpoints,
      stsRegion: reader.stsRegion("ALIBABA_CLOUD_STS_REGION", vpcEndpoints),
      protocol: reader.oneOf("ECS_PROTOCOL", ["https", "http"] as const, "https"),
      insecureEmulator: reader.boolean("ECS_INSECURE_EMULATOR", false),
      cacheTtlMs: reader.duration("ECS_CACHE_TTL", "5m", { min: 0, max: 86_400_000 }),
      connectTimeoutMs: reader.duration("ECS_CONNECT_TIMEOUT", "5s", { min: 100, max: 120_000 }),
      readTimeoutMs: reader.duration("ECS_READ_TIMEOUT", "10s", { min: 100, max: 120_000 }),
      serviceKeyId: reader.keyId("ECS_SERVICE_KEY_ID"),
      requestsPerSecond: reader.integer("ECS_RATE_LIMIT", 20, { min: 1, max: 10_000, what: "a number of ECS calls per second" }),
      accessKey: reader.accessKey(),
    },
    webhook: {
      port: reader.integer("WEBHOOK_PORT", 8443, { min: 1, max: 65_535, what: "a TCP port" }),
      tlsCertFile: component === "webhook" ? reader.required("WEBHOOK_TLS_CERT", "the PEM certificate file") : "",
      tlsKeyFile: component === "webhook" ? reader.required("WEBHOOK_TLS_KEY", "the PEM private key file") : "",
      bodyLimitBytes: reader.byteSize("WEBHOOK_BODY_LIMIT", 3 * 1024 * 1024),
      enqueueTimeoutMs: reader.duration("WEBHOOK_ENQUEUE_TIMEOUT", "1s", { min: 10, max: 4_000 }),
      ecsTimeoutMs: reader.duration("WEBHOOK_ECS_TIMEOUT", "1500ms", { min: 10, max: 4_000 }),
      namespaceEnqueuesPerMinute: reader.integer("WEBHOOK_NAMESPACE_ENQUEUES_PER_MINUTE", 30, { min: 1, max: 10_000, what: "a number of migrations per minute" }),
      clientCaFile: reader.optional("WEBHOOK_CLIENT_CA_FILE"),
    },
    runner: {
      identity: reader.optional("RUNNER_IDENTITY"),
      concurrency: reader.integer("RUNNER_CONCURRENCY", 4, { min: 1, max: 64, what: "a number of StatefulSets" }),
      metricsPort: reader.integer("METRICS_PORT", 9090, { min: 1, max: 65_535, what: "a TCP port" }),
      cloudWaitTimeoutMs: reader.duration("RUNNER_CLOUD_WAIT_TIMEOUT", "30m", { min: 1_000, max: 86_400_000 }),
      reconcileIntervalMs: reader.duration("RUNNER_RECONCILE_INTERVAL", "30s", { min: 1_000, max: 3_600_000 }),
      leaseDurationMs: reader.duration("RUNNER_LEASE_DURATION", "15s", { min: 3_000, max: 300_000 }),
      journalKeyFile: component === "runner" ? reader.required("RUNNER_JOURNAL_KEY_FILE", "the file of the key the runner seals its ZoneMigration journals with (the chart makes it)") : "",
    },
    logLevel: reader.oneOf("LOG_LEVEL", LOG_LEVELS, "info"),
  };
  reader.problems.push(...plaintextEcsProblems(config.ecs), ...(component === "runner" ? plaintextSharingProblems(config.ecs, explicitSharingEndpoint) : []));
  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return deepFreeze(config);
}

/**
 * ECS over http is for a local emulator only, and only when asked for by name: a stray
 * ECS_PROTOCOL=http in production would send every request, its signature and STS token with it,
 * in clear; and without an endpoint the SDK would send them to Alibaba Cloud's public one.
 */
function plaintextEcsProblems(ecs: Config["ecs"]): string[] {
  if (ecs.protocol !== "http") return [];
  if (!ecs.insecureEmulator) {
    return ["ECS_PROTOCOL=http is only for a local ECS emulator (requests and their credentials would travel in clear); use https, or set ECS_INSECURE_EMULATOR=true with ECS_ENDPOINT at the emulator"];
  }
  if (ecs.endpoint === undefined) {
    return ["ECS_INSECURE_EMULATOR=true with ECS_PROTOCOL=http needs ECS_ENDPOINT, the emulator's host:port; without it requests would go in clear to Alibaba Cloud's public endpoint"];
  }
  return [];
}

/**
 * The same for Resource Sharing, whose default is the region's public endpoint, so over http it
 * too must be named. The runner's only: the webhook never calls Resource Sharing.
 */
function plaintextSharingProblems(ecs: Config["ecs"], explicit: string | undefined): string[] {
  if (ecs.protocol !== "http" || !ecs.insecureEmulator || explicit !== undefined) return [];
  return ["ECS_INSECURE_EMULATOR=true with ECS_PROTOCOL=http needs RESOURCE_SHARING_ENDPOINT, the emulator's host:port (it serves Resource Sharing beside ECS); without it the runner's sharing calls would go in clear to Alibaba Cloud's public endpoint"];
}

function deepFreeze<T extends object>(value: T): T {
  for (const field of Object.values(value)) {
    if (typeof field === "object" && field !== null) deepFreeze(field as object);
  }
  return Object.freeze(value);
}

/** Reads variables, collecting a problem per bad value instead of stopping at the first. */
class EnvReader {
  readonly problems: string[] = [];
  readonly #env: Env;

  constructor(env: Env) {
    this.#env = env;
  }

  optional(name: string): string | undefined {
    const value = this.#env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  }

  /** A KMS key id (a UUID, or KMS's key-… form): letters, digits and dashes. */
  keyId(name: string): string | undefined {
    const value = this.optional(name);
    if (value === undefined || /^[A-Za-z0-9-]{1,128}$/.test(value)) return value;
    this.problems.push(`${name}=${JSON.stringify(value)} is not a KMS key id; write it as ECS reports it, like 0e478b7a-4262-4802-b8cb-00d3fb408260`);
    return undefined;
  }

  required(name: string, what: string): string {
    const value = this.optional(name);
    if (value === undefined) this.problems.push(`${name} is not set; set it to ${what}`);
    return value ?? "";
  }

  integer(name: string, fallback: number, range: { min: number; max: number; what: string }): number {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (parsed >= range.min && parsed <= range.max) return parsed;
    this.problems.push(`${name}=${JSON.stringify(value)} is not ${range.what}; use a whole number from ${range.min} to ${range.max}`);
    return fallback;
  }

  duration(name: string, fallback: string, range: { min: number; max: number }): number {
    const value = this.optional(name) ?? fallback;
    const parsed = parseDuration(value);
    if (parsed !== undefined && parsed >= range.min && parsed <= range.max) return parsed;
    this.problems.push(`${name}=${JSON.stringify(value)} is not a duration from ${formatDuration(range.min)} to ${formatDuration(range.max)}; write it like "500ms", "2s" or "5m"`);
    return parseDuration(fallback) ?? 0;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    const match = allowed.find((candidate) => candidate === value.toLowerCase());
    if (match !== undefined) return match;
    this.problems.push(`${name}=${JSON.stringify(value)} is not allowed; use one of ${allowed.join(", ")}`);
    return fallback;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    if (/^(true|false)$/i.test(value)) return value.toLowerCase() === "true";
    this.problems.push(`${name}=${JSON.stringify(value)} is not allowed; use true or false`);
    return fallback;
  }

  redisUrl(name: string, fallback: string): string {
    const value = this.optional(name) ?? fallback;
    if (redisTarget(value) !== undefined) return value;
    // The value carries the queue's password: the message names the rest of it.
    this.problems.push(`${name}=${JSON.stringify(redactRedisUrl(value))} is not a Redis URL; write it like redis://host:6379, rediss://user:password@host:6380/0 or, for Sentinel, redis+sentinel://:password@host1:26379,host2:26379/mymaster`);
    return fallback;
  }

  /**
   * The credentials library sends STS calls to the VPC endpoint only when it has a region: with
   * ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED alone it would quietly call the public sts.aliyuncs.com.
   */
  stsRegion(name: string, vpcEndpoints: boolean): string | undefined {
    const value = this.optional(name);
    if (value === undefined) {
      if (vpcEndpoints) this.problems.push(`${name} is not set but ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true; set it to the STS region, e.g. cn-shanghai (without it STS is called at the public sts.aliyuncs.com)`);
      return undefined;
    }
    if (/^[a-z0-9]+(-[a-z0-9]+)+$/.test(value)) return value;
    this.problems.push(`${name}=${JSON.stringify(value)} is not a region id; write it like cn-shanghai`);
    return undefined;
  }

  /** `example`: the service's public host in a region, shown in the problem. */
  endpoint(name: string, example: string): string | undefined {
    const value = this.optional(name);
    if (value === undefined || /^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(value)) return value;
    this.problems.push(`${name}=${JSON.stringify(value)} is not host[:port]; write it like ${example} or 127.0.0.1:9100, without a scheme (ECS_PROTOCOL sets it)`);
    return undefined;
  }

  /** Both halves of an AccessKey or neither: half a key is a mistake, not a request for the default chain. */
  accessKey(): Config["ecs"]["accessKey"] {
    const id = this.optional("ALIBABA_CLOUD_ACCESS_KEY_ID");
    const secret = this.optional("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
    const securityToken = this.optional("ALIBABA_CLOUD_SECURITY_TOKEN");
    if (id === undefined && secret === undefined) return undefined;
    if (id === undefined || secret === undefined) {
      this.problems.push(`${id === undefined ? "ALIBABA_CLOUD_ACCESS_KEY_ID" : "ALIBABA_CLOUD_ACCESS_KEY_SECRET"} is not set but its other half is; set both, or neither to use the default credential chain (RRSA, ...)`);
      return undefined;
    }
    return securityToken === undefined ? { id, secret } : { id, secret, securityToken };
  }

  byteSize(name: string, fallback: number): number {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    const match = /^(\d+)(Ki|Mi)?$/.exec(value);
    const multiplier = match?.[2] === "Mi" ? 1024 * 1024 : match?.[2] === "Ki" ? 1024 : 1;
    const bytes = match === null ? Number.NaN : Number(match[1]) * multiplier;
    if (bytes >= 64 * 1024 && bytes <= 64 * 1024 * 1024) return bytes;
    this.problems.push(`${name}=${JSON.stringify(value)} is not a size from 64Ki to 64Mi; write it like 3Mi, 512Ki or 3145728`);
    return fallback;
  }
}
