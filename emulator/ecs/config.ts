/**
 * The emulator's configuration: one region with its zones and the disk categories each sells,
 * the access keys it accepts, and the time model (how long the cloud takes to do things, scaled
 * by `timeScale`). `defaultEmulatorConfig` fills in everything left out.
 */

/** One access key; a key with a securityToken stands for STS credentials and must present it. */
export interface AccountConfig {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken?: string;
  /** The Alibaba Cloud account the key belongs to (digits); absent: the default account (accounts.ts). */
  readonly accountId?: string;
}

export interface ZoneConfig {
  readonly zoneId: string;
  /** Data-disk categories on sale in the zone. */
  readonly categories: readonly string[];
  /** Categories on sale but out of stock ("WithoutStock"): CreateDisk answers OperationDenied.NoStock. */
  readonly soldOut?: readonly string[];
  /** Extra cloud time disks made in this zone stay Creating (a zone under pressure), before timeScale. */
  readonly diskCreateDelayMs?: number;
}

/** A duration that grows with the disk: baseMs + perGiBMs × size, before timeScale. */
export interface DurationModel {
  readonly baseMs: number;
  readonly perGiBMs: number;
}

export interface TransitionsConfig {
  /** Until a snapshot is accomplished (Progress 100%); non-ESSD snapshots are usable only then. */
  readonly snapshot: DurationModel;
  /** Until an ESSD-family snapshot is usable ("within seconds", instant access); others wait for `snapshot`. */
  readonly instantAccess: DurationModel;
  /** Until a new disk leaves Creating for Available. */
  readonly diskCreate: DurationModel;
  /** How long after its creation a disk made from a snapshot refuses DeleteDisk (IncorrectDiskStatus.Initializing). */
  readonly diskInitializing: { readonly baseMs: number };
  /** How long a disk shows Attaching after an attach before it is In_use. */
  readonly attach: { readonly baseMs: number };
  /** How long a disk shows Detaching after a detach before it is Available. */
  readonly detach: { readonly baseMs: number };
}

/** What CreateDisk does with a Size below the snapshot's size. */
export type SmallerThanSnapshot = "useSnapshotSize" | "reject";

export interface EmulatorConfig {
  readonly regionId: string;
  readonly accounts: readonly AccountConfig[];
  readonly zones: readonly ZoneConfig[];
  /**
   * Multiplies every modelled cloud duration (transitions, snapshot retention): 1 is a real
   * cloud's pace, 0.001 a thousand times faster, 0 instantaneous.
   * @defaultValue 1
   */
  readonly timeScale: number;
  /**
   * Wall-clock milliseconds before an ECS answer, per action, with "default" for the others.
   * Not scaled by timeScale: it models the network and the API front end, not the cloud's work.
   * @defaultValue `{ default: 0 }`
   */
  readonly latency: Readonly<Record<string, number>>;
  readonly transitions: TransitionsConfig;
  /** Living pay-as-you-go disks and snapshots in the region. */
  readonly quotas: { readonly disks: number; readonly snapshots: number };
  /** Global flow control: more requests per second than this are answered Throttling.User. */
  readonly throttle?: { readonly requestsPerSecond: number };
  /** Where the world is kept across restarts; unset keeps it in memory only. */
  readonly persistFile?: string;
  /**
   * Largest accepted distance between the server's clock and a request's x-acs-date/Timestamp.
   * @defaultValue 900 (ECS's 15 minutes)
   */
  readonly clockSkewSeconds: number;
  /**
   * CreateDisk with a SnapshotId and a smaller Size: the SDK 7.x documentation says the
   * snapshot's size is used; older ECS answered InvalidDiskSize.TooSmall ("reject").
   * @defaultValue "useSnapshotSize"
   */
  readonly smallerThanSnapshot: SmallerThanSnapshot;
}

/** Anything of EmulatorConfig; nested groups may be given in part. */
export type EmulatorConfigOverrides = Partial<Omit<EmulatorConfig, "transitions" | "quotas">> & {
  readonly transitions?: {
    readonly snapshot?: Partial<DurationModel>;
    readonly instantAccess?: Partial<DurationModel>;
    readonly diskCreate?: Partial<DurationModel>;
    readonly diskInitializing?: { readonly baseMs?: number };
    readonly attach?: { readonly baseMs?: number };
    readonly detach?: { readonly baseMs?: number };
  };
  readonly quotas?: Partial<EmulatorConfig["quotas"]>;
};

const ON_SALE = ["cloud_essd", "cloud_auto", "cloud_essd_entry", "cloud_ssd", "cloud_efficiency"];

/**
 * Real-cloud pace: a snapshot of a 100 GiB disk takes about two minutes ("several minutes depending
 * on the size"), a disk a few seconds, and a disk made from a snapshot keeps initializing for a
 * minute (ECS publishes no figures; these are in the range users report).
 */
const DEFAULT_TRANSITIONS: TransitionsConfig = {
  snapshot: { baseMs: 30_000, perGiBMs: 1_000 },
  instantAccess: { baseMs: 0, perGiBMs: 0 },
  diskCreate: { baseMs: 5_000, perGiBMs: 20 },
  diskInitializing: { baseMs: 60_000 },
  // ECS takes seconds to attach or detach; 0 by default keeps the control API's attach and detach
  // immediate for the sandbox and tests that do not look at these windows.
  attach: { baseMs: 0 },
  detach: { baseMs: 0 },
};

const DEFAULTS: EmulatorConfig = {
  regionId: "cn-shanghai",
  accounts: [{ accessKeyId: "zoneferry-emulator-key", accessKeySecret: "zoneferry-emulator-secret" }],
  zones: ["cn-shanghai-b", "cn-shanghai-g", "cn-shanghai-m"].map((zoneId) => ({ zoneId, categories: ON_SALE })),
  timeScale: 1,
  latency: { default: 0 },
  transitions: DEFAULT_TRANSITIONS,
  quotas: { disks: 1_000, snapshots: 1_000 },
  clockSkewSeconds: 900,
  smallerThanSnapshot: "useSnapshotSize",
};

/** A complete configuration: the defaults with `overrides` on top (nested groups merged one level). */
export function defaultEmulatorConfig(overrides: EmulatorConfigOverrides = {}): EmulatorConfig {
  const transitions = overrides.transitions ?? {};
  return {
    ...DEFAULTS,
    ...overrides,
    latency: { ...DEFAULTS.latency, ...overrides.latency },
    transitions: {
      snapshot: { ...DEFAULT_TRANSITIONS.snapshot, ...transitions.snapshot },
      instantAccess: { ...DEFAULT_TRANSITIONS.instantAccess, ...transitions.instantAccess },
      diskCreate: { ...DEFAULT_TRANSITIONS.diskCreate, ...transitions.diskCreate },
      diskInitializing: { ...DEFAULT_TRANSITIONS.diskInitializing, ...transitions.diskInitializing },
      attach: { ...DEFAULT_TRANSITIONS.attach, ...transitions.attach },
      detach: { ...DEFAULT_TRANSITIONS.detach, ...transitions.detach },
    },
    quotas: { ...DEFAULTS.quotas, ...overrides.quotas },
  };
}
