/**
 * Where the queue's Redis is, from REDIS_URL: a plain URL (redis://, rediss://, as ioredis reads
 * it), or a Sentinel group, which ioredis and BullMQ support through options rather than a URL:
 *
 *   redis+sentinel://[[user]:password@]host:port[,host:port...]/masterName[/db]
 *
 * The password is the master's (and the sentinels', when they require one, as is usual).
 */
import type { ConnectionOptions } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";

/** What ioredis needs to find the master through its sentinels. */
export interface SentinelOptions {
  readonly sentinels: { host: string; port: number }[];
  /** The master's group name. */
  readonly name: string;
  readonly username?: string;
  readonly password?: string;
  readonly sentinelPassword?: string;
  readonly db?: number;
}

export type RedisTarget =
  | { readonly kind: "url"; readonly url: string }
  | { readonly kind: "sentinel"; readonly options: SentinelOptions };

const SENTINEL = /^redis\+sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/@]+)\/([^/]+)(?:\/(\d+))?\/?$/;
const HOST_PORT = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/;

/** What stands for a password in anything zoneferry shows. */
const REDACTED = "***";

/**
 * The URL with its password replaced, for configuration errors and logs: a REDIS_URL carries the
 * queue's credentials, and a message that echoes it puts them in every log collector. It works on
 * malformed URLs too (those are the ones echoed): whatever stands between the scheme and the last
 * `@` is credentials, and a `password=` query parameter is one.
 */
export function redactRedisUrl(url: string): string {
  const queried = url.replace(/([?&](?:password|pass|auth)=)[^&#]*/gi, `$1${REDACTED}`);
  const scheme = queried.indexOf("://");
  const from = scheme < 0 ? 0 : scheme + 3;
  const at = queried.lastIndexOf("@");
  if (at < from) return queried;
  const userinfo = queried.slice(from, at);
  // user:password keeps the user (it names who, not the secret); a lone word is taken as a password.
  const colon = userinfo.indexOf(":");
  const user = colon < 0 ? "" : userinfo.slice(0, colon);
  return `${queried.slice(0, from)}${user}:${REDACTED}${queried.slice(at)}`;
}

/** The target of a REDIS_URL, or undefined when it is neither form. */
export function redisTarget(url: string): RedisTarget | undefined {
  if (url.startsWith("redis+sentinel:")) return sentinelTarget(url);
  const scheme = URL.canParse(url) ? new URL(url).protocol : "";
  return scheme === "redis:" || scheme === "rediss:" ? { kind: "url", url } : undefined;
}

function sentinelTarget(url: string): RedisTarget | undefined {
  const match = SENTINEL.exec(url);
  if (match === null) return undefined;
  const [, user, password, hosts, name, db] = match;
  const sentinels = hosts!.split(",").map((entry) => HOST_PORT.exec(entry.trim()));
  if (sentinels.some((entry) => entry === null)) return undefined;
  const secret = password === undefined || password === "" ? {} : { password: decodeURIComponent(password), sentinelPassword: decodeURIComponent(password) };
  return {
    kind: "sentinel",
    options: {
      sentinels: sentinels.map((entry) => ({ host: entry![1]!.replace(/^\[|\]$/g, ""), port: Number(entry![2]) })),
      name: decodeURIComponent(name!),
      ...(user === undefined || user === "" ? {} : { username: decodeURIComponent(user) }),
      ...secret,
      ...(db === undefined ? {} : { db: Number(db) }),
    },
  };
}

/** A connection of our own (the webhook's fail-fast producer), with extra options. */
export function connectRedis(target: RedisTarget, extra: RedisOptions): Redis {
  return target.kind === "url" ? new Redis(target.url, extra) : new Redis({ ...target.options, ...extra });
}

/** BullMQ's `connection` option: BullMQ makes (and tunes) its own connections from it. */
export function bullConnection(target: RedisTarget): ConnectionOptions {
  return target.kind === "url" ? { url: target.url } : { ...target.options };
}
