/**
 * Disks and snapshots as DescribeDisks/DescribeSnapshots write them: PascalCase, with the value
 * types of the SDK's models (the SDK refuses a number where its model says boolean, and so on),
 * and empty strings where ECS leaves a field blank.
 */
import { iopsOf } from "../categories.ts";
import { isoSeconds } from "../clock.ts";
import { diskAttributes, diskStatus, snapshotState } from "../lifecycle.ts";
import type { DiskRecord, SnapshotRecord } from "../world.ts";
import { tagsView } from "./tags.ts";

const time = (epochMs: number | null): string => (epochMs === null ? "" : isoSeconds(epochMs));

export function diskView(disk: DiskRecord, regionId: string, now: number): Record<string, unknown> {
  const status = diskStatus(disk, now);
  // ECS names the instance from the start of an attach.
  const inUse = status === "In_use" || status === "Attaching";
  const attributes = diskAttributes(disk);
  const iops = iopsOf(disk.category, disk.size, disk.performanceLevel === "" ? undefined : disk.performanceLevel) + attributes.provisionedIops;
  return {
    DiskId: disk.diskId,
    DiskName: disk.diskName,
    Description: disk.description,
    Status: status,
    Category: disk.category,
    PerformanceLevel: disk.performanceLevel,
    Size: disk.size,
    RegionId: regionId,
    ZoneId: disk.zoneId,
    Type: "data",
    InstanceId: inUse ? disk.instanceId : "",
    Device: inUse ? "/dev/xvdb" : "",
    SourceSnapshotId: disk.sourceSnapshotId,
    Portable: true,
    Encrypted: disk.encrypted,
    KMSKeyId: attributes.kmsKeyId,
    DiskChargeType: "PostPaid",
    CreationTime: time(disk.createdAt),
    AttachedTime: time(disk.attachedAt),
    DetachedTime: time(disk.detachedAt),
    ExpiredTime: "2999-09-08T16:00Z",
    DeleteAutoSnapshot: true,
    DeleteWithInstance: false,
    EnableAutoSnapshot: true,
    EnableAutomatedSnapshotPolicy: false,
    AutoSnapshotPolicyId: attributes.autoSnapshotPolicyId,
    BurstingEnabled: attributes.burstingEnabled,
    // The SDK's model has the field for every disk; ECS sends it for AutoPL disks.
    ...(disk.category === "cloud_auto" ? { ProvisionedIops: attributes.provisionedIops } : {}),
    IOPS: iops,
    IOPSRead: Math.floor(iops / 2),
    IOPSWrite: Math.floor(iops / 2),
    MultiAttach: attributes.multiAttach,
    MountInstanceNum: inUse ? 1 : 0,
    MountInstances: { MountInstance: inUse ? [{ InstanceId: disk.instanceId, Device: "/dev/xvdb", AttachedTime: time(disk.attachedAt) }] : [] },
    Attachments: { Attachment: inUse ? [{ InstanceId: disk.instanceId, Device: "/dev/xvdb", AttachedTime: time(disk.attachedAt) }] : [] },
    OperationLocks: { OperationLock: [] },
    Tags: tagsView(disk.tags),
    ResourceGroupId: attributes.resourceGroupId,
    SerialNumber: disk.diskId.slice(2),
    StorageSetId: "",
    ProductCode: "",
    ImageId: "",
    BdfId: "",
  };
}

export function snapshotView(snapshot: SnapshotRecord, regionId: string, now: number): Record<string, unknown> {
  const state = snapshotState(snapshot, now);
  return {
    SnapshotId: snapshot.snapshotId,
    SnapshotName: snapshot.snapshotName,
    Description: snapshot.description,
    Status: state.status,
    Progress: `${state.progress}%`,
    RemainTime: state.remainSeconds,
    Available: state.available,
    InstantAccess: snapshot.instantAccess,
    InstantAccessRetentionDays: 0,
    Category: "standard",
    SnapshotType: "user",
    Usage: snapshot.usedByDisks.length > 0 ? "disk" : "none",
    SourceDiskId: snapshot.sourceDiskId,
    // The SDK's model types it as a string; ECS has sent both.
    SourceDiskSize: String(snapshot.sourceDiskSize),
    SourceDiskType: "data",
    SourceStorageType: "disk",
    SourceRegionId: "",
    SourceSnapshotId: "",
    RegionId: regionId,
    Encrypted: snapshot.encrypted ?? false,
    KMSKeyId: snapshot.kmsKeyId ?? "",
    CreationTime: time(snapshot.createdAt),
    LastModifiedTime: time(state.status === "accomplished" ? snapshot.accomplishedAt : snapshot.createdAt),
    ...(snapshot.retentionDays === null ? {} : { RetentionDays: snapshot.retentionDays }),
    FullSnapshotSizeInBytes: state.status === "accomplished" ? snapshot.sourceDiskSize * 1024 ** 3 : 0,
    ProductCode: "",
    ResourceGroupId: "",
    SnapshotSN: `64472-${snapshot.seq}-${snapshot.createdAt % 100_000_000}`,
    Tags: tagsView(snapshot.tags),
  };
}
