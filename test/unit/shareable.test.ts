import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { unshareableBecause } from "../../core/shareable.ts";
import { SERVICE_KEY_ID } from "../../emulator/ecs/actions/disk-attributes.ts";

const disk = (encrypted: boolean, kmsKeyId?: string) => ({ diskId: "d-orders0", encrypted, kmsKeyId });

describe("which disks an export can share the snapshots of", () => {
  it("refuses a disk encrypted with the service key, naming the disk, the key and what to do", () => {
    const why = unshareableBecause(disk(true, SERVICE_KEY_ID), SERVICE_KEY_ID);
    assert.ok(why !== undefined);
    assert.match(why, /^disk d-orders0 is encrypted with ECS's service key \(0e478b7a-[0-9a-f-]+\), and snapshots so encrypted cannot be shared with another account: /);
    assert.match(why, /re-encrypt it with a customer KMS key \(copy a snapshot of it with CopySnapshot, Encrypted=true and your KMSKeyId/);
    assert.match(why, /or export without it$/);
  });

  it("refuses an encrypted disk ECS reports no key for, as Resource Sharing takes its snapshots for the service key's", () => {
    assert.match(unshareableBecause(disk(true), SERVICE_KEY_ID) ?? "", /^disk d-orders0 is encrypted with ECS's service key, and snapshots so encrypted/);
    assert.notEqual(unshareableBecause(disk(true), undefined), undefined, "even when the service key is not known");
  });

  it("lets a disk encrypted with a customer key through, and one not encrypted", () => {
    assert.equal(unshareableBecause(disk(true, "key-orders"), SERVICE_KEY_ID), undefined);
    assert.equal(unshareableBecause(disk(false), SERVICE_KEY_ID), undefined);
  });

  it("cannot tell the service key from a customer key by its id alone: unknown, a reported key passes", () => {
    assert.equal(unshareableBecause(disk(true, SERVICE_KEY_ID), undefined), undefined);
  });
});
