/**
 * One ECS call, end to end, in the order the real front end handles it: route (path, version,
 * action), authenticate, flow control, injected faults and latency, then the action, through the
 * ClientToken memory when the action takes one. Every call is logged with how it was answered.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isEcsAction } from "./action-names.ts";
import { ACTIONS, type ActionResult, type ActionSpec } from "./actions/index.ts";
import { authenticate, type IncomingCall } from "./authenticate.ts";
import { latencyOf, sleep } from "./clock.ts";
import { EcsError, ecsError, missingParameter } from "./errors.ts";
import { BodyTooLargeError, formParams, queryParams, readBody, sendJson } from "./http-io.ts";
import { checkClientToken, fingerprintOf, remember, replayed, tokenKey } from "./idempotency.ts";
import { requestId } from "./ids.ts";
import { Params } from "./params.ts";
import type { EmulatorRuntime } from "./runtime.ts";
import { accountIdOf } from "./accounts.ts";
import { RESOURCE_SHARING_VERSION, SHARING_ACTIONS, executeSharing, type SharingActionSpec } from "./sharing/index.ts";

export const ECS_VERSION = "2014-05-26";

/** ECS calls carry their parameters in the query; a body is rare and small. */
const BODY_LIMIT = 1024 * 1024;

const HANG = Symbol("hang");

/** What the log keeps of a call while it is being answered. */
interface Trace {
  readonly action: string;
  readonly params: Readonly<Record<string, string>>;
  accessKeyId: string | undefined;
}

export async function serveEcsCall(runtime: EmulatorRuntime, request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
  const started = Date.now();
  const id = requestId();
  const loggedParams = Object.fromEntries(Object.entries(queryParams(url.search)).filter(([name]) => name !== "Signature"));
  const trace: Trace = { action: headerOf(request, "x-acs-action") ?? loggedParams.Action ?? "", params: loggedParams, accessKeyId: undefined };
  const log = (status: number, code?: string, hung?: true): void => {
    runtime.requests.record({
      time: new Date(started).toISOString(),
      action: trace.action,
      params: trace.params,
      accessKeyId: trace.accessKeyId,
      status,
      ...(code === undefined ? {} : { code }),
      requestId: id,
      durationMs: Date.now() - started,
      ...(hung === undefined ? {} : { hung }),
    });
  };
  try {
    const answer = await answerCall(runtime, request, url, trace);
    if (answer === HANG) {
      // Left unanswered on purpose: the client's timeout is what is being tested.
      log(0, undefined, true);
      return;
    }
    sendJson(response, 200, { RequestId: id, ...answer });
    log(200);
  } catch (error) {
    const failure = asEcsError(error);
    sendJson(response, failure.httpStatus, errorBody(failure, id), failure.headers);
    log(failure.httpStatus, failure.code);
  } finally {
    runtime.persistIfChanged();
  }
}

async function answerCall(runtime: EmulatorRuntime, request: IncomingMessage, url: URL, trace: Trace): Promise<ActionResult | typeof HANG> {
  const body = await readBody(request, BODY_LIMIT);
  const query = queryParams(url.search);
  const call: IncomingCall = {
    method: request.method ?? "POST",
    pathname: url.pathname,
    query,
    params: { ...query, ...formParams(headerOf(request, "content-type"), body) },
    headers: request.headers,
    body,
  };
  const target = route(call, trace.action);
  const caller = authenticate(call, runtime.config, runtime.nonces, runtime.clock);
  trace.accessKeyId = caller.accessKeyId;
  const throttled = runtime.throttle?.take(Date.now());
  if (throttled?.ok === false) throw new EcsError("Throttling.User", 400, "Request was denied due to user flow control.", { "x-acs-retry-after": String(throttled.retryAfterMs) });
  const fault = runtime.faults.evaluate(target.spec.name);
  await sleep(latencyOf(runtime.config, target.spec.name) + fault.delayMs);
  if (fault.hang) return HANG;
  if (fault.error !== undefined) throw fault.error;
  runtime.sweep();
  if (target.product === "sharing") return executeSharing(runtime, target.spec, new Params(call.params), accountIdOf(runtime.config, caller.accessKeyId));
  return execute(runtime, target.spec, call, { accessKeyId: caller.accessKeyId, snapshotFailsAfterMs: fault.snapshotFailsAfterMs });
}

/** The action a call names, of ECS or of Resource Sharing (the same front end, told apart by version). */
type Routed = { readonly product: "ecs"; readonly spec: ActionSpec } | { readonly product: "sharing"; readonly spec: SharingActionSpec };

function route(call: IncomingCall, action: string): Routed {
  if (call.pathname !== "/") throw ecsError("InvalidAction.NotFound");
  if (action === "") throw missingParameter("Action");
  const version = call.params.Version ?? headerOf(call, "x-acs-version");
  if (version === undefined || version === "") throw missingParameter("Version");
  if (version === RESOURCE_SHARING_VERSION) {
    const spec = SHARING_ACTIONS.get(action);
    if (spec === undefined) throw ecsError("InvalidAction.NotFound");
    return { product: "sharing", spec };
  }
  if (version !== ECS_VERSION) throw ecsError("InvalidVersion");
  if (!isEcsAction(action)) throw ecsError("InvalidAction.NotFound");
  return { product: "ecs", spec: ACTIONS[action] };
}

/** `accessKeyId`: who calls (tokens are per key); `snapshotFailsAfterMs`: what a firing snapshot-failure fault asks. */
function execute(runtime: EmulatorRuntime, spec: ActionSpec, call: IncomingCall, { accessKeyId, snapshotFailsAfterMs }: { accessKeyId: string; snapshotFailsAfterMs: number | undefined }): ActionResult {
  const params = new Params(call.params);
  const accountId = accountIdOf(runtime.config, accessKeyId);
  const world = runtime.worldOf(accountId);
  const context = {
    world,
    isShared: (snapshotId: string) => runtime.sharing.isShared(accountId, snapshotId),
    params,
    clock: runtime.clock,
    config: runtime.config,
    now: runtime.clock.now(),
    accessKeyId,
    ...(snapshotFailsAfterMs === undefined ? {} : { snapshotFailsAfterMs }),
  };
  const token = spec.idempotent ? params.optional("ClientToken") : undefined;
  if (token === undefined) return spec.handle(context);
  checkClientToken(token);
  const key = tokenKey(accessKeyId, spec.name, token);
  const fingerprint = fingerprintOf(call.params);
  const earlier = replayed(world, key, fingerprint);
  if (earlier !== undefined) return { ...earlier };
  const answer = spec.handle(context);
  remember(world, key, fingerprint, answer);
  return answer;
}

function headerOf(source: { readonly headers: Readonly<Record<string, string | string[] | undefined>> }, name: string): string | undefined {
  const value = source.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

function asEcsError(error: unknown): EcsError {
  if (error instanceof EcsError) return error;
  if (error instanceof BodyTooLargeError) return ecsError("InvalidParameter", `The request body is larger than ${error.limit} bytes.`, 413);
  const detail = error instanceof Error ? error.message : String(error);
  return ecsError("InternalError", `The request processing has failed due to some unknown error, exception or failure. (emulator: ${detail})`);
}

/** ECS's JSON error body; the SDK reads Code, Message and RequestId from it. */
function errorBody(error: EcsError, id: string): Record<string, string> {
  return {
    RequestId: id,
    HostId: "ecs.aliyuncs.com",
    Code: error.code,
    Message: error.message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(error.code)}&product=Ecs&requestId=${id}`,
  };
}
