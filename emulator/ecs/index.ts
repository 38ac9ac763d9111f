/**
 * The ECS emulator: an HTTP server that answers as Alibaba Cloud ECS does for zoneferry's disk and
 * snapshot calls, so the real @alicloud/ecs20140526 SDK talks to it unchanged, plus a control API
 * (/_emulator/) for faults, seeding and inspection. See README.md in this folder.
 */
export { startEcsEmulator, type EcsEmulator, type EcsEmulatorOptions } from "./server.ts";
export {
  defaultEmulatorConfig,
  type AccountConfig,
  type DurationModel,
  type EmulatorConfig,
  type EmulatorConfigOverrides,
  type SmallerThanSnapshot,
  type TransitionsConfig,
  type ZoneConfig,
} from "./config.ts";
export { EmulatorConfigError, validateConfig } from "./config-validation.ts";
export { ECS_ACTIONS, type EcsAction } from "./action-names.ts";
export { knownErrorCodes } from "./errors.ts";
export type { FaultSpec } from "./faults.ts";
export type { LoggedRequest } from "./request-log.ts";
