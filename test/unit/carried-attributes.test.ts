import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { carriedAttributes, carriedTags, excessTags, newDiskTags } from "../../core/carried-attributes.ts";
import type { DiskRecord } from "../../core/disk-cloud.ts";

const source = (overrides: Partial<DiskRecord> = {}): DiskRecord => ({
  diskId: "d-1", zoneId: "cn-shanghai-m", category: "cloud_auto", status: "In_use", sizeGiB: 100, performanceLevel: undefined,
  tags: {}, sourceSnapshotId: undefined, instanceId: "i-1", attachedAt: undefined, multiAttach: false, mountedInstances: 1, autoSnapshotPolicyId: undefined,
  encrypted: false, kmsKeyId: undefined, provisionedIops: 0, burstingEnabled: false, resourceGroupId: undefined,
  ...overrides,
});

describe("what a new disk takes over from its source", () => {
  it("copies the source's tags but ECS's reserved ones, a previous run's zoneferry.io/ ones and the CSI volume-name tag", () => {
    const tags = {
      "ack.aliyun.com": "c1", createdby: "alibabacloud-csi-plugin", "k8s.aliyun.com": "true", "cost-center": "shop",
      "acs:rm:rgId": "rg-1", "aliyun-reserved": "x", "zoneferry.io/run": "old", "csi.alibabacloud.com/volume-name": "pvc-1",
    };
    assert.deepEqual(carriedTags(tags), { "ack.aliyun.com": "c1", createdby: "alibabacloud-csi-plugin", "k8s.aliyun.com": "true", "cost-center": "shop" });
  });

  it("puts zoneferry's own tags on top of the source's", () => {
    assert.deepEqual(newDiskTags({ team: "a", "zoneferry.io/pvc": "ns.old" }, { "zoneferry.io/pvc": "ns.data-db-0" }), { team: "a", "zoneferry.io/pvc": "ns.data-db-0" });
  });

  it("counts the tags too many for 20 on one disk with zoneferry's 3", () => {
    const tags = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, index) => [`k${index}`, "v"]));
    assert.deepEqual([excessTags(tags(17)), excessTags(tags(18)), excessTags({ ...tags(17), "zoneferry.io/run": "x" })], [0, 1, 0]);
  });

  it("carries encryption and key, provisioned IOPS, bursting, multi-attach and resource group, and leaves ECS's defaults unsaid", () => {
    assert.deepEqual(
      carriedAttributes(source({ encrypted: true, kmsKeyId: "key-1", provisionedIops: 5_000, burstingEnabled: true, multiAttach: true, resourceGroupId: "rg-1" })),
      { encrypted: true, kmsKeyId: "key-1", provisionedIops: 5_000, burstingEnabled: true, multiAttach: true, resourceGroupId: "rg-1" },
    );
    assert.deepEqual(carriedAttributes(source()), {});
  });
});
