/** What an action handler gets, and the shape of one. */
import type { EcsAction } from "../action-names.ts";
import type { Clock } from "../clock.ts";
import type { EmulatorConfig } from "../config.ts";
import { ecsError, invalidParameter } from "../errors.ts";
import type { Params } from "../params.ts";
import type { World } from "../world.ts";

export interface ActionContext {
  readonly world: World;
  readonly params: Params;
  readonly clock: Clock;
  readonly config: EmulatorConfig;
  /** The cloud's time for this call: every state the answer shows is read at this moment. */
  readonly now: number;
  readonly accessKeyId: string;
  /** Whether the caller's snapshot is in one of its active resource shares (it cannot be deleted then). */
  readonly isShared?: (snapshotId: string) => boolean;
  /** Set by a firing `failSnapshotAfterMs` fault: the snapshot this call makes fails that long (cloud ms) after it is usable. */
  readonly snapshotFailsAfterMs?: number;
}

/** An answer body without its RequestId, PascalCase as ECS writes it. */
export type ActionResult = Record<string, unknown>;

export interface ActionSpec {
  readonly name: EcsAction;
  /** Takes a ClientToken: a retry with the same token gets the first answer again. */
  readonly idempotent: boolean;
  /** Answers the call, or throws the EcsError ECS would answer. */
  readonly handle: (context: ActionContext) => ActionResult;
}

/**
 * With DryRun=true ECS checks the request and answers DryRunOperation (400) instead of acting;
 * call this after the checks.
 */
export function stopIfDryRun(context: ActionContext): void {
  if (context.params.boolean("DryRun", () => invalidParameter("DryRun")) === true) throw ecsError("DryRunOperation");
}
