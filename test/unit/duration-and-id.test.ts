import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatDuration, parseDuration } from "../../core/duration.ts";
import { migrationId } from "../../core/migration-id.ts";

describe("durations", () => {
  it("reads a plain number as minutes, as ACK's checkWaitingMinutes did", () => {
    assert.equal(parseDuration("1"), 60_000);
    assert.equal(parseDuration("0.5"), 30_000);
  });

  it("reads combined Go-style units", () => {
    assert.equal(parseDuration("1h30m"), 5_400_000);
    assert.equal(parseDuration("2m30s"), 150_000);
    assert.equal(parseDuration("500ms"), 500);
    assert.equal(parseDuration("1.5h"), 5_400_000);
  });

  it("refuses text that is not a duration", () => {
    for (const text of ["", "m", "1x", "-1m", "1 m", "1h-30m", "1e3"]) assert.equal(parseDuration(text), undefined, text);
  });

  it("formats back the way users write durations", () => {
    assert.equal(formatDuration(5_400_000), "1h30m");
    assert.equal(formatDuration(0), "0s");
  });
});

describe("the migration id", () => {
  const base = { namespace: "shop", name: "db", targetZones: ["cn-shanghai-b", "cn-shanghai-g"], retry: "" };

  it("is the same for the same request, so enqueueing twice is harmless", () => {
    assert.equal(migrationId(base), migrationId({ ...base, targetZones: [...base.targetZones] }));
  });

  it("is 12 lower-case hex characters, valid in Kubernetes names and BullMQ job ids", () => {
    assert.match(migrationId(base), /^[0-9a-f]{12}$/);
  });

  it("changes with the retry value, so a retry is a new request", () => {
    assert.notEqual(migrationId(base), migrationId({ ...base, retry: "1" }));
  });

  it("changes with the zone order, which decides placement ties", () => {
    assert.notEqual(migrationId(base), migrationId({ ...base, targetZones: ["cn-shanghai-g", "cn-shanghai-b"] }));
  });

  it("differs between StatefulSets of the same name in other namespaces", () => {
    assert.notEqual(migrationId(base), migrationId({ ...base, namespace: "shop2" }));
  });

  it("cannot be forged by moving text between namespace and name", () => {
    assert.notEqual(migrationId({ ...base, namespace: "a", name: "bc" }), migrationId({ ...base, namespace: "ab", name: "c" }));
  });
});
