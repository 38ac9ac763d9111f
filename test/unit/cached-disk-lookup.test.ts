import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DiskFacts } from "../../core/disk-cloud.ts";
import { cachedDiskLookup, type DiskCatalog } from "../../webhook/cached-disk-lookup.ts";
import { diskFacts } from "../support/cloud-answers.ts";

/**
 * A scripted DiskCloud: answers from a table, counts calls, and can hang until aborted. It stands
 * for the port's contract only; the real adapter is tested against the ECS emulator.
 */
function scriptedCloud(options: { hang?: boolean; fail?: string } = {}) {
  const calls = { disks: [] as string[][], zones: [] as string[], aborted: 0 };
  const answer = <T>(value: T, signal: AbortSignal | undefined): Promise<T> => {
    if (options.fail !== undefined) return Promise.reject(new Error(options.fail));
    if (options.hang !== true) return Promise.resolve(value);
    return new Promise((_resolve, reject) => {
      signal?.addEventListener("abort", () => { calls.aborted++; reject(new Error("aborted")); });
    });
  };
  const cloud = {
    describeDisks: (ids, signal) => {
      calls.disks.push([...ids]);
      return answer<readonly DiskFacts[]>(ids.filter((id) => id !== "d-gone").map((diskId) => diskFacts(diskId, { zoneId: "cn-shanghai-m", category: "cloud_essd" })), signal);
    },
    availableDiskCategories: (zone, signal) => {
      calls.zones.push(zone);
      return answer<ReadonlySet<string>>(new Set(["cloud_essd"]), signal);
    },
  } satisfies { describeDisks: (ids: readonly string[], signal?: AbortSignal) => Promise<readonly DiskFacts[]>; availableDiskCategories: DiskCatalog["availableDiskCategories"] };
  return { cloud, calls };
}

describe("asking ECS from the admission path", () => {
  it("asks ECS once per disk and answers later requests from the cache", async () => {
    const { cloud, calls } = scriptedCloud();
    const lookup = cachedDiskLookup(cloud, { ttlMs: 60_000, deadlineMs: 1_000 });
    await lookup.describeDisks(["d-1", "d-2"]);
    const second = await lookup.describeDisks(["d-2", "d-3"]);
    assert.deepEqual(calls.disks, [["d-1", "d-2"], ["d-3"]]);
    assert.ok(second.ok);
    assert.deepEqual([...second.value.keys()], ["d-2", "d-3"]);
  });

  it("leaves out disks ECS does not know", async () => {
    const { cloud } = scriptedCloud();
    const answer = await cachedDiskLookup(cloud, { ttlMs: 60_000, deadlineMs: 1_000 }).describeDisks(["d-1", "d-gone"]);
    assert.ok(answer.ok);
    assert.deepEqual([...answer.value.keys()], ["d-1"]);
  });

  it("asks again once a cached answer has expired", async () => {
    const { cloud, calls } = scriptedCloud();
    let now = 0;
    const lookup = cachedDiskLookup(cloud, { ttlMs: 1_000, deadlineMs: 1_000, now: () => now });
    await lookup.availableDiskCategories("cn-shanghai-g");
    now = 999;
    await lookup.availableDiskCategories("cn-shanghai-g");
    now = 1_001;
    await lookup.availableDiskCategories("cn-shanghai-g");
    assert.deepEqual(calls.zones, ["cn-shanghai-g", "cn-shanghai-g"]);
  });

  it("shares one call among concurrent admissions asking about the same zone", async () => {
    const { cloud, calls } = scriptedCloud();
    const lookup = cachedDiskLookup(cloud, { ttlMs: 60_000, deadlineMs: 1_000 });
    await Promise.all([lookup.availableDiskCategories("cn-shanghai-g"), lookup.availableDiskCategories("cn-shanghai-g")]);
    assert.deepEqual(calls.zones, ["cn-shanghai-g"]);
  });

  it("gives up at the deadline, aborts the call and says why", async () => {
    const { cloud, calls } = scriptedCloud({ hang: true });
    const answer = await cachedDiskLookup(cloud, { ttlMs: 60_000, deadlineMs: 50 }).availableDiskCategories("cn-shanghai-g");
    assert.deepEqual(answer, { ok: false, reason: "no answer within 50ms" });
    assert.equal(calls.aborted, 1);
  });

  it("turns a cloud error into an answer that names it, and does not cache it", async () => {
    const { cloud, calls } = scriptedCloud({ fail: "Throttling.User: Request was denied due to user flow control." });
    const lookup = cachedDiskLookup(cloud, { ttlMs: 60_000, deadlineMs: 1_000 });
    assert.deepEqual(await lookup.describeDisks(["d-1"]), { ok: false, reason: "Throttling.User: Request was denied due to user flow control." });
    await lookup.describeDisks(["d-1"]);
    assert.equal(calls.disks.length, 2);
  });
});
