/**
 * The ECS SDK (@alicloud/ecs20140526 7.x on @alicloud/openapi-core), built from zoneferry's
 * configuration: region, endpoint, protocol and timeouts from §7; credentials explicit or from
 * @alicloud/credentials' default chain (AK/SK env, RRSA OIDC, ...); and no SDK retries, because
 * the runner owns retrying (backoff, jitter, retry-after, rollback on permanent faults).
 */
import * as ecsModule from "@alicloud/ecs20140526";
import * as credentialsModule from "@alicloud/credentials";
import { $OpenApiUtil } from "@alicloud/openapi-core";

type Models = typeof ecsModule;

/** An instance of one of the SDK's model classes, e.g. `EcsModel<"CreateDiskRequest">`. */
export type EcsModel<K extends keyof Models> = Models[K] extends abstract new (...args: never[]) => infer R ? R : never;
type Instance<K extends keyof Models> = EcsModel<K>;

/**
 * The SDK calls zoneferry makes. The SDK's own Client type does not survive NodeNext resolution
 * (it extends a CommonJS default export and collapses to `any`), so the boundary is typed here,
 * with the SDK's request and response models.
 */
export interface EcsClient {
  createDisk(request: Instance<"CreateDiskRequest">): Promise<Instance<"CreateDiskResponse">>;
  deleteDisk(request: Instance<"DeleteDiskRequest">): Promise<Instance<"DeleteDiskResponse">>;
  describeDisks(request: Instance<"DescribeDisksRequest">): Promise<Instance<"DescribeDisksResponse">>;
  createSnapshot(request: Instance<"CreateSnapshotRequest">): Promise<Instance<"CreateSnapshotResponse">>;
  deleteSnapshot(request: Instance<"DeleteSnapshotRequest">): Promise<Instance<"DeleteSnapshotResponse">>;
  describeSnapshots(request: Instance<"DescribeSnapshotsRequest">): Promise<Instance<"DescribeSnapshotsResponse">>;
  describeAvailableResource(request: Instance<"DescribeAvailableResourceRequest">): Promise<Instance<"DescribeAvailableResourceResponse">>;
}

export interface EcsClientOptions {
  readonly regionId: string;
  /** host[:port]; undefined lets the SDK derive the endpoint from the region. */
  readonly endpoint: string | undefined;
  readonly protocol: "https" | "http";
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  /** Explicit keys; undefined uses the default credential chain. */
  readonly accessKey: { readonly id: string; readonly secret: string; readonly securityToken?: string } | undefined;
}

// These packages are CommonJS with `exports.default`; under Node's ESM loader the class sits one
// level below where their type declarations put it.
export function commonJsDefault<T>(namespace: { default: T }): T {
  const inner = (namespace.default as { default?: T }).default;
  return inner ?? namespace.default;
}

/**
 * The SDK's Client class, typed by the caller with the calls it makes (the SDK's own type is lost,
 * see `EcsClient`).
 */
// T is the caller's typing of the untyped class: it appears once by design.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
export function ecsClientConstructor<T>(): new (config: $OpenApiUtil.Config) => T {
  return commonJsDefault(ecsModule) as unknown as new (config: $OpenApiUtil.Config) => T;
}

const EcsClientClass = ecsClientConstructor<EcsClient>();
// The default chain: ALIBABA_CLOUD_ACCESS_KEY_* env, RRSA (OIDC token file), CLI profile, ECS RAM role.
const CredentialClass = commonJsDefault(credentialsModule as unknown as { default: new () => object });

export function createEcsClient(options: EcsClientOptions): EcsClient {
  return new EcsClientClass(openApiConfig(options));
}

/** openapi-core's configuration for these options: the ECS SDK's, and Resource Sharing's generic client's. */
export function openApiConfig(options: EcsClientOptions): $OpenApiUtil.Config {
  return new $OpenApiUtil.Config({
    regionId: options.regionId,
    protocol: options.protocol,
    // The SDK's connect timeout is a socket idle timeout: it must cover the slowest answer too.
    connectTimeout: Math.max(options.connectTimeoutMs, options.readTimeoutMs),
    readTimeout: options.readTimeoutMs,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.accessKey === undefined
      ? { credential: new CredentialClass() }
      : {
          accessKeyId: options.accessKey.id,
          accessKeySecret: options.accessKey.secret,
          ...(options.accessKey.securityToken === undefined ? {} : { securityToken: options.accessKey.securityToken }),
        }),
  });
}

/** Request models of the SDK, for the adapter. */
export const EcsModels = ecsModule;
