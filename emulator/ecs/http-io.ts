/** Reading requests and writing answers on node:http, shared by the ECS API and the control API. */
import type { IncomingMessage, ServerResponse } from "node:http";

/** A body larger than the route accepts. */
export class BodyTooLargeError extends Error {
  readonly limit: number;

  constructor(limit: number) {
    super(`request body larger than ${limit} bytes`);
    this.name = "BodyTooLargeError";
    this.limit = limit;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLargeError(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Decoded query parameters; a repeated name keeps its last value (the SDKs never repeat one).
 * `+` decodes to a space, as form encoding has it; the SDKs send a literal plus as %2B.
 */
export function queryParams(search: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(search));
}

/** Parameters sent as an x-www-form-urlencoded body, which RPC calls may use besides the query. */
export function formParams(contentType: string | undefined, body: Buffer): Record<string, string> {
  if (contentType?.toLowerCase().startsWith("application/x-www-form-urlencoded") !== true || body.length === 0) return {};
  return queryParams(body.toString("utf8"));
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json;charset=utf-8", "content-length": Buffer.byteLength(text), ...headers });
  response.end(text);
}

export function sendBytes(response: ServerResponse, status: number, contentType: string, data: Buffer): void {
  response.writeHead(status, { "content-type": contentType, "content-length": data.length });
  response.end(data);
}
