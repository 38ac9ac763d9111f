/**
 * Who is calling, checked as the POP gateway in front of ECS checks it, in its order: the
 * credential is present and well formed, the access key exists, the request is dated within the
 * allowed skew, the signature matches, an STS token matches its key, and the nonce is fresh.
 *
 * Codes (all 400 unless noted), chosen from what the gateway answers:
 * - no Authorization header and no AccessKeyId → MissingAccessKeyId (the gateway's code for an
 *   unsigned request; IncompleteSignature is kept for credentials that are present but malformed);
 * - unknown key → InvalidAccessKeyId.NotFound (404);
 * - no date → MissingTimestamp; unparsable date → IllegalTimestamp; a date outside
 *   ±clockSkewSeconds → InvalidTimeStamp.Expired (what today's gateway answers for a skewed
 *   clock; older gateways said IllegalTimestamp);
 * - wrong signature or a body that does not hash to x-acs-content-sha256 → SignatureDoesNotMatch;
 * - a nonce seen in the last 15 minutes → SignatureNonceUsed.
 */
import type { Clock } from "./clock.ts";
import type { AccountConfig, EmulatorConfig } from "./config.ts";
import { ecsError } from "./errors.ts";
import type { NonceStore } from "./nonces.ts";
import {
  acs3CanonicalRequest,
  acs3PayloadHash,
  acs3Signature,
  acs3StringToSign,
  isSupportedAcs3Algorithm,
  parseAcs3Authorization,
  rpcSignature,
  rpcStringToSign,
  sameSignature,
} from "./signature.ts";

/** An ECS call as it arrived. */
export interface IncomingCall {
  readonly method: string;
  readonly pathname: string;
  /** Query and form-body parameters, decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** Query parameters only: the ACS3 canonical request covers the query, the body by its hash. */
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export interface Caller {
  readonly accessKeyId: string;
  readonly style: "ACS3" | "RPC";
}

interface Credential {
  readonly accessKeyId: string;
  readonly date: string | undefined;
  readonly nonce: string | undefined;
  readonly securityToken: string | undefined;
  /** Throws SignatureDoesNotMatch unless the request is signed with `secret`. */
  readonly verify: (secret: string) => void;
}

/** Headers an ACS3 signature must cover whenever they are present (and these six always). */
const ALWAYS_SIGNED = ["host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"];

/** Returns the caller, or throws the EcsError the gateway answers with. */
export function authenticate(call: IncomingCall, config: EmulatorConfig, nonces: NonceStore, clock: Clock): Caller {
  const style = call.params.Signature !== undefined || (call.params.AccessKeyId !== undefined && header(call, "authorization") === undefined) ? "RPC" : "ACS3";
  const credential = style === "RPC" ? rpcCredential(call) : acs3Credential(call);
  const account = config.accounts.find((candidate) => candidate.accessKeyId === credential.accessKeyId);
  if (account === undefined) throw ecsError("InvalidAccessKeyId.NotFound");
  checkDate(credential.date, clock.wallNow(), config.clockSkewSeconds);
  if (credential.nonce === undefined || credential.nonce === "") throw ecsError("MissingSignatureNonce");
  credential.verify(account.accessKeySecret);
  checkSecurityToken(account, credential.securityToken);
  if (!nonces.use(account.accessKeyId, credential.nonce, clock.wallNow())) throw ecsError("SignatureNonceUsed");
  return { accessKeyId: account.accessKeyId, style };
}

function header(call: IncomingCall, name: string): string | undefined {
  const value = call.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

function acs3Credential(call: IncomingCall): Credential {
  const authorization = header(call, "authorization");
  if (authorization === undefined || authorization.trim() === "") throw ecsError("MissingAccessKeyId");
  const parsed = parseAcs3Authorization(authorization);
  if (parsed === undefined) {
    throw ecsError("IncompleteSignature", "The request signature does not conform to Aliyun standards: Authorization must be \"<algorithm> Credential=<AccessKeyId>,SignedHeaders=<names>,Signature=<hex>\".");
  }
  if (!isSupportedAcs3Algorithm(parsed.algorithm)) throw ecsError("IncompleteSignature", `The signature algorithm ${parsed.algorithm} is not supported.`);
  const present = Object.keys(call.headers).filter((name) => name.startsWith("x-acs-"));
  const unsigned = [...new Set([...ALWAYS_SIGNED, ...present])].filter((name) => !parsed.signedHeaders.includes(name));
  return {
    accessKeyId: parsed.accessKeyId,
    date: header(call, "x-acs-date"),
    nonce: header(call, "x-acs-signature-nonce"),
    securityToken: header(call, "x-acs-security-token"),
    verify: (secret) => {
      if (unsigned.length > 0) throw ecsError("IncompleteSignature", `The request signature does not conform to Aliyun standards: the headers ${unsigned.join(", ")} must be present and signed.`);
      const payloadHash = acs3PayloadHash(parsed.algorithm, call.body);
      if (header(call, "x-acs-content-sha256") !== payloadHash) throw ecsError("SignatureDoesNotMatch", "The x-acs-content-sha256 header is not the hash of the request body.");
      const accessKeyHeader = header(call, "x-acs-accesskey-id");
      if (accessKeyHeader !== undefined && accessKeyHeader !== parsed.accessKeyId) throw ecsError("SignatureDoesNotMatch", "The x-acs-accesskey-id header names another access key than the Authorization credential.");
      const canonical = acs3CanonicalRequest({ method: call.method, pathname: call.pathname, query: call.query, headers: call.headers, signedHeaders: parsed.signedHeaders, payloadHash });
      const stringToSign = acs3StringToSign(parsed.algorithm, canonical);
      if (!sameSignature(acs3Signature(parsed.algorithm, secret, stringToSign), parsed.signature)) {
        throw ecsError("SignatureDoesNotMatch", `Specified signature does not match our calculation. server StringToSign is [${stringToSign}]`);
      }
    },
  };
}

function rpcCredential(call: IncomingCall): Credential {
  const { params } = call;
  if (params.AccessKeyId === undefined || params.AccessKeyId === "") throw ecsError("MissingAccessKeyId");
  if (params.Signature === undefined || params.Signature === "") throw ecsError("IncompleteSignature", "The request signature does not conform to Aliyun standards: Signature is missing.");
  if (params.SignatureMethod !== "HMAC-SHA1" || params.SignatureVersion !== "1.0") {
    throw ecsError("IncompleteSignature", "The request signature does not conform to Aliyun standards: SignatureMethod must be HMAC-SHA1 and SignatureVersion 1.0.");
  }
  const signature = params.Signature;
  return {
    accessKeyId: params.AccessKeyId,
    date: params.Timestamp,
    nonce: params.SignatureNonce,
    securityToken: params.SecurityToken,
    verify: (secret) => {
      const stringToSign = rpcStringToSign(call.method, params);
      if (!sameSignature(rpcSignature(secret, stringToSign), signature)) {
        throw ecsError("SignatureDoesNotMatch", `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`);
      }
    },
  };
}

/** ISO 8601 in UTC, to the second (the SDKs' format), optionally with fractions. */
const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function checkDate(date: string | undefined, now: number, skewSeconds: number): void {
  if (date === undefined || date === "") throw ecsError("MissingTimestamp");
  const at = DATE.test(date) ? Date.parse(date) : Number.NaN;
  if (Number.isNaN(at)) throw ecsError("IllegalTimestamp");
  if (Math.abs(now - at) > skewSeconds * 1000) throw ecsError("InvalidTimeStamp.Expired");
}

function checkSecurityToken(account: AccountConfig, presented: string | undefined): void {
  const expected = account.securityToken;
  if (expected === presented || (expected === undefined && presented === "")) return;
  throw ecsError(
    "InvalidSecurityToken.MismatchWithAccessKey",
    expected === undefined ? "A SecurityToken was presented with a permanent access key." : "Specified SecurityToken mismatch with the AccessKey.",
  );
}
