/**
 * The caller check of /validate and /mutate (WEBHOOK_CLIENT_CA_FILE): only a caller whose TLS
 * client certificate the configured CA signed is answered. The API server presents one when its
 * admission configuration (`--admission-control-config-file`, a WebhookAdmissionConfiguration)
 * names a kubeconfig with a client certificate for the webhook's host:port; without a check,
 * anyone who reaches the port can post a forged AdmissionReview and have a migration queued.
 *
 * The TLS server asks for a certificate but completes the handshake without one
 * (`rejectUnauthorized: false`, webhook/tls-server.ts): the kubelet probes /healthz and /readyz
 * on the same port and Prometheus scrapes /metrics, neither with a client certificate, and those
 * answer nothing about the cluster. The check is made here instead, per route, before the body is
 * read, so a refused caller costs no parsing.
 */
import type { RequestHandler } from "express";
import type { TLSSocket } from "node:tls";
import type { Logger } from "pino";
import type { WebhookMetrics } from "./metrics.ts";

export function requireClientCertificate(deps: { readonly metrics: WebhookMetrics; readonly logger: Logger }): RequestHandler {
  return (req, res, next) => {
    const socket = req.socket as Partial<TLSSocket>;
    if (socket.authorized === true) {
      next();
      return;
    }
    // An empty object when the caller sent no certificate (and on a plain socket, no method at all).
    const presented = Object.keys(socket.getPeerCertificate?.() ?? {}).length > 0;
    const reason = presented ? "untrusted" : "missing";
    deps.metrics.refusedCallers.inc({ reason });
    deps.logger.debug({ path: req.path, remote: req.socket.remoteAddress, reason, error: socket.authorizationError?.message }, "caller refused: no trusted client certificate");
    if (presented) {
      res.status(403).type("text/plain").send("client certificate not signed by the CA this webhook trusts (WEBHOOK_CLIENT_CA_FILE)\n");
    } else {
      res.status(401).type("text/plain").send("client certificate required: this webhook answers only the Kubernetes API server (WEBHOOK_CLIENT_CA_FILE)\n");
    }
  };
}
