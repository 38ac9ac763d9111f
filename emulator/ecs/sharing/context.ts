/** What a Resource Sharing action gets: the whole runtime (a share spans accounts) and the caller's account. */
import type { ActionResult } from "../actions/context.ts";
import type { Params } from "../params.ts";
import type { EmulatorRuntime } from "../runtime.ts";

export interface SharingContext {
  readonly runtime: EmulatorRuntime;
  readonly params: Params;
  readonly now: number;
  /** The caller's account (accounts.ts). */
  readonly accountId: string;
}

export interface SharingActionSpec {
  readonly name: string;
  readonly handle: (context: SharingContext) => ActionResult;
}
