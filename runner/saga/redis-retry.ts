/**
 * The saga's own Redis writes (the job's data, moving it to delayed) retried in place on a
 * connection fault: a Sentinel failover or a reset socket lasts a second or two, well within the
 * job's lock, and the alternative is a job that fails or stalls over a network blip. Only
 * connection faults are retried: a lost lock ("Missing lock for job") says another worker owns the
 * job, and trying again would be acting for it.
 */
import { setTimeout as sleep } from "node:timers/promises";

const CONNECTION_FAULT = /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|Connection is closed|Stream isn't writeable|LOADING|BUSY|READONLY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN/;

export function isRedisConnectionFault(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return CONNECTION_FAULT.test(error.message) || (typeof code === "string" && CONNECTION_FAULT.test(code));
}

export interface RedisRetryOptions {
  /** @defaultValue 5 */
  readonly tries?: number;
  /** The first pause; doubles per try (100, 200, 400, 800 ms: 1.5 s in all, a third of the shortest lock). @defaultValue 100 */
  readonly baseMs?: number;
}

export async function withRedisRetry<T>(call: () => Promise<T>, options: RedisRetryOptions = {}): Promise<T> {
  const tries = options.tries ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= tries || !isRedisConnectionFault(error)) throw error;
      await sleep((options.baseMs ?? 100) * 2 ** (attempt - 1));
    }
  }
}
