/**
 * Test support for the ECS emulator: an emulator per test file, the real @alicloud/ecs20140526 SDK
 * pointed at it over HTTP, and a small client of the control API.
 */
import assert from "node:assert/strict";
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import * as ecsModule from "@alicloud/ecs20140526";
import { $OpenApiUtil } from "@alicloud/openapi-core";
import type * as $dara from "@darabonba/typescript";
import { ecsClientConstructor, type EcsModel } from "../../core/ecs/ecs-sdk.ts";
import { defaultEmulatorConfig, startEcsEmulator, type EcsEmulator, type EmulatorConfigOverrides } from "../../emulator/ecs/index.ts";

/** The SDK's request models: `new Ecs.CreateDiskRequest({ … })`. */
export const Ecs = ecsModule;

type Instance<K extends keyof typeof ecsModule> = EcsModel<K>;

/**
 * The calls the tests make. The SDK's Client type does not survive NodeNext resolution (it
 * extends a CommonJS default export), so it is declared here with the SDK's own models.
 */
export interface EcsClient {
  createDisk(request: Instance<"CreateDiskRequest">): Promise<Instance<"CreateDiskResponse">>;
  describeDisks(request: Instance<"DescribeDisksRequest">): Promise<Instance<"DescribeDisksResponse">>;
  describeDisksWithOptions(request: Instance<"DescribeDisksRequest">, runtime: $dara.RuntimeOptions): Promise<Instance<"DescribeDisksResponse">>;
  deleteDisk(request: Instance<"DeleteDiskRequest">): Promise<Instance<"DeleteDiskResponse">>;
  createSnapshot(request: Instance<"CreateSnapshotRequest">): Promise<Instance<"CreateSnapshotResponse">>;
  describeSnapshots(request: Instance<"DescribeSnapshotsRequest">): Promise<Instance<"DescribeSnapshotsResponse">>;
  deleteSnapshot(request: Instance<"DeleteSnapshotRequest">): Promise<Instance<"DeleteSnapshotResponse">>;
  describeAvailableResource(request: Instance<"DescribeAvailableResourceRequest">): Promise<Instance<"DescribeAvailableResourceResponse">>;
  describeZones(request: Instance<"DescribeZonesRequest">): Promise<Instance<"DescribeZonesResponse">>;
  tagResources(request: Instance<"TagResourcesRequest">): Promise<Instance<"TagResourcesResponse">>;
  describeRegions(request: Instance<"DescribeRegionsRequest">): Promise<Instance<"DescribeRegionsResponse">>;
}

const clientClass = ecsClientConstructor<EcsClient>;

export const REGION = "cn-shanghai";
export const ZONE_B = "cn-shanghai-b";
export const ZONE_G = "cn-shanghai-g";
export const ZONE_M = "cn-shanghai-m";
export const KEY = { accessKeyId: "emulator-test-key", accessKeySecret: "emulator-test-secret" };

/** Three zones: B sells the usual categories, G has cloud_ssd sold out, M sells no cloud_auto. */
export function testConfigOverrides(overrides: EmulatorConfigOverrides = {}): EmulatorConfigOverrides {
  return {
    regionId: REGION,
    accounts: [KEY],
    zones: [
      { zoneId: ZONE_B, categories: ["cloud_essd", "cloud_auto", "cloud_essd_entry", "cloud_ssd", "cloud_efficiency"] },
      { zoneId: ZONE_G, categories: ["cloud_essd", "cloud_ssd"], soldOut: ["cloud_ssd"] },
      { zoneId: ZONE_M, categories: ["cloud_essd", "cloud_ssd", "cloud_efficiency"] },
    ],
    // A real cloud's durations, a thousand times faster.
    timeScale: 0.001,
    ...overrides,
  };
}

export interface ClientOptions {
  readonly accessKeyId?: string;
  readonly accessKeySecret?: string;
  readonly securityToken?: string;
  readonly signatureAlgorithm?: string;
  readonly readTimeout?: number;
  readonly connectTimeout?: number;
  readonly retryOptions?: $dara.RetryOptions;
}

export function sdkClient(emulator: EcsEmulator, options: ClientOptions = {}): EcsClient {
  const Client = clientClass();
  return new Client(
    new $OpenApiUtil.Config({
      accessKeyId: options.accessKeyId ?? KEY.accessKeyId,
      accessKeySecret: options.accessKeySecret ?? KEY.accessKeySecret,
      endpoint: emulator.endpoint,
      protocol: "http",
      regionId: REGION,
      readTimeout: options.readTimeout ?? 5_000,
      connectTimeout: options.connectTimeout ?? 5_000,
      ...(options.securityToken === undefined ? {} : { securityToken: options.securityToken }),
      ...(options.signatureAlgorithm === undefined ? {} : { signatureAlgorithm: options.signatureAlgorithm }),
      ...(options.retryOptions === undefined ? {} : { retryOptions: options.retryOptions }),
    }),
  );
}

/** The control API, as plain fetch calls. */
export class Control {
  readonly #base: string;

  constructor(url: string) {
    this.#base = `${url}/_emulator`;
  }

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown; text: string }> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      init.headers = { "content-type": typeof body === "string" ? "text/plain" : "application/json" };
    }
    const response = await fetch(`${this.#base}${path}`, init);
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text };
  }

  async ok<T>(method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.call(method, path, body);
    assert.ok(answer.status >= 200 && answer.status < 300, `${method} ${path} answered ${answer.status}: ${answer.text}`);
    return answer.json as T;
  }

  /** Seeds a disk and returns its id. */
  async seedDisk(disk: Record<string, unknown>): Promise<string> {
    return (await this.ok<{ diskId: string }>("POST", "/disks", { zoneId: ZONE_B, category: "cloud_essd", size: 40, ...disk })).diskId;
  }

  async inject(fault: Record<string, unknown>): Promise<string> {
    return (await this.ok<{ id: string }>("POST", "/faults", fault)).id;
  }

  async requests(): Promise<Array<{ action: string; status: number; code?: string; hung?: true; params: Record<string, string> }>> {
    return this.ok("GET", "/requests");
  }

  async content(id: string, kind: "disks" | "snapshots" = "disks"): Promise<string | undefined> {
    const answer = await this.call("GET", `/${kind}/${id}/content`);
    return answer.status === 404 ? undefined : answer.text;
  }
}

export interface TestEmulator {
  readonly emulator: EcsEmulator;
  readonly ecs: EcsClient;
  readonly control: Control;
  client(options?: ClientOptions): EcsClient;
  close(): Promise<void>;
}

export async function startTestEmulator(overrides: EmulatorConfigOverrides = {}): Promise<TestEmulator> {
  const emulator = await startEcsEmulator({ port: 0, config: defaultEmulatorConfig(testConfigOverrides(overrides)) });
  return {
    emulator,
    ecs: sdkClient(emulator),
    control: new Control(emulator.url),
    client: (options) => sdkClient(emulator, options),
    close: () => emulator.close(),
  };
}

/** An error the SDK threw, as far as the tests look at it. */
export interface SdkError {
  readonly name: string;
  readonly code: string;
  readonly statusCode: number;
  readonly message: string;
  readonly retryAfter?: number;
  readonly data?: Record<string, unknown>;
}

/** Awaits `call` and returns the SDK error it must throw. */
export async function sdkError(call: Promise<unknown>): Promise<SdkError> {
  try {
    await call;
  } catch (error) {
    return error as SdkError;
  }
  assert.fail("the call succeeded, but an error was expected");
}

/** Asserts the call fails with ECS `code` and HTTP `status`, and returns the error. */
export async function rejectsWithCode(call: Promise<unknown>, code: string, status: number): Promise<SdkError> {
  const error = await sdkError(call);
  assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
  assert.equal(error.statusCode, status, `expected HTTP ${status} for ${code}`);
  return error;
}

/** Polls `read` until `done` holds (or fails after `timeoutMs`). */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One request as it went over the wire. */
export interface CapturedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

export interface Tap {
  /** host:port to give the SDK as its endpoint. */
  readonly endpoint: string;
  readonly url: string;
  readonly captured: CapturedRequest[];
  close(): Promise<void>;
}

/**
 * A pass-through in front of the emulator that records every request byte for byte, so a test
 * can replay what the SDK sent. Replays go through the tap too, keeping the signed Host header.
 */
export async function startTap(target: EcsEmulator): Promise<Tap> {
  const captured: CapturedRequest[] = [];
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const body = Buffer.concat(chunks);
      const headers = Object.fromEntries(Object.entries(incoming.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(",") : (value ?? "")]));
      captured.push({ method: incoming.method ?? "GET", url: incoming.url ?? "/", headers, body });
      const forward = httpRequest({ host: "127.0.0.1", port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      });
      forward.on("error", () => outgoing.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    captured,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

/** Sends `request` again through the tap with fetch, optionally changed; returns the status and ECS error body. */
export async function replay(tap: Tap, request: CapturedRequest, change: { headers?: Record<string, string | undefined>; body?: string } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...request.headers, ...change.headers })) {
    // fetch sets these itself (host from the URL, which is the tap's: the signed value).
    if (value !== undefined && !["host", "content-length", "connection"].includes(name)) headers[name] = value;
  }
  const body = change.body ?? (request.body.length > 0 ? request.body.toString() : undefined);
  const response = await fetch(`${tap.url}${request.url}`, { method: request.method, headers, ...(body === undefined ? {} : { body }) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
