/**
 * The control API under /_emulator/: JSON, no authentication, not part of ECS. Tests, the sandbox
 * and the demo use it to plant disks and contents, attach and detach disks, inject faults, read
 * what happened (inventory, state, request log), move the clock and start over.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { validateConfig, EmulatorConfigError } from "./config-validation.ts";
import type { ZoneConfig } from "./config.ts";
import { isoSeconds } from "./clock.ts";
import { FaultSpecError } from "./faults.ts";
import { BodyTooLargeError, readBody, sendBytes, sendJson } from "./http-io.ts";
import { attachDisk, compactDisk, ControlError, detachDisk, diskOrFail, inventory, seedDisk } from "./inventory.ts";
import type { EmulatorRuntime } from "./runtime.ts";

/** Contents are opaque test data; this is far more than any fingerprint needs. */
const BODY_LIMIT = 64 * 1024 * 1024;

interface ControlRequest {
  readonly body: Buffer;
  readonly contentType: string | undefined;
  /** The route's captured path segments. */
  readonly segments: readonly string[];
}

type Answer = { readonly status: number; readonly json: unknown } | { readonly status: number; readonly contentType: string; readonly data: Buffer };

interface Route {
  readonly method: string;
  readonly path: RegExp;
  readonly handle: (runtime: EmulatorRuntime, request: ControlRequest) => Answer;
}

const ok = (json: unknown, status = 200): Answer => ({ status, json });

function jsonBody(request: ControlRequest): Record<string, unknown> {
  if (request.body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body.toString("utf8"));
  } catch {
    throw new ControlError(400, "the body must be JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new ControlError(400, "the body must be a JSON object");
  return parsed as Record<string, unknown>;
}

function content(runtime: EmulatorRuntime, id: string): Answer {
  const stored = runtime.world.contents.get(id);
  if (stored === undefined) throw new ControlError(404, `${id} has no content`);
  return { status: 200, contentType: stored.contentType, data: stored.data };
}

function redactedConfig(runtime: EmulatorRuntime): unknown {
  return { ...runtime.config, accounts: runtime.config.accounts.map((account) => ({ accessKeyId: account.accessKeyId, accessKeySecret: "***", ...(account.accountId === undefined ? {} : { accountId: account.accountId }) })) };
}

function state(runtime: EmulatorRuntime): unknown {
  const { world, clock } = runtime;
  return {
    config: redactedConfig(runtime),
    clock: { now: new Date(clock.now()).toISOString(), offsetMs: clock.offsetMs, timeScale: clock.timeScale },
    disks: [...world.disks.values()],
    snapshots: [...world.snapshots.values()],
    contents: [...world.contents].map(([id, stored]) => ({ id, contentType: stored.contentType, bytes: stored.data.length })),
    clientTokens: [...world.tokens.values()].map((token) => ({ action: token.key.split("\n")[1], token: token.key.split("\n")[2], answer: token.body })),
    faults: runtime.faults.list(),
    // The default account's world is above; the others' are at /accounts/<id>/inventory.
    accounts: runtime.worlds().map(([accountId, world]) => ({ accountId, disks: world.disks.size, snapshots: world.snapshots.size })),
    sharing: runtime.sharing.toData(),
    nonces: runtime.nonces.size,
    requests: runtime.requests.list().length,
  };
}

function patchZone(runtime: EmulatorRuntime, zoneId: string, body: Record<string, unknown>): Answer {
  const zone = runtime.config.zones.find((candidate) => candidate.zoneId === zoneId);
  if (zone === undefined) throw new ControlError(404, `no zone ${zoneId}`);
  const updated = { ...zone, ...body, zoneId } as ZoneConfig;
  try {
    runtime.config = validateConfig({ ...runtime.config, zones: runtime.config.zones.map((candidate) => (candidate.zoneId === zoneId ? updated : candidate)) });
  } catch (error) {
    if (error instanceof EmulatorConfigError) throw new ControlError(400, error.problems.join("; "));
    throw error;
  }
  return ok(updated);
}

function advanceClock(runtime: EmulatorRuntime, body: Record<string, unknown>): Answer {
  const advanceMs = body.advanceMs;
  if (typeof advanceMs !== "number" || !Number.isFinite(advanceMs) || advanceMs < 0) throw new ControlError(400, "advanceMs must be milliseconds ≥ 0");
  runtime.clock.advance(advanceMs);
  // Records' states are read off this clock: persist the new offset with them.
  runtime.world.touch();
  runtime.sweep();
  return ok({ now: isoSeconds(runtime.clock.now()), offsetMs: runtime.clock.offsetMs });
}

const ID = "([^/]+)";

const ROUTES: readonly Route[] = [
  { method: "GET", path: /^\/health$/, handle: () => ok({ ok: true }) },
  { method: "GET", path: /^\/inventory$/, handle: (runtime) => ok(inventory(runtime)) },
  { method: "GET", path: /^\/state$/, handle: (runtime) => ok(state(runtime)) },
  {
    method: "POST",
    path: /^\/reset$/,
    handle: (runtime) => {
      runtime.reset();
      return ok({ reset: true });
    },
  },
  { method: "POST", path: /^\/clock$/, handle: (runtime, request) => advanceClock(runtime, jsonBody(request)) },
  { method: "PATCH", path: new RegExp(`^/zones/${ID}$`), handle: (runtime, request) => patchZone(runtime, request.segments[0]!, jsonBody(request)) },
  { method: "GET", path: /^\/faults$/, handle: (runtime) => ok(runtime.faults.list()) },
  { method: "POST", path: /^\/faults$/, handle: (runtime, request) => ok({ id: runtime.faults.add(jsonBody(request)).id }, 201) },
  {
    method: "DELETE",
    path: /^\/faults$/,
    handle: (runtime) => {
      runtime.faults.clear();
      return ok({ removed: "all" });
    },
  },
  {
    method: "DELETE",
    path: new RegExp(`^/faults/${ID}$`),
    handle: (runtime, request) => {
      if (!runtime.faults.remove(request.segments[0]!)) throw new ControlError(404, `no fault ${request.segments[0]!}`);
      return ok({ removed: request.segments[0] });
    },
  },
  { method: "GET", path: /^\/requests$/, handle: (runtime) => ok(runtime.requests.list()) },
  {
    method: "DELETE",
    path: /^\/requests$/,
    handle: (runtime) => {
      runtime.requests.clear();
      return ok({ cleared: true });
    },
  },
  { method: "POST", path: /^\/disks$/, handle: (runtime, request) => ok(compactDisk(runtime, seedDisk(runtime, jsonBody(request))), 201) },
  { method: "GET", path: new RegExp(`^/disks/${ID}$`), handle: (runtime, request) => ok(compactDisk(runtime, diskOrFail(runtime, request.segments[0]!))) },
  {
    method: "PUT",
    path: new RegExp(`^/disks/${ID}/content$`),
    handle: (runtime, request) => {
      const disk = diskOrFail(runtime, request.segments[0]!);
      runtime.world.setContent(disk.diskId, { contentType: request.contentType ?? "application/octet-stream", data: request.body });
      return ok({ diskId: disk.diskId, bytes: request.body.length });
    },
  },
  {
    method: "GET",
    path: new RegExp(`^/disks/${ID}/content$`),
    handle: (runtime, request) => content(runtime, diskOrFail(runtime, request.segments[0]!).diskId),
  },
  {
    method: "GET",
    path: new RegExp(`^/snapshots/${ID}/content$`),
    handle: (runtime, request) => {
      if (!runtime.world.snapshots.has(request.segments[0]!)) throw new ControlError(404, `no snapshot ${request.segments[0]!}`);
      return content(runtime, request.segments[0]!);
    },
  },
  { method: "POST", path: new RegExp(`^/disks/${ID}/attach$`), handle: (runtime, request) => ok(compactDisk(runtime, attachDisk(runtime, request.segments[0]!, jsonBody(request).instanceId))) },
  { method: "POST", path: new RegExp(`^/disks/${ID}/detach$`), handle: (runtime, request) => ok(compactDisk(runtime, detachDisk(runtime, request.segments[0]!))) },
];

/** Serves one /_emulator/… request; `path` is the part after /_emulator. */
export async function serveControl(whole: EmulatorRuntime, request: IncomingMessage, response: ServerResponse, fullPath: string): Promise<void> {
  // /accounts/<id>/… is the same route in that account's world (accounts.ts); the rest is the default account's.
  const scoped = ACCOUNT_SCOPE.exec(fullPath);
  const runtime = scoped === null ? whole : inAccount(whole, scoped[1]!);
  const path = scoped === null ? fullPath : scoped[2]!;
  try {
    if (scoped !== null && !ACCOUNT_ROUTES.test(path)) throw new ControlError(404, `no control route /_emulator${fullPath}: an account scopes /disks, /snapshots and /inventory only`);
    const matches = ROUTES.map((route) => ({ route, match: route.path.exec(path) })).filter((candidate) => candidate.match !== null);
    const found = matches.find((candidate) => candidate.route.method === request.method);
    if (found === undefined) {
      throw new ControlError(matches.length > 0 ? 405 : 404, matches.length > 0 ? `${request.method ?? ""} is not allowed on /_emulator${path}` : `no control route /_emulator${path}`);
    }
    const body = await readBody(request, BODY_LIMIT);
    // What the control API shows must agree with ECS: snapshots past their retention are gone.
    whole.sweep();
    const segments = found.match!.slice(1).map((segment) => decodeURIComponent(segment));
    const answer = found.route.handle(runtime, { body, contentType: request.headers["content-type"], segments });
    if ("json" in answer) sendJson(response, answer.status, answer.json);
    else sendBytes(response, answer.status, answer.contentType, answer.data);
  } catch (error) {
    const status = error instanceof ControlError ? error.status : error instanceof FaultSpecError ? 400 : error instanceof BodyTooLargeError ? 413 : 500;
    sendJson(response, status, { error: error instanceof Error ? error.message : String(error) });
  } finally {
    whole.persistIfChanged();
  }
}

const ACCOUNT_SCOPE = /^\/accounts\/(\d{1,32})(\/.*)$/;
const ACCOUNT_ROUTES = /^\/(disks|snapshots|inventory)(\/|$)/;

/** The runtime seen from one account: its world in place of the default one, the rest shared. */
function inAccount(runtime: EmulatorRuntime, accountId: string): EmulatorRuntime {
  return Object.create(runtime, { world: { value: runtime.worldOf(accountId) } }) as EmulatorRuntime;
}
