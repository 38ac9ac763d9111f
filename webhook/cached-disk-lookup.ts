/**
 * The cloud as admission sees it: every ECS answer is cached for a while and every call is cut
 * off at a deadline, so a slow or unreachable ECS costs one admission at most the deadline and
 * turns into an "ECS unreachable" warning, never a failed sync.
 */
import type { DiskCloud, DiskFacts, DiskLookup, Lookup } from "../core/disk-cloud.ts";

/** The part of the cloud admission reads. */
export interface DiskCatalog {
  describeDisks(diskIds: readonly string[], signal?: AbortSignal): Promise<readonly DiskFacts[]>;
  availableDiskCategories: DiskCloud["availableDiskCategories"];
}

export interface CachedDiskLookupOptions {
  readonly ttlMs: number;
  readonly deadlineMs: number;
  /** Clock, for tests of expiry. */
  readonly now?: () => number;
}

interface Entry<T> {
  readonly expires: number;
  readonly value: T;
}

export function cachedDiskLookup(cloud: DiskCatalog, options: CachedDiskLookupOptions): DiskLookup {
  const now = options.now ?? Date.now;
  const disks = new Map<string, Entry<DiskFacts>>();
  const zones = new Map<string, Entry<ReadonlySet<string>>>();
  // Concurrent admissions asking the same zone share one call.
  const zoneCalls = new Map<string, Promise<Lookup<ReadonlySet<string>>>>();

  const fresh = <T>(entry: Entry<T> | undefined): entry is Entry<T> => entry !== undefined && entry.expires > now();

  return {
    async describeDisks(diskIds) {
      const missing = [...new Set(diskIds)].filter((id) => !fresh(disks.get(id)));
      if (missing.length > 0) {
        const answer = await bounded((signal) => cloud.describeDisks(missing, signal), options.deadlineMs);
        if (!answer.ok) return answer;
        for (const fact of answer.value) disks.set(fact.diskId, { expires: now() + options.ttlMs, value: fact });
      }
      const known = diskIds.map((id) => disks.get(id)).filter((entry) => entry !== undefined);
      return { ok: true, value: new Map(known.map((entry) => [entry.value.diskId, entry.value])) };
    },

    availableDiskCategories(zoneId) {
      const cached = zones.get(zoneId);
      if (fresh(cached)) return Promise.resolve({ ok: true, value: cached.value });
      const pending = zoneCalls.get(zoneId);
      if (pending !== undefined) return pending;
      const call = bounded((signal) => cloud.availableDiskCategories(zoneId, signal), options.deadlineMs).then((answer) => {
        zoneCalls.delete(zoneId);
        if (answer.ok) zones.set(zoneId, { expires: now() + options.ttlMs, value: answer.value });
        return answer;
      });
      zoneCalls.set(zoneId, call);
      return call;
    },
  };
}

/** Runs a cloud call with an abort signal and a deadline; a failure becomes a value. */
async function bounded<T>(call: (signal: AbortSignal) => Promise<T>, deadlineMs: number): Promise<Lookup<T>> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Lookup<T>>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ ok: false, reason: `no answer within ${deadlineMs}ms` });
    }, deadlineMs);
  });
  const answer = call(controller.signal).then(
    (value): Lookup<T> => ({ ok: true, value }),
    (error: unknown): Lookup<T> => ({ ok: false, reason: error instanceof Error ? error.message : String(error) }),
  );
  const result = await Promise.race([answer, deadline]);
  clearTimeout(timer);
  return result;
}
