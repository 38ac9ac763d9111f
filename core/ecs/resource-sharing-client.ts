/**
 * SnapshotSharing (core/snapshot-sharing.ts) over Resource Sharing 2020-01-10. There is no
 * generated SDK for it on npm, so the calls go through @alicloud/openapi-core's generic RPC call,
 * signed and sent as the ECS SDK's are (same credentials, same timeouts, no SDK retries). Errors
 * are classified as ECS's are (core/ecs/classify-ecs-error.ts).
 */
import * as openApiModule from "@alicloud/openapi-core";
import { $OpenApiUtil } from "@alicloud/openapi-core";
import * as $dara from "@darabonba/typescript";
import { PermanentCloudError } from "../cloud-errors.ts";
import type { ResourceShare, ShareInput, SharedSnapshot, ShareInvitation, SnapshotSharing } from "../snapshot-sharing.ts";
import { classifyEcsError } from "./classify-ecs-error.ts";
import { commonJsDefault, openApiConfig, type EcsClientOptions } from "./ecs-sdk.ts";

export const RESOURCE_SHARING_VERSION = "2020-01-10";
/** At most this many resources, and this many targets, per CreateResourceShare or AssociateResourceShare. */
const PER_CALL = 5;
/** The largest page the list calls take. */
const PAGE = 100;
const SNAPSHOT = "Snapshot";

interface OpenApiClient {
  callApi(params: $OpenApiUtil.Params, request: $OpenApiUtil.OpenApiRequest, runtime: $dara.RuntimeOptions): Promise<{ body?: unknown }>;
}

const OpenApiClientClass = commonJsDefault(openApiModule as unknown as { default: new (config: $OpenApiUtil.Config) => OpenApiClient });

type Query = Record<string, string>;

/** `endpoint`: Resource Sharing's own (resourcesharing.<region>.aliyuncs.com), or the emulator's. */
export class ResourceSharingClient implements SnapshotSharing {
  readonly #client: OpenApiClient;

  constructor(options: EcsClientOptions) {
    this.#client = new OpenApiClientClass(openApiConfig(options));
  }

  async ensureShare(input: ShareInput): Promise<ResourceShare> {
    const existing = await this.#ownShare(input.name);
    if (existing === undefined) {
      const first = { snapshots: input.snapshotIds.slice(0, PER_CALL), targets: input.targetAccounts.slice(0, PER_CALL) };
      const created = await this.#call("CreateResourceShare", { ResourceShareName: input.name, AllowExternalTargets: "true", ...resources(first.snapshots), ...targets(first.targets) });
      const share = shareOf(record(created)["ResourceShare"]);
      await this.#associate(share.shareId, input.snapshotIds.slice(PER_CALL), input.targetAccounts.slice(PER_CALL));
      return share.ownerAccountId === "" ? await this.#withOwner(share) : share;
    }
    const held = await this.#associations(existing.shareId);
    await this.#associate(existing.shareId, input.snapshotIds.filter((id) => !held.resources.has(id)), input.targetAccounts.filter((id) => !held.targets.has(id)));
    return existing;
  }

  async receivedInvitations(): Promise<readonly ShareInvitation[]> {
    return (await this.#all("ListResourceShareInvitations", {}, "ResourceShareInvitations")).map((item) => ({
      invitationId: text(item, "ResourceShareInvitationId"),
      shareId: text(item, "ResourceShareId"),
      shareName: text(item, "ResourceShareName"),
      senderAccountId: text(item, "SenderAccountId"),
      status: text(item, "Status"),
    }));
  }

  async acceptInvitation(invitationId: string): Promise<void> {
    await this.#call("AcceptResourceShareInvitation", { ResourceShareInvitationId: invitationId });
  }

  async sharedWithMe(): Promise<readonly SharedSnapshot[]> {
    const items = await this.#all("ListSharedResources", { ResourceOwner: "OtherAccounts", ResourceType: SNAPSHOT }, "SharedResources");
    return items.map((item) => ({ ownerSnapshotId: text(item, "ResourceId"), shareId: text(item, "ResourceShareId") }));
  }

  async deleteShare(shareId: string): Promise<void> {
    try {
      await this.#call("DeleteResourceShare", { ResourceShareId: shareId });
    } catch (error) {
      if (error instanceof PermanentCloudError && /NotExist|NotFound/.test(error.code)) return;
      throw error;
    }
  }

  async #ownShare(name: string): Promise<ResourceShare | undefined> {
    const shares = await this.#all("ListResourceShares", { ResourceOwner: "Self", ResourceShareName: name }, "ResourceShares");
    // A deleted share keeps its name for a while: only a live one is ours to add to.
    return shares.map(shareOf).find((share) => share.name === name && share.status !== "Deleted" && share.status !== "Deleting");
  }

  /**
   * The share with its owner read back from the list, for a CreateResourceShare answer without
   * ResourceShareOwner: ListResourceShares is where the owner is known to be (the emulator's create
   * answer carries it; the cloud's is not relied on to).
   */
  async #withOwner(share: ResourceShare): Promise<ResourceShare> {
    const listed = await this.#all("ListResourceShares", { ResourceOwner: "Self", ResourceShareIds: share.shareId }, "ResourceShares");
    const owner = listed.map(shareOf).find((found) => found.shareId === share.shareId)?.ownerAccountId ?? "";
    return { ...share, ownerAccountId: owner };
  }

  async #associations(shareId: string): Promise<{ resources: Set<string>; targets: Set<string> }> {
    const [shared, invited] = await Promise.all([
      this.#all("ListSharedResources", { ResourceOwner: "Self", ResourceType: SNAPSHOT, ResourceShareIds: shareId }, "SharedResources"),
      this.#all("ListSharedTargets", { ResourceOwner: "Self", ResourceShareIds: shareId }, "SharedTargets"),
    ]);
    return { resources: new Set(shared.map((item) => text(item, "ResourceId"))), targets: new Set(invited.map((item) => text(item, "TargetId"))) };
  }

  async #associate(shareId: string, snapshotIds: readonly string[], accounts: readonly string[]): Promise<void> {
    for (let start = 0; start < Math.max(snapshotIds.length, accounts.length); start += PER_CALL) {
      await this.#call("AssociateResourceShare", { ResourceShareId: shareId, ...resources(snapshotIds.slice(start, start + PER_CALL)), ...targets(accounts.slice(start, start + PER_CALL)) });
    }
  }

  /** Every page of a list call: its items under `key`. */
  async #all(action: string, query: Query, key: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let token: string | undefined;
    do {
      const body = record(await this.#call(action, { ...query, MaxResults: String(PAGE), ...(token === undefined ? {} : { NextToken: token }) }));
      const page = body[key];
      if (Array.isArray(page)) items.push(...page.map(record));
      token = typeof body["NextToken"] === "string" && body["NextToken"] !== "" ? body["NextToken"] : undefined;
    } while (token !== undefined);
    return items;
  }

  async #call(action: string, query: Query): Promise<unknown> {
    const params = new $OpenApiUtil.Params({ action, version: RESOURCE_SHARING_VERSION, protocol: "HTTPS", pathname: "/", method: "POST", authType: "AK", style: "RPC", reqBodyType: "formData", bodyType: "json" });
    try {
      const answer = await this.#client.callApi(params, new $OpenApiUtil.OpenApiRequest({ query }), new $dara.RuntimeOptions({ autoretry: false, maxAttempts: 0 }));
      return answer.body;
    } catch (error) {
      throw classifyEcsError(`ResourceSharing.${action}`, error);
    }
  }
}

function resources(snapshotIds: readonly string[]): Query {
  return Object.fromEntries(snapshotIds.flatMap((id, index) => [[`Resources.${index + 1}.ResourceId`, id], [`Resources.${index + 1}.ResourceType`, SNAPSHOT]]));
}

function targets(accounts: readonly string[]): Query {
  return Object.fromEntries(accounts.map((account, index) => [`Targets.${index + 1}`, account]));
}

function shareOf(value: unknown): ResourceShare {
  const item = record(value);
  return { shareId: text(item, "ResourceShareId"), name: text(item, "ResourceShareName"), status: text(item, "ResourceShareStatus"), ownerAccountId: text(item, "ResourceShareOwner") };
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

function text(item: Record<string, unknown>, key: string): string {
  const value = item[key];
  return typeof value === "string" ? value : "";
}
