/**
 * ClientToken idempotency as ECS documents it: a retry with the same token and the same
 * parameters gets the first answer again (same resource id, nothing new created); the same token
 * with other parameters is refused with IdempotentParameterMismatch. Tokens are scoped per access
 * key and per action. Only successful answers are remembered, so a retry after a refusal (quota,
 * stock, throttling) is judged afresh.
 */
import { ecsError, invalidParameter } from "./errors.ts";
import type { World } from "./world.ts";

/** Parameters that vary between retries of one request and are not part of what was asked. */
const PER_ATTEMPT = new Set(["ClientToken", "Signature", "SignatureNonce", "SignatureMethod", "SignatureVersion", "SignatureType", "Timestamp", "AccessKeyId", "SecurityToken", "Format", "Version", "Action"]);

/** "≤64 ASCII characters". */
const TOKEN = /^[\x20-\x7e]{1,64}$/;

export function checkClientToken(token: string): void {
  if (!TOKEN.test(token)) throw invalidParameter("ClientToken");
}

export function tokenKey(accessKeyId: string, action: string, token: string): string {
  return `${accessKeyId}\n${action}\n${token}`;
}

/** What was asked, independent of parameter order and of the per-attempt signature fields. */
export function fingerprintOf(params: Readonly<Record<string, string>>): string {
  return JSON.stringify(
    Object.keys(params)
      .filter((key) => !PER_ATTEMPT.has(key))
      .sort()
      .map((key) => [key, params[key]]),
  );
}

/** The remembered answer for `key`, undefined if none; throws if the token was used for something else. */
export function replayed(world: World, key: string, fingerprint: string): Readonly<Record<string, unknown>> | undefined {
  const known = world.tokens.get(key);
  if (known === undefined) return undefined;
  if (known.fingerprint !== fingerprint) throw ecsError("IdempotentParameterMismatch");
  return known.body;
}

export function remember(world: World, key: string, fingerprint: string, body: Readonly<Record<string, unknown>>): void {
  world.tokens.set(key, { key, fingerprint, body });
  world.touch();
}
