/**
 * The two signatures Alibaba Cloud's SDKs put on RPC calls, computed exactly as
 * @alicloud/openapi-core 1.0.8 computes them (checked by the tests against the real SDK):
 * - ACS3-HMAC-SHA256 (the default): a canonical request over method, path, sorted query,
 *   the signed headers and the body hash, hashed and HMAC'd into the Authorization header;
 * - the legacy HMAC-SHA1 "RPC" signature (signatureAlgorithm "v2"): every parameter in the query,
 *   `Signature` = base64(HMAC-SHA1(secret + "&", "POST&%2F&" + encoded sorted parameters)).
 */
import { createHash, createHmac, getHashes, timingSafeEqual } from "node:crypto";

/** RFC 3986 encoding as the SDK does it: encodeURIComponent plus ! ' ( ) *. */
export function percentEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** ACS3 algorithms and the hash each uses; SM3 only where this Node's OpenSSL has it. */
const ACS3_HASHES: Readonly<Record<string, string>> = {
  "ACS3-HMAC-SHA256": "sha256",
  ...(getHashes().includes("sm3") ? { "ACS3-HMAC-SM3": "sm3" } : {}),
};

export function isSupportedAcs3Algorithm(algorithm: string): boolean {
  return ACS3_HASHES[algorithm] !== undefined;
}

export interface Acs3Authorization {
  readonly algorithm: string;
  readonly accessKeyId: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** Reads `<algorithm> Credential=<ak>,SignedHeaders=<a;b>,Signature=<hex>`; undefined if it is not that. */
export function parseAcs3Authorization(header: string): Acs3Authorization | undefined {
  const match = /^(\S+) Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]+)$/.exec(header.trim());
  if (match === null) return undefined;
  const [, algorithm, accessKeyId, signedHeaders, signature] = match;
  return { algorithm: algorithm!, accessKeyId: accessKeyId!, signedHeaders: signedHeaders!.split(";"), signature: signature!.toLowerCase() };
}

type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface Acs3Request {
  readonly method: string;
  readonly pathname: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Headers;
  readonly signedHeaders: readonly string[];
  readonly payloadHash: string;
}

function headerValue(headers: Headers, name: string): string {
  const value = headers[name];
  if (value === undefined) return "";
  return typeof value === "string" ? value.trim() : value.map((part) => part.trim()).join(",");
}

/** The canonical request; query keys are sorted by code unit and, as in the SDK, not encoded. */
export function acs3CanonicalRequest(request: Acs3Request): string {
  const canonicalUri = request.pathname.replace(/\+/g, "%20").replace(/\*/g, "%2A").replace(/%7E/g, "~");
  const canonicalQuery = Object.keys(request.query)
    .sort()
    .map((key) => `${key}=${percentEncode(request.query[key] ?? "")}`)
    .join("&");
  const canonicalHeaders = request.signedHeaders.map((name) => `${name}:${headerValue(request.headers, name)}\n`).join("");
  return [request.method, canonicalUri, canonicalQuery, canonicalHeaders, request.signedHeaders.join(";"), request.payloadHash].join("\n");
}

/** The body hash an ACS3 request carries in x-acs-content-sha256 (SM3 for ACS3-HMAC-SM3, despite the name). */
export function acs3PayloadHash(algorithm: string, body: Buffer): string {
  return createHash(ACS3_HASHES[algorithm] ?? "sha256").update(body).digest("hex");
}

export function acs3StringToSign(algorithm: string, canonicalRequest: string): string {
  const hash = ACS3_HASHES[algorithm] ?? "sha256";
  return `${algorithm}\n${createHash(hash).update(canonicalRequest).digest("hex")}`;
}

export function acs3Signature(algorithm: string, secret: string, stringToSign: string): string {
  return createHmac(ACS3_HASHES[algorithm] ?? "sha256", secret).update(stringToSign).digest("hex");
}

/** The RPC string to sign over every parameter but Signature itself. */
export function rpcStringToSign(method: string, params: Readonly<Record<string, string>>): string {
  const canonical = Object.keys(params)
    .filter((key) => key !== "Signature")
    .sort()
    .map((key) => `${percentEncode(key)}=${percentEncode(params[key] ?? "")}`)
    .join("&");
  return `${method}&${percentEncode("/")}&${percentEncode(canonical)}`;
}

export function rpcSignature(secret: string, stringToSign: string): string {
  return createHmac("sha1", `${secret}&`).update(stringToSign).digest("base64");
}

/** Compares signatures in constant time. */
export function sameSignature(expected: string, given: string): boolean {
  const left = Buffer.from(expected);
  const right = Buffer.from(given);
  return left.length === right.length && timingSafeEqual(left, right);
}
