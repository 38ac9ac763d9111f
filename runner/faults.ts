/**
 * Which faults are worth another try. Transient: the cloud's throttling, 5xx, timeouts and resets
 * (classified at the DiskCloud port), the API server's conflicts, throttling and 5xx, network
 * errors. Permanent: a broken precondition, the cloud's other 4xx, a programming error, and any
 * `UnrecoverableError` a step throws on purpose.
 */
import { UnrecoverableError } from "bullmq";
import { CloudError, TransientCloudError } from "../core/cloud-errors.ts";

export type FaultKind = "transient" | "permanent";

const NETWORK_CODES: ReadonlySet<string> = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_SOCKET"]);

/** A precondition a step found broken: retrying will not mend it, so the migration rolls back. */
export class PermanentMigrationError extends UnrecoverableError {
  constructor(message: string) {
    super(message);
    this.name = "PermanentMigrationError";
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

export function faultKind(error: unknown): FaultKind {
  if (error instanceof UnrecoverableError) return "permanent";
  if (error instanceof CloudError) return error.kind === "transient" ? "transient" : "permanent";
  if (error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError || error instanceof SyntaxError) return "permanent";
  const status = (error as { code?: unknown }).code;
  if (typeof status === "number") return status === 409 || status === 429 || status >= 500 ? "transient" : "permanent";
  if (typeof status === "string" && NETWORK_CODES.has(status)) return "transient";
  // Unknown faults are retried, within the step's retry budget.
  return "transient";
}

/**
 * One line for a human: an API server refusal is its Status message with the HTTP code (the
 * client's own text carries the whole response, headers included); anything else its message.
 */
export function describeFault(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code, body } = error as { code?: unknown; body?: unknown };
  if (typeof code === "number" && typeof body === "string") {
    try {
      const status = JSON.parse(body) as { message?: unknown };
      if (typeof status.message === "string") return `HTTP ${code}: ${status.message}`;
    } catch {
      // Not a Status: fall through to the error's own message.
    }
  }
  return error.message;
}

/** How long the fault's source asked us to wait, if it said (ECS's x-acs-retry-after). */
export function retryAfterMs(error: unknown): number | undefined {
  return error instanceof TransientCloudError ? error.retryAfterMs : undefined;
}
