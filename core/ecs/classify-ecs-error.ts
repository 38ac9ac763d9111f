/**
 * Turns what the ECS SDK throws into zoneferry's three kinds of cloud error. The SDK raises
 * ThrottlingError (any code containing "Throttling", with `retryAfter` in ms from
 * x-acs-retry-after), ServerError (5xx), ClientError (other 4xx), and bare transport errors.
 */
import { CloudError, NotFoundCloudError, PermanentCloudError, TransientCloudError } from "../cloud-errors.ts";

/** A resource id that does not exist; other ".NotFound" codes (zone, region, access key) are configuration faults. */
const NOT_FOUND_CODES: ReadonlySet<string> = new Set(["InvalidDiskId.NotFound", "InvalidSnapshotId.NotFound"]);

/**
 * 4xx codes that describe a moment, not a mistake: ECS asks to come back later. The CSI driver
 * retries IncorrectDiskStatus.Initializing the same way.
 */
const TRANSIENT_CLIENT_CODES: ReadonlySet<string> = new Set([
  "IdempotentProcessing",
  "LastTokenProcessing",
  "Operation.Conflict",
  "IncorrectDiskStatus.Initializing",
  // DeleteDisk while a snapshot of the disk still uploads: it will be deletable once it is done.
  "DiskCreatingSnapshot",
  "ServiceUnavailable",
]);

const TRANSPORT_CODES: ReadonlySet<string> = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_SOCKET"]);

interface SdkError {
  name?: string;
  code?: string | number;
  statusCode?: number;
  requestId?: string;
  retryAfter?: number;
  message?: string;
  data?: { Message?: string };
}

export function classifyEcsError(action: string, error: unknown): CloudError {
  if (error instanceof CloudError) return error;
  const sdk = (typeof error === "object" && error !== null ? error : { message: String(error) }) as SdkError;
  const code = sdk.code === undefined ? (sdk.name ?? "Unknown") : String(sdk.code);
  const details = {
    code,
    action,
    cause: error,
    ...(sdk.statusCode === undefined ? {} : { httpStatus: sdk.statusCode }),
    ...(sdk.requestId === undefined ? {} : { requestId: sdk.requestId }),
  };
  const message = describe(action, code, sdk);
  switch (sdk.name) {
    case "ThrottlingError":
      return new TransientCloudError(message, { ...details, ...(sdk.retryAfter === undefined ? {} : { retryAfterMs: sdk.retryAfter }) });
    case "ServerError":
      return new TransientCloudError(message, details);
    case "ClientError":
      if (NOT_FOUND_CODES.has(code)) return new NotFoundCloudError(message, details);
      return TRANSIENT_CLIENT_CODES.has(code) ? new TransientCloudError(message, details) : new PermanentCloudError(message, details);
    case "RequestTimeoutError":
      return new TransientCloudError(`ECS ${action} timed out: ${sdk.message ?? ""}`, { ...details, code: "RequestTimeout" });
    default:
      if (TRANSPORT_CODES.has(code)) return new TransientCloudError(`ECS ${action} could not be reached: ${code}`, details);
      return new PermanentCloudError(message, details);
  }
}

function describe(action: string, code: string, sdk: SdkError): string {
  const text = sdk.data?.Message ?? sdk.message ?? "no message";
  const request = sdk.requestId === undefined ? "" : ` (request id ${sdk.requestId})`;
  return `ECS ${action} failed: ${code}: ${text}${request}`;
}
