/**
 * The transport layer: turns an HTTP request into an AdmissionRequest and any outcome into an
 * HTTP 200 AdmissionReview that echoes the request's uid. Bad input is answered inside the review
 * (400, 413), a handler's exception too (500), so the API server always gets an answer its
 * failurePolicy can act on and the process never dies of a request.
 */
import type { Request, RequestHandler, Response } from "express";
import type { Logger } from "pino";
import type { Enqueuer } from "../enqueuer.ts";
import type { WebhookMetrics } from "../metrics.ts";
import type { AdmissionContext, AdmissionHandler, Decision } from "../handlers/types.ts";
import { errored, review, withinBounds, type Verdict } from "./response.ts";
import { decodeAdmissionReview, type AdmissionRequest } from "./review.ts";

export type HandlerName = "validate" | "mutate";

export interface TransportDeps {
  readonly context: AdmissionContext;
  readonly enqueuer: Enqueuer;
  readonly metrics: WebhookMetrics;
  readonly logger: Logger;
}

const JSON_TYPE = /^application\/json\s*(;|$)/i;

export const ENQUEUE_DEFERRED_WARNING =
  "zoneferry could not queue this migration right now; the runner's reconciler queues it shortly";

export const ENQUEUE_LIMITED_WARNING =
  "zoneferry did not queue this migration now: this namespace asked for more new migrations than the webhook queues per minute; the runner's reconciler queues it shortly";

/** An express route for one handler; it expects the body as a raw Buffer. */
export function admissionRoute(name: HandlerName, handler: AdmissionHandler, deps: TransportDeps): RequestHandler {
  return (req, res) => {
    const started = process.hrtime.bigint();
    void answer(req, name, handler, deps).then(({ uid, verdict: unbounded, request }) => {
      const verdict = withinBounds(unbounded);
      send(res, uid, verdict);
      observe(deps, { name, started, uid, verdict, request });
    });
  };
}

interface Answered {
  readonly uid: string;
  readonly verdict: Verdict;
  readonly request?: AdmissionRequest;
}

async function answer(req: Request, name: HandlerName, handler: AdmissionHandler, deps: TransportDeps): Promise<Answered> {
  const contentType = req.headers["content-type"] ?? "";
  if (!JSON_TYPE.test(contentType)) {
    return { uid: "", verdict: errored(400, `contentType=${contentType === "" ? "(none)" : contentType}, expected application/json`) };
  }
  const body: unknown = req.body;
  if (!Buffer.isBuffer(body) || body.length === 0) return { uid: "", verdict: errored(400, "request body is empty") };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch (error) {
    return { uid: "", verdict: errored(400, `request body is not valid JSON: ${(error as Error).message}`) };
  }
  const decoded = decodeAdmissionReview(parsed);
  if (!decoded.ok) return { uid: decoded.uid, verdict: errored(400, decoded.message) };
  const request = decoded.request;
  try {
    const decision = await handler(request, deps.context);
    return { uid: request.uid, verdict: await queueIfAdmitted(decision, request, deps), request };
  } catch (error) {
    deps.logger.error({ uid: request.uid, handler: name, err: error }, "admission handler failed");
    return { uid: request.uid, verdict: errored(500, `zoneferry webhook internal error: ${(error as Error).message}`), request };
  }
}

/** Queues an admitted new request, except on dry run (the side effect the configuration declares). */
async function queueIfAdmitted(decision: Decision, request: AdmissionRequest, deps: TransportDeps): Promise<Verdict> {
  if (decision.enqueue === undefined || !decision.verdict.allowed || request.dryRun) return decision.verdict;
  const outcome = await deps.enqueuer.enqueue(decision.enqueue);
  if (outcome === "queued") return decision.verdict;
  const warning = outcome === "limited" ? ENQUEUE_LIMITED_WARNING : ENQUEUE_DEFERRED_WARNING;
  return { ...decision.verdict, warnings: [...(decision.verdict.warnings ?? []), warning] };
}

/** Writes the review; also used for errors raised before a route runs (body too large). */
export function send(res: Response, uid: string, verdict: Verdict): void {
  res.status(200).type("application/json").send(JSON.stringify(review(uid, verdict)));
}

interface Observation {
  readonly name: HandlerName;
  readonly started: bigint;
  readonly uid: string;
  readonly verdict: Verdict;
  readonly request: AdmissionRequest | undefined;
}

/** One metric sample and one JSON log line per admission. */
export function observe(deps: Pick<TransportDeps, "metrics" | "logger">, observation: Observation): void {
  const { name, started, uid, verdict, request } = observation;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const decision = verdict.allowed ? "allowed" : verdict.status !== undefined && verdict.status.code !== 403 ? "errored" : "denied";
  deps.metrics.admissions.inc({ handler: name, operation: request?.operation ?? "unknown", decision });
  deps.metrics.latency.observe({ handler: name }, seconds);
  deps.logger.info(
    {
      uid,
      handler: name,
      object: request === undefined ? undefined : `${request.namespace}/${request.name}`,
      kind: request === undefined ? undefined : request.kind.kind,
      subResource: request?.subResource,
      operation: request?.operation,
      dryRun: request?.dryRun,
      user: request?.userInfo.username,
      decision,
      code: verdict.status?.code,
      message: verdict.status?.message,
      warnings: verdict.warnings?.length ?? 0,
      patched: verdict.patch !== undefined,
      durationMs: Math.round(seconds * 1e6) / 1e3,
    },
    "admission",
  );
}
