/**
 * Resource Sharing (API version 2020-01-10) for ECS snapshots, served by the emulator's front end:
 * the same path, authentication, signature checks, faults and request log as ECS, told apart by
 * the version. Its product endpoint on the cloud is resourcesharing.<region>.aliyuncs.com.
 */
import type { ActionResult } from "../actions/context.ts";
import type { Params } from "../params.ts";
import type { EmulatorRuntime } from "../runtime.ts";
import type { SharingActionSpec } from "./context.ts";
import { SHARE_READS } from "./share-reads.ts";
import { SHARE_WRITES } from "./share-writes.ts";

export const RESOURCE_SHARING_VERSION = "2020-01-10";

export const SHARING_ACTIONS: ReadonlyMap<string, SharingActionSpec> = new Map([...SHARE_WRITES, ...SHARE_READS].map((spec) => [spec.name, spec]));

export function executeSharing(runtime: EmulatorRuntime, spec: SharingActionSpec, params: Params, accountId: string): ActionResult {
  return spec.handle({ runtime, params, now: runtime.clock.now(), accountId });
}

export type { SharingActionSpec } from "./context.ts";
