/**
 * The attributes CreateDisk sets besides shape and tags: encryption and its KMS key, an AutoPL
 * disk's provisioned IOPS and bursting, multi-attach and the resource group, checked as ECS checks
 * them. The control API seeds disks through the same rules.
 */
import { AUTO_PL_CATEGORY, provisionedIopsMax, takesMultiAttach } from "../categories.ts";
import { ecsError, invalidParameter, type EcsError } from "../errors.ts";
import type { Params } from "../params.ts";
import type { SnapshotRecord } from "../world.ts";

/**
 * The key ECS reports for a disk encrypted without a KMSKeyId (the region's ECS service key; the
 * SDK: "The KMSKeyId value is returned after the instance is created"). KMS is not modelled.
 */
export const SERVICE_KEY_ID = "0e478b7a-4262-4802-b8cb-00d3fb408260";

/** What the caller asked for; undefined where it said nothing. */
export interface AttributeRequest {
  readonly encrypted: boolean | undefined;
  readonly kmsKeyId: string | undefined;
  readonly provisionedIops: number | undefined;
  readonly burstingEnabled: boolean | undefined;
  readonly multiAttach: string | undefined;
  readonly resourceGroupId: string | undefined;
}

export interface ResolvedAttributes {
  readonly encrypted: boolean;
  readonly kmsKeyId: string;
  readonly provisionedIops: number;
  readonly burstingEnabled: boolean;
  readonly multiAttach: "Enabled" | "Disabled";
  readonly resourceGroupId: string;
}

const refused = (name: string, why: string): EcsError => ecsError("InvalidParameter", `The specified parameter "${name}" is not valid: ${why}.`);

export function readAttributeParams(params: Params): AttributeRequest {
  return {
    encrypted: params.boolean("Encrypted", () => invalidParameter("Encrypted")),
    kmsKeyId: params.optional("KMSKeyId"),
    provisionedIops: params.integer("ProvisionedIops", () => invalidParameter("ProvisionedIops")),
    burstingEnabled: params.boolean("BurstingEnabled", () => invalidParameter("BurstingEnabled")),
    multiAttach: params.optional("MultiAttach"),
    resourceGroupId: params.optional("ResourceGroupId"),
  };
}

/**
 * The attributes a new disk of `category` and `sizeGiB` gets. A disk made from an encrypted
 * snapshot is encrypted whatever Encrypted says, with the snapshot's key unless another is named.
 * A KMSKeyId for a disk that ends up unencrypted is ignored.
 */
export function resolveAttributes(request: AttributeRequest, category: string, sizeGiB: number, snapshot?: SnapshotRecord): ResolvedAttributes {
  const encrypted = request.encrypted === true || snapshot?.encrypted === true;
  const snapshotKey = snapshot?.encrypted === true ? snapshot.kmsKeyId : undefined;
  const kmsKeyId = encrypted ? (request.kmsKeyId ?? snapshotKey ?? SERVICE_KEY_ID) : "";
  return {
    encrypted,
    kmsKeyId,
    ...autoPl(request, category, sizeGiB),
    multiAttach: multiAttachOf(request.multiAttach, category),
    resourceGroupId: request.resourceGroupId ?? "",
  };
}

function autoPl(request: AttributeRequest, category: string, sizeGiB: number): { provisionedIops: number; burstingEnabled: boolean } {
  if (category !== AUTO_PL_CATEGORY) {
    if (request.provisionedIops !== undefined) throw refused("ProvisionedIops", `only ${AUTO_PL_CATEGORY} disks provision IOPS, not ${category}`);
    if (request.burstingEnabled === true) throw refused("BurstingEnabled", `only ${AUTO_PL_CATEGORY} disks burst, not ${category}`);
    return { provisionedIops: 0, burstingEnabled: false };
  }
  const provisionedIops = request.provisionedIops ?? 0;
  const max = provisionedIopsMax(sizeGiB);
  if (provisionedIops < 0 || provisionedIops > max) throw refused("ProvisionedIops", `a ${sizeGiB} GiB ${category} disk provisions 0 to ${max} IOPS, not ${provisionedIops}`);
  return { provisionedIops, burstingEnabled: request.burstingEnabled ?? false };
}

function multiAttachOf(value: string | undefined, category: string): "Enabled" | "Disabled" {
  if (value === undefined || value === "Disabled") return "Disabled";
  if (value !== "Enabled") throw refused("MultiAttach", 'it is "Enabled" or "Disabled"');
  if (!takesMultiAttach(category)) throw refused("MultiAttach", `${category} disks cannot be multi-attach`);
  return "Enabled";
}
