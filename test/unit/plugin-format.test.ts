import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CoreV1Event } from "@kubernetes/client-node";
import { age, describeMigration, downtimeMs, eventOfMigration, statusTable, stepOfMessage, stepTimings, table, volumeTable, waitTable } from "../../plugin/format.ts";
import type { ZoneMigrationResource } from "../../runner/journal/types.ts";

const T0 = Date.parse("2026-12-01T08:00:00Z");
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

function event(message: string, seconds: number, options: { reason?: string; id?: string; count?: number; resourceVersion?: string } = {}): CoreV1Event {
  return {
    metadata: { name: `db.zf${seconds}`, ...(options.resourceVersion === undefined ? {} : { resourceVersion: options.resourceVersion }), ...(options.id === undefined ? {} : { annotations: { "zoneferry.io/migration-id": options.id } }) },
    involvedObject: { kind: "StatefulSet", name: "db" },
    reason: options.reason ?? "ZoneferryStep",
    message,
    firstTimestamp: new Date(T0 + seconds * 1000),
    count: options.count ?? 1,
  };
}

function journal(overrides: Partial<ZoneMigrationResource> = {}): ZoneMigrationResource {
  return {
    apiVersion: "zoneferry.io/v1alpha1",
    kind: "ZoneMigration",
    metadata: { name: "db-0123456789ab", namespace: "shop", creationTimestamp: new Date(T0) },
    spec: {
      statefulSet: "db",
      migrationId: "0123456789ab",
      targetZones: ["cn-shanghai-g", "cn-shanghai-m"],
      plan: { ordinals: [{ ordinal: 0, zone: "cn-shanghai-g", volumes: [{ claim: "data-db-0", fromZone: "cn-shanghai-b", toZone: "cn-shanghai-g", move: true }] }, { ordinal: 1, zone: "cn-shanghai-m", volumes: [{ claim: "data-db-1", fromZone: "cn-shanghai-m", toZone: "cn-shanghai-m", move: false }] }] },
    },
    status: { phase: "Running", step: "snapshot", message: "step snapshot", startedAt: at(0) },
    ...overrides,
  };
}

const STEPS = ["precheck", "protect", "scale-to-zero", "snapshot", "create-disks", "rebind", "restore-replicas", "finish"];

describe("kubectl zoneferry: formatting", () => {
  it("pads table columns like kubectl, without trailing spaces", () => {
    assert.equal(table(["NAME", "PHASE"], [["db-1", "Running"], ["a", ""]]), "NAME  PHASE\ndb-1  Running\na");
  });

  it("prints ages as kubectl's AGE column does", () => {
    assert.equal(age(5_000), "5s");
    assert.equal(age(90_000), "1m30s");
    assert.equal(age(10 * 60_000), "10m");
    assert.equal(age(5 * 3600_000), "5h");
    assert.equal(age(72 * 3600_000), "3d");
    assert.equal(age(-1), "<unknown>");
  });

  it("lists migrations with target, strategy, phase, step and age, oldest first, namespaces with -A", () => {
    const older = journal({ metadata: { name: "web-aaaaaaaaaaaa", namespace: "web", creationTimestamp: new Date(T0 - 3600_000) } });
    const text = statusTable([journal(), { ...older, spec: { ...older.spec, statefulSet: "web", targetZones: ["cn-shanghai-b"], request: { strategy: "Rolling" } as never }, status: { phase: "Succeeded", step: "finish" } }], T0 + 120_000, true);
    const lines = text.split("\n");
    assert.match(lines[0]!, /^NAMESPACE\s+NAME\s+STATEFULSET\s+TARGET\s+STRATEGY\s+PHASE\s+STEP\s+AGE$/);
    assert.match(lines[1]!, /^web\s+web-aaaaaaaaaaaa\s+web\s+cn-shanghai-b\s+Rolling\s+Succeeded\s+finish\s+62m$/);
    assert.match(lines[2]!, /^shop\s+db-0123456789ab\s+db\s+cn-shanghai-g,cn-shanghai-m\s+Recreate\s+Running\s+snapshot\s+2m$/);
    assert.equal(statusTable([], T0, false), "No migrations found in this namespace.");
  });

  it("reads the step from an Event's message, with or without the migration id", () => {
    assert.deepEqual(stepOfMessage("step snapshot"), { step: "snapshot", phase: "forward" });
    assert.deepEqual(stepOfMessage("migration 0123456789ab: step replica 2/3: rebind"), { step: "replica 2/3: rebind", phase: "forward" });
    assert.deepEqual(stepOfMessage("migration 0123456789ab: rolling back: undoing rebind"), { step: "rebind", phase: "compensating" });
    assert.equal(stepOfMessage("migrated to cn-shanghai-g"), undefined);
  });

  it("tells a migration's Events by their annotation, else by their message", () => {
    assert.equal(eventOfMigration(event("step snapshot", 0, { id: "0123456789ab" }), "0123456789ab"), true);
    assert.equal(eventOfMigration(event("step snapshot", 0, { id: "ffffffffffff" }), "0123456789ab"), false);
    assert.equal(eventOfMigration(event("migration 0123456789ab: step snapshot", 0), "0123456789ab"), true);
    assert.equal(eventOfMigration(event("step snapshot", 0), "0123456789ab"), false);
  });

  it("times each step from its Event to the next one's, the last until the migration finished", () => {
    const events = STEPS.map((step, index) => event(`step ${step}`, index * 10, { id: "0123456789ab" }));
    const timings = stepTimings([...events].reverse(), at(100));
    assert.deepEqual(timings.map((timing) => [timing.step, (timing.endedAt! - timing.startedAt) / 1000]), STEPS.map((step, index) => [step, index === STEPS.length - 1 ? 30 : 10]));
    // Recreate's downtime: scale-to-zero's start to finish's start.
    assert.deepEqual(downtimeMs(timings, at(100), T0 + 200_000), { ms: 50_000, ongoing: false });
  });

  it("orders steps begun within one second as the API server stored their Events", () => {
    const timings = stepTimings([event("step scale-to-zero", 1, { resourceVersion: "912" }), event("step protect", 1, { resourceVersion: "907" }), event("step precheck", 0, { resourceVersion: "950" })], undefined);
    assert.deepEqual(timings.map((timing) => timing.step), ["precheck", "protect", "scale-to-zero"]);
  });

  it("counts downtime so far while replicas are at zero, and until the end after a rollback", () => {
    const running = stepTimings(["precheck", "protect", "scale-to-zero", "snapshot"].map((step, index) => event(`step ${step}`, index * 10)), undefined);
    assert.deepEqual(downtimeMs(running, undefined, T0 + 45_000), { ms: 25_000, ongoing: true });
    const rolledBack = stepTimings([event("step scale-to-zero", 0), event("step snapshot", 5), event("rolling back: undoing scale-to-zero", 9, { reason: "ZoneferryRollingBack" })], at(30));
    assert.deepEqual(downtimeMs(rolledBack, at(30), T0 + 99_000), { ms: 30_000, ongoing: false });
    assert.equal(downtimeMs([], undefined, T0), undefined);
  });

  it("shows each wait, lasting or done, and each volume with its snapshot progress when known", () => {
    const waits = waitTable([
      { type: "PodsStopping", status: "False", reason: "Done", message: "waiting for pod(s) db-0 to go", lastTransitionTime: at(20) },
      { type: "SnapshotsPending", status: "True", reason: "Waiting", message: "waiting for snapshots to be Available", lastTransitionTime: at(40) },
    ], T0 + 60_000);
    assert.match(waits, /PodsStopping\s+done\s+40s ago\s+waiting for pod\(s\) db-0 to go/);
    assert.match(waits, /SnapshotsPending\s+waiting\s+20s ago/);
    const volumes = volumeTable([{ claim: "data-db-0", sourceDisk: "d-src", snapshot: "s-1", newDisk: "d-new", zone: "cn-shanghai-g", state: "disk-created" }], new Map([["s-1", { status: "progressing", percent: 42 }]]));
    assert.match(volumes, /data-db-0\s+d-src\s+s-1 \(42%\)\s+d-new\s+cn-shanghai-g\s+disk-created/);
  });

  it("describes a migration: header, plan, steps with timing, waits, volumes, downtime", () => {
    const events = [
      ...["precheck", "protect", "scale-to-zero", "snapshot"].map((step, index) => event(`migration 0123456789ab: step ${step}`, index * 10, { id: "0123456789ab" })),
      event("migration ffffffffffff: step finish", 5, { id: "ffffffffffff" }),
    ];
    const text = describeMigration({ migration: journal({ status: { phase: "Running", step: "snapshot", startedAt: at(0), volumes: [{ claim: "data-db-0", sourceDisk: "d-src", snapshot: "s-1", state: "snapshotted" }] } }), events, now: T0 + 42_000 });
    assert.match(text, /^Name:\s+shop\/db-0123456789ab$/m);
    assert.match(text, /^Target:\s+cn-shanghai-g,cn-shanghai-m$/m);
    assert.match(text, /^Duration:\s+42s \(running\)$/m);
    assert.match(text, /^Downtime:\s+22s so far \(replicas at zero\)$/m);
    assert.match(text, /^ {2}db-0 → cn-shanghai-g \(moves data-db-0 from cn-shanghai-b\)$/m);
    assert.match(text, /^ {2}db-1 → cn-shanghai-m \(stays\)$/m);
    assert.match(text, /^ {2}scale-to-zero\s+08:00:20\s+10s$/m);
    assert.match(text, /^ {2}snapshot\s+08:00:30\s+12s \(running\)$/m);
    assert.doesNotMatch(text, /finish/, "another migration's Event is not this one's step");
    assert.match(text, /data-db-0\s+d-src\s+s-1\s+snapshotted/);
    assert.doesNotMatch(text, /Replicas:/);
  });

  it("describes a Rolling migration's replicas with each one's downtime", () => {
    const migration = journal({ status: { phase: "Running", step: "replica 1/2: rebind", replicas: [
      { ordinal: 1, phase: "Moved", zone: "cn-shanghai-g", claims: ["data-db-1"], downAt: at(10), upAt: at(25) },
      { ordinal: 0, phase: "Down", zone: "cn-shanghai-m", claims: ["data-db-0"], downAt: at(30) },
    ] } });
    migration.spec.request = { strategy: "Rolling" } as never;
    const text = describeMigration({ migration, events: [], now: T0 + 50_000 });
    assert.match(text, /^Downtime:\s+longest replica down 20s/m);
    assert.match(text, /^ {2}1\s+cn-shanghai-g\s+Moved\s+15s\s+data-db-1$/m);
    assert.match(text, /^ {2}0\s+cn-shanghai-m\s+Down\s+20s \(down\)\s+data-db-0$/m);
  });
});
