/**
 * The region model: the disks and snapshots that exist, their opaque contents, and the client
 * tokens already answered. Records hold facts and timestamps only; what they look like at a given
 * moment (Creating or Available, progress, usable or not) is derived in lifecycle.ts. Records are
 * plain JSON so the world can be written to disk as is.
 */

export interface Tag {
  readonly key: string;
  readonly value: string;
}

export interface DiskRecord {
  readonly diskId: string;
  /** Creation order, for ECS's newest-first listing and for stable paging. */
  readonly seq: number;
  readonly diskName: string;
  readonly description: string;
  readonly zoneId: string;
  readonly category: string;
  /** "" for categories without performance levels. */
  readonly performanceLevel: string;
  readonly size: number;
  tags: Tag[];
  /** "" unless made from a snapshot. */
  readonly sourceSnapshotId: string;
  readonly encrypted: boolean;
  /*
   * The attributes below are optional so worlds persisted before they were modelled still load;
   * read them through lifecycle.ts's diskAttributes, which fills in ECS's defaults.
   */
  /** The KMS key an encrypted disk uses; "" when not encrypted. */
  readonly kmsKeyId?: string;
  /** cloud_auto only: IOPS bought on top of the baseline. */
  readonly provisionedIops?: number;
  /** cloud_auto only: performance burst. */
  readonly burstingEnabled?: boolean;
  readonly multiAttach?: "Enabled" | "Disabled";
  /** "" for the account's default resource group. */
  readonly resourceGroupId?: string;
  /** Applied with ApplyAutoSnapshotPolicy on ECS (not modelled); planted through the control API. */
  readonly autoSnapshotPolicyId?: string;
  readonly createdAt: number;
  /** The disk is Creating until this moment. */
  readonly readyAt: number;
  /** A disk made from a snapshot refuses DeleteDisk until this moment. */
  readonly initializedUntil: number;
  /** "" while not attached. */
  instanceId: string;
  attachedAt: number | null;
  detachedAt: number | null;
  /** The disk shows Attaching until this moment after an attach, Detaching until it after a detach. */
  attachingUntil?: number;
  detachingUntil?: number;
  /** ECS refuses to snapshot a disk never attached to an instance (its content is still the initial one). */
  everAttached: boolean;
}

export interface SnapshotRecord {
  readonly snapshotId: string;
  readonly seq: number;
  readonly snapshotName: string;
  readonly description: string;
  readonly sourceDiskId: string;
  readonly sourceDiskSize: number;
  readonly sourceDiskCategory: string;
  readonly sourceZoneId: string;
  /** ESSD family: usable as soon as it exists, while it still uploads. */
  readonly instantAccess: boolean;
  readonly createdAt: number;
  /** When an instant-access snapshot becomes usable; absent in worlds saved before it was modelled. */
  readonly availableAt?: number;
  readonly accomplishedAt: number;
  /** A snapshot of an encrypted disk is encrypted with the disk's key (absent: not encrypted). */
  readonly encrypted?: boolean;
  readonly kmsKeyId?: string;
  /** An injected fault: the snapshot turns failed at this moment (set only with that fault). */
  readonly failsAt?: number;
  /** null: never released automatically. */
  readonly retentionDays: number | null;
  readonly expiresAt: number | null;
  tags: Tag[];
  /** Disks ever created from this snapshot (DeleteSnapshot needs Force then). */
  usedByDisks: string[];
  /**
   * Set on the copy another account's share puts in this account's world: the owner's account and
   * snapshot id (the copy has an id of its own and the owner's name, as shared snapshots do).
   */
  readonly sharedFrom?: { readonly accountId: string; readonly snapshotId: string };
}

/** What a disk or snapshot holds: opaque bytes with the content type they were stored with. */
export interface Content {
  readonly contentType: string;
  readonly data: Buffer;
}

/** An answered request with a ClientToken: replayed for the same parameters, refused for others. */
export interface TokenRecord {
  readonly key: string;
  readonly fingerprint: string;
  readonly body: Readonly<Record<string, unknown>>;
}

/** The world as written to the persist file. */
export interface WorldData {
  readonly seq: number;
  readonly disks: readonly DiskRecord[];
  readonly snapshots: readonly SnapshotRecord[];
  readonly tokens: readonly TokenRecord[];
  readonly contents: ReadonlyArray<{ readonly id: string; readonly contentType: string; readonly base64: string }>;
}

export class World {
  readonly disks = new Map<string, DiskRecord>();
  readonly snapshots = new Map<string, SnapshotRecord>();
  /** Keyed by disk or snapshot id. */
  readonly contents = new Map<string, Content>();
  readonly tokens = new Map<string, TokenRecord>();
  #seq = 0;
  #version = 0;

  /** Grows with every change; the server persists when it moved. */
  get version(): number {
    return this.#version;
  }

  /** Marks a change made to a record in place. */
  touch(): void {
    this.#version++;
  }

  nextSeq(): number {
    return ++this.#seq;
  }

  addDisk(disk: DiskRecord, content?: Content): void {
    this.disks.set(disk.diskId, disk);
    if (content !== undefined) this.contents.set(disk.diskId, content);
    this.touch();
  }

  removeDisk(diskId: string): void {
    this.disks.delete(diskId);
    this.contents.delete(diskId);
    this.touch();
  }

  /** Adds a snapshot holding the content its disk holds now. */
  addSnapshot(snapshot: SnapshotRecord): void {
    this.snapshots.set(snapshot.snapshotId, snapshot);
    const content = this.contents.get(snapshot.sourceDiskId);
    if (content !== undefined) this.contents.set(snapshot.snapshotId, content);
    this.touch();
  }

  removeSnapshot(snapshotId: string): void {
    this.snapshots.delete(snapshotId);
    this.contents.delete(snapshotId);
    this.touch();
  }

  setContent(id: string, content: Content): void {
    this.contents.set(id, content);
    this.touch();
  }

  /** Releases snapshots whose retention period ended; returns how many. */
  sweep(now: number): number {
    const expired = [...this.snapshots.values()].filter((snapshot) => snapshot.expiresAt !== null && snapshot.expiresAt <= now);
    for (const snapshot of expired) this.removeSnapshot(snapshot.snapshotId);
    return expired.length;
  }

  clear(): void {
    this.disks.clear();
    this.snapshots.clear();
    this.contents.clear();
    this.tokens.clear();
    this.touch();
  }

  toData(): WorldData {
    return {
      seq: this.#seq,
      disks: [...this.disks.values()],
      snapshots: [...this.snapshots.values()],
      tokens: [...this.tokens.values()],
      contents: [...this.contents].map(([id, content]) => ({ id, contentType: content.contentType, base64: content.data.toString("base64") })),
    };
  }

  static fromData(data: WorldData): World {
    const world = new World();
    world.#seq = data.seq;
    for (const disk of data.disks) world.disks.set(disk.diskId, disk);
    for (const snapshot of data.snapshots) world.snapshots.set(snapshot.snapshotId, snapshot);
    for (const token of data.tokens) world.tokens.set(token.key, token);
    for (const content of data.contents) world.contents.set(content.id, { contentType: content.contentType, data: Buffer.from(content.base64, "base64") });
    return world;
  }
}
