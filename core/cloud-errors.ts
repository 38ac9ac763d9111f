/**
 * Errors from the cloud, classified once at the port so callers decide by kind, not by parsing
 * vendor codes: transient faults are retried (honouring the cloud's retry-after), a missing
 * resource is a fact the caller acts on, anything else is permanent and keeps ECS's code and
 * message for the user.
 */

export type CloudErrorKind = "transient" | "not-found" | "permanent";

export interface CloudErrorDetails {
  /** The cloud's error code (e.g. `Throttling.User`), or a transport code (`ECONNREFUSED`). */
  readonly code: string;
  /** The API action that failed (e.g. `CreateDisk`). */
  readonly action: string;
  readonly httpStatus?: number;
  readonly requestId?: string;
  readonly cause?: unknown;
}

export abstract class CloudError extends Error {
  abstract readonly kind: CloudErrorKind;
  readonly code: string;
  readonly action: string;
  readonly httpStatus: number | undefined;
  readonly requestId: string | undefined;

  constructor(message: string, details: CloudErrorDetails) {
    super(message, { cause: details.cause });
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
    this.code = details.code;
    this.action = details.action;
    this.httpStatus = details.httpStatus;
    this.requestId = details.requestId;
  }
}

/** Throttling, 5xx, timeouts, resets: worth another try, after `retryAfterMs` when the cloud says. */
export class TransientCloudError extends CloudError {
  readonly kind = "transient";
  readonly retryAfterMs: number | undefined;

  constructor(message: string, details: CloudErrorDetails & { readonly retryAfterMs?: number }) {
    super(message, details);
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** The disk or snapshot named does not exist. */
export class NotFoundCloudError extends CloudError {
  readonly kind = "not-found";
}

/** A request the cloud will keep refusing: a precondition, a quota, bad credentials, a bad parameter. */
export class PermanentCloudError extends CloudError {
  readonly kind = "permanent";
}
