/**
 * What `kubectl zoneferry` prints, as pure functions of what it read: tables, ages, the per-step
 * timing told by the migration's Events, the waits told by the journal's conditions, the volumes'
 * and the replicas' progress. No I/O here, so every line is unit-tested (test/unit/plugin-format.test.ts).
 */
import type { CoreV1Event } from "@kubernetes/client-node";
import { formatDuration } from "../core/duration.ts";
import type { JournalCondition, ReplicaProgress, VolumeProgress, ZoneMigrationResource } from "../runner/journal/types.ts";

/** Columns padded to their widest cell, two spaces apart, as kubectl prints its tables. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ").trimEnd();
  return [header, ...rows].map(line).join("\n");
}

/** A span as kubectl's AGE column shows it: 45s, 12m, 3h, 2d (seconds below 2 minutes' precision kept as "1m30s"). */
export function age(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "<unknown>";
  const seconds = Math.floor(ms / 1000);
  if (seconds < 120) return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${seconds % 60}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours}h` : `${Math.floor(hours / 24)}d`;
}

/** A duration to the second: "1m12s", "0s". */
export function seconds(ms: number): string {
  return formatDuration(Math.max(0, Math.round(ms / 1000) * 1000));
}

function since(time: string | Date | undefined, now: number): string {
  if (time === undefined) return "<unknown>";
  return age(now - new Date(time).getTime());
}

/** `kubectl zoneferry status`: one row per migration, newest last. */
export function statusTable(migrations: readonly ZoneMigrationResource[], now: number, allNamespaces: boolean): string {
  if (migrations.length === 0) return allNamespaces ? "No migrations found." : "No migrations found in this namespace.";
  const sorted = [...migrations].sort((a, b) => timeOf(a.metadata.creationTimestamp) - timeOf(b.metadata.creationTimestamp));
  const rows = sorted.map((migration) => {
    const row = [
      migration.metadata.name ?? "",
      migration.spec.statefulSet,
      migration.spec.targetZones.join(","),
      migration.spec.request?.strategy ?? "Recreate",
      migration.status?.phase ?? "Pending",
      migration.status?.step ?? "",
      since(migration.metadata.creationTimestamp, now),
    ];
    return allNamespaces ? [migration.metadata.namespace ?? "", ...row] : row;
  });
  const header = ["NAME", "STATEFULSET", "TARGET", "STRATEGY", "PHASE", "STEP", "AGE"];
  return table(allNamespaces ? ["NAMESPACE", ...header] : header, rows);
}

function timeOf(time: string | Date | undefined): number {
  return time === undefined ? 0 : new Date(time).getTime();
}

/** One step the migration entered, as its Event tells it. */
export interface StepTiming {
  readonly step: string;
  readonly phase: "forward" | "compensating";
  readonly startedAt: number;
  /** Undefined: still running. */
  readonly endedAt: number | undefined;
  /** How often the runner entered it (a resumed or retried step is entered again). */
  readonly entered: number;
}

/** The step an Event's message names: "step snapshot" / "rolling back: undoing rebind", with or without the "migration <id>: " prefix. */
export function stepOfMessage(message: string): { step: string; phase: "forward" | "compensating" } | undefined {
  const text = message.replace(/^migration [0-9a-z]+: /, "");
  const forward = /^step (.+)$/.exec(text);
  if (forward !== null) return { step: forward[1]!, phase: "forward" };
  const back = /^rolling back: undoing (.+)$/.exec(text);
  return back === null ? undefined : { step: back[1]!, phase: "compensating" };
}

/** Whether an Event tells of migration `id`: its annotation says so, or its message names it. */
export function eventOfMigration(event: CoreV1Event, id: string): boolean {
  const annotated = event.metadata.annotations?.["zoneferry.io/migration-id"];
  return annotated === undefined ? (event.message ?? "").startsWith(`migration ${id}: `) : annotated === id;
}

function eventTime(event: CoreV1Event): number {
  const time = event.firstTimestamp ?? event.eventTime ?? event.metadata.creationTimestamp;
  return time === undefined ? Number.NaN : new Date(time).getTime();
}

/**
 * Each step's start (its Event's first time, to the second) and end (the next step's start; the last one ends
 * when the migration finished, or runs still). Events are the runner's record of each step it
 * entered; the API server keeps them an hour by default (--event-ttl), so an older migration
 * shows no step timing.
 */
export function stepTimings(events: readonly CoreV1Event[], finishedAt: string | undefined): StepTiming[] {
  const entered = events
    .filter((event) => event.reason === "ZoneferryStep" || event.reason === "ZoneferryRollingBack")
    .map((event) => ({ parsed: stepOfMessage(event.message ?? ""), at: eventTime(event), count: event.count ?? 1, written: Number(event.metadata.resourceVersion ?? 0) || 0 }))
    .filter((entry): entry is { parsed: { step: string; phase: "forward" | "compensating" }; at: number; count: number; written: number } => entry.parsed !== undefined && Number.isFinite(entry.at))
    // Event times are whole seconds: steps begun within one second are ordered as the API server
    // stored their Events (resourceVersion, etcd's revision; a repeat's bump moves it, but a
    // repeat's first time is an earlier second).
    .sort((a, b) => a.at - b.at || a.written - b.written);
  const end = finishedAt === undefined ? undefined : new Date(finishedAt).getTime();
  return entered.map((entry, index) => ({
    step: entry.parsed.step,
    phase: entry.parsed.phase,
    startedAt: entry.at,
    endedAt: entered[index + 1]?.at ?? end,
    entered: entry.count,
  }));
}

/**
 * The application's downtime of a Recreate move: from scale-to-zero's start until the replicas were
 * Ready again (finish begins), or until the migration ended after a rollback. Undefined when the
 * Events do not tell it (not yet scaled down, Events expired).
 */
export function downtimeMs(timings: readonly StepTiming[], finishedAt: string | undefined, now: number): { ms: number; ongoing: boolean } | undefined {
  const down = timings.find((timing) => timing.phase === "forward" && timing.step === "scale-to-zero");
  if (down === undefined) return undefined;
  const up = timings.find((timing) => timing.phase === "forward" && timing.step === "finish" && timing.startedAt >= down.startedAt);
  if (up !== undefined) return { ms: up.startedAt - down.startedAt, ongoing: false };
  if (finishedAt !== undefined) return { ms: new Date(finishedAt).getTime() - down.startedAt, ongoing: false };
  return { ms: now - down.startedAt, ongoing: true };
}

export function stepTable(timings: readonly StepTiming[], now: number): string {
  if (timings.length === 0) return "  (no step Events: not started yet, or expired from the API server)";
  const rows = timings.map((timing) => [
    timing.phase === "forward" ? timing.step : `undo ${timing.step}`,
    new Date(timing.startedAt).toISOString().slice(11, 19),
    timing.endedAt === undefined ? `${seconds(now - timing.startedAt)} (running)` : seconds(timing.endedAt - timing.startedAt),
    timing.entered > 1 ? String(timing.entered) : "",
  ]);
  return indent(table(["STEP", "STARTED", "DURATION", "ENTERED"], rows));
}

/** The journal's conditions: each wait, whether it lasts (True) or ended (False, reason Done), and since when. */
export function waitTable(conditions: readonly JournalCondition[], now: number): string {
  if (conditions.length === 0) return "  (none)";
  const rows = conditions.map((condition) => [
    condition.type,
    condition.status === "True" ? "waiting" : condition.reason === "Done" ? "done" : condition.status,
    `${since(condition.lastTransitionTime, now)} ago`,
    condition.message,
  ]);
  return indent(table(["CONDITION", "STATE", "SINCE", "MESSAGE"], rows));
}

/** A snapshot's progress as ECS reports it, by snapshot id, when the plugin could ask. */
export type SnapshotProgress = ReadonlyMap<string, { readonly status: string; readonly percent: number }>;

export function volumeTable(volumes: readonly VolumeProgress[], snapshots: SnapshotProgress = new Map()): string {
  if (volumes.length === 0) return "  (none planned yet)";
  const rows = volumes.map((volume) => {
    const progress = volume.snapshot === undefined ? undefined : snapshots.get(volume.snapshot);
    return [
      volume.claim,
      volume.sourceDisk ?? "",
      volume.snapshot === undefined ? "" : progress === undefined ? volume.snapshot : `${volume.snapshot} (${progress.percent}%)`,
      volume.newDisk ?? "",
      volume.zone ?? "",
      volume.state ?? "",
    ];
  });
  return indent(table(["CLAIM", "SOURCE DISK", "SNAPSHOT", "NEW DISK", "ZONE", "STATE"], rows));
}

export function replicaTable(replicas: readonly ReplicaProgress[], now: number): string {
  const rows = replicas.map((replica) => {
    const down = replica.downAt === undefined ? undefined : new Date(replica.downAt).getTime();
    const up = replica.upAt === undefined ? undefined : new Date(replica.upAt).getTime();
    const downtime = down === undefined ? "" : up === undefined ? `${seconds(now - down)} (down)` : seconds(up - down);
    return [String(replica.ordinal), replica.zone, replica.phase, downtime, replica.claims.join(",")];
  });
  return indent(table(["ORDINAL", "ZONE", "PHASE", "DOWNTIME", "CLAIMS"], rows));
}

function indent(text: string): string {
  return text.split("\n").map((line) => `  ${line}`).join("\n");
}

export interface DescribeInput {
  readonly migration: ZoneMigrationResource;
  readonly events: readonly CoreV1Event[];
  readonly now: number;
  readonly snapshots?: SnapshotProgress;
  /** Why snapshot progress is not shown, when it is not. */
  readonly snapshotNote?: string;
}

/** `kubectl zoneferry describe`. */
export function describeMigration({ migration, events, now, snapshots, snapshotNote }: DescribeInput): string {
  const { spec, status = {} } = migration;
  const timings = stepTimings(events.filter((event) => eventOfMigration(event, spec.migrationId)), status.finishedAt);
  const strategy = spec.request?.strategy ?? "Recreate";
  const lines = [...headerLines(migration, now), `Downtime:      ${downtimeLine(strategy, { timings, finishedAt: status.finishedAt, replicas: status.replicas ?? [] }, now)}`];
  lines.push(...planLines(migration));
  lines.push("Steps:", stepTable(timings, now));
  lines.push("Waits (journal conditions):", waitTable(status.conditions ?? [], now));
  lines.push("Volumes:", volumeTable(status.volumes ?? [], snapshots));
  if (snapshotNote !== undefined) lines.push(`  ${snapshotNote}`);
  if (strategy === "Rolling" || (status.replicas ?? []).length > 0) lines.push("Replicas:", replicaTable(status.replicas ?? [], now));
  return `${lines.join("\n")}\n`;
}

function headerLines(migration: ZoneMigrationResource, now: number): string[] {
  const { spec, status = {} } = migration;
  const created = migration.metadata.creationTimestamp;
  const started = status.startedAt ?? (created === undefined ? undefined : new Date(created).toISOString());
  const ended = status.finishedAt === undefined ? undefined : new Date(status.finishedAt).getTime();
  const duration = started === undefined ? "" : `${seconds((ended ?? now) - new Date(started).getTime())}${ended === undefined ? " (running)" : ""}`;
  return [
    `Name:          ${migration.metadata.namespace ?? ""}/${migration.metadata.name ?? ""}`,
    `StatefulSet:   ${spec.statefulSet}`,
    `Migration id:  ${spec.migrationId}`,
    `Target:        ${spec.targetZones.join(",")}`,
    `Strategy:      ${spec.request?.strategy ?? "Recreate"}`,
    `Phase:         ${status.phase ?? "Pending"}`,
    `Step:          ${status.step ?? ""}`,
    `Message:       ${status.message ?? ""}`,
    `Started:       ${started ?? "<not yet>"}`,
    `Finished:      ${status.finishedAt ?? "<not yet>"}`,
    `Duration:      ${duration}`,
  ];
}

function planLines(migration: ZoneMigrationResource): string[] {
  const plan = migration.spec.plan?.ordinals ?? [];
  if (plan.length === 0) return [];
  return ["Plan:", ...plan.map((ordinal) => {
    const moving = (ordinal.volumes ?? []).filter((volume) => volume.move);
    const what = moving.length === 0 ? " (stays)" : ` (moves ${moving.map((volume) => `${volume.claim} from ${volume.fromZone}`).join(", ")})`;
    return `  ${migration.spec.statefulSet}-${ordinal.ordinal} → ${ordinal.zone}${what}`;
  })];
}

interface DowntimeFacts {
  readonly timings: readonly StepTiming[];
  readonly finishedAt: string | undefined;
  readonly replicas: readonly ReplicaProgress[];
}

function downtimeLine(strategy: string, { timings, finishedAt, replicas }: DowntimeFacts, now: number): string {
  if (strategy === "Rolling") {
    const spans = replicas.filter((replica) => replica.downAt !== undefined).map((replica) => (replica.upAt === undefined ? now : new Date(replica.upAt).getTime()) - new Date(replica.downAt!).getTime());
    if (spans.length === 0) return "none yet (Rolling: one replica down at a time)";
    return `longest replica down ${seconds(Math.max(...spans))} (Rolling: one replica at a time; the others served)`;
  }
  const downtime = downtimeMs(timings, finishedAt, now);
  if (downtime === undefined) return "none yet (or its Events expired)";
  return `${seconds(downtime.ms)}${downtime.ongoing ? " so far (replicas at zero)" : " (replicas at zero until Ready again)"}`;
}
