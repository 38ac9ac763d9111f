/**
 * The express app of the webhook, without a listener: `main` serves it over HTTPS, tests drive it
 * with supertest. Routes: POST /validate and /mutate (AdmissionReview v1), GET /healthz, /readyz
 * (ready once the cluster view has synced) and /metrics.
 */
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from "express";
import { admissionRoute, observe, send, type HandlerName, type TransportDeps } from "./admission/transport.ts";
import { errored } from "./admission/response.ts";
import { requireClientCertificate } from "./client-auth.ts";
import { mutate } from "./handlers/mutate.ts";
import { validate } from "./handlers/validate.ts";

export interface AppDeps extends TransportDeps {
  /** Largest body accepted, in bytes; larger ones are answered 413 inside the review. */
  readonly bodyLimitBytes: number;
  /**
   * Answer /validate and /mutate only for a caller with a trusted client certificate
   * (WEBHOOK_CLIENT_CA_FILE; webhook/client-auth.ts). The health and metrics routes stay open.
   */
  readonly clientCertificateRequired?: boolean;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  // Raw bytes, whatever the content type: the transport checks the type and parses JSON itself,
  // so every failure is answered as an AdmissionReview.
  const body = express.raw({ type: () => true, limit: deps.bodyLimitBytes });
  // The caller check comes before the body is read: a refused caller costs no parsing.
  const caller: RequestHandler[] = deps.clientCertificateRequired === true ? [requireClientCertificate(deps)] : [];
  app.post("/validate", ...caller, body, admissionRoute("validate", validate, deps));
  app.post("/mutate", ...caller, body, admissionRoute("mutate", mutate, deps));
  app.use(bodyErrors(deps));

  app.get("/healthz", (_req, res) => {
    res.type("text/plain").send("ok");
  });
  app.get("/readyz", (_req, res) => {
    const ready = deps.context.view.synced();
    res.status(ready ? 200 : 503).type("text/plain").send(ready ? "ok" : "cluster view not synced yet");
  });
  app.get("/metrics", (_req, res, next) => {
    deps.metrics.registry.metrics().then((text) => {
      res.type(deps.metrics.registry.contentType).send(text);
    }, next);
  });
  return app;
}

/** Body-reading failures (too large, aborted, bad encoding) still get an AdmissionReview. */
function bodyErrors(deps: AppDeps): ErrorRequestHandler {
  return (error: { type?: string; status?: number; message?: string }, req, res, next) => {
    const name: HandlerName | undefined = req.path === "/validate" ? "validate" : req.path === "/mutate" ? "mutate" : undefined;
    if (name === undefined || res.headersSent) {
      next(error);
      return;
    }
    const started = process.hrtime.bigint();
    const verdict =
      error.type === "entity.too.large"
        ? errored(413, `request body is larger than ${deps.bodyLimitBytes} bytes`)
        : errored(error.status !== undefined && error.status < 500 ? error.status : 400, `could not read the request body: ${error.message ?? "unknown error"}`);
    send(res, "", verdict);
    observe(deps, { name, started, uid: "", verdict, request: undefined });
  };
}
