/**
 * The mutating handler: on a new request it stamps `zoneferry.io/migration-id` and
 * `zoneferry.io/status: Pending` and clears the step and message of the previous migration. Only
 * zoneferry-owned annotations change, and the same request always yields the same patch, so
 * server-side diffs (Argo CD, Flux) never see drift from it.
 */
import { OWNED_ANNOTATIONS } from "../../core/annotations.ts";
import type { KubeObject } from "../admission/review.ts";
import { allowed, patched } from "../admission/response.ts";
import { guardViolation } from "./guard.ts";
import { readIntent } from "./intent.ts";
import type { AdmissionHandler } from "./types.ts";

export const mutate: AdmissionHandler = (admission, context) => {
  // A held StatefulSet is left as it is: the validating handler denies the write anyway.
  if (admission.subResource === "scale" || guardViolation(admission, context) !== undefined) {
    return Promise.resolve({ verdict: allowed() });
  }
  const intent = readIntent(admission);
  if (intent.kind !== "new" || admission.object === null) return Promise.resolve({ verdict: allowed() });
  const stamped: KubeObject = structuredClone(admission.object);
  const stale = new Set<string>([OWNED_ANNOTATIONS.step, OWNED_ANNOTATIONS.message]);
  const kept = Object.entries(stamped.metadata?.annotations ?? {}).filter(([key]) => !stale.has(key));
  stamped.metadata = {
    ...stamped.metadata,
    annotations: {
      ...Object.fromEntries(kept),
      [OWNED_ANNOTATIONS.migrationId]: intent.migrationId,
      [OWNED_ANNOTATIONS.status]: "Pending",
    },
  };
  return Promise.resolve({ verdict: patched(admission.object, stamped) });
};
