/**
 * The mutating handler. On a StatefulSet held by a migration it holds the fields the runner set
 * (replicas, whenScaled) at their live values, with a warning, so that the rest of a GitOps sync
 * applies (webhook/handlers/guard.ts). On a new request it stamps `zoneferry.io/migration-id` and
 * `zoneferry.io/status: Pending` and clears the step and message of the previous migration; a
 * restore, at creation, also has spec.replicas held at 0 (the replicas asked for are stamped in
 * `zoneferry.io/restore-replicas`), so no pod starts before its claims are restored. The
 * same request always yields the same patch, so server-side diffs (Argo CD, Flux) see no drift
 * made by the patch itself.
 */
import { OWNED_ANNOTATIONS } from "../../core/annotations.ts";
import type { KubeObject } from "../admission/review.ts";
import { allowed, patched } from "../admission/response.ts";
import { holdFields, holdOn } from "./guard.ts";
import { objectName, readIntent } from "./intent.ts";
import { endedZoneMigration } from "../../core/zone-migration.ts";
import type { AdmissionHandler } from "./types.ts";

export const mutate: AdmissionHandler = (admission, context) => {
  // A scale is an explicit act (kubectl scale, an autoscaler): refused, never silently held.
  if (admission.subResource === "scale" || admission.object === null) return Promise.resolve({ verdict: allowed() });
  const hold = holdOn(admission, context);
  if (hold !== undefined) {
    // Held: nothing is stamped (a new request is refused by the guard); a change of the template
    // or the request is left in, for the validating handler to refuse with the guard's message.
    const { object, warning } = holdFields(admission, hold);
    return Promise.resolve({ verdict: patched(admission.object, object, warning === undefined ? [] : [warning]) });
  }
  const intent = readIntent(admission);
  if (intent.kind !== "new") return Promise.resolve({ verdict: allowed() });
  // A restore that ran already is not run again (the validating handler says so): no hold, no stamp.
  if (intent.request.operation?.kind === "restore" && endedZoneMigration(context.view.listZoneMigrations(admission.namespace), objectName(admission), intent.migrationId) !== undefined) {
    return Promise.resolve({ verdict: allowed() });
  }
  const stamped: KubeObject = structuredClone(admission.object);
  const stale = new Set<string>([OWNED_ANNOTATIONS.step, OWNED_ANNOTATIONS.message]);
  const kept = Object.entries(stamped.metadata?.annotations ?? {}).filter(([key]) => !stale.has(key));
  stamped.metadata = {
    ...stamped.metadata,
    annotations: {
      ...Object.fromEntries(kept),
      [OWNED_ANNOTATIONS.migrationId]: intent.migrationId,
      [OWNED_ANNOTATIONS.status]: "Pending",
      ...(intent.request.operation?.kind === "restore" ? { [OWNED_ANNOTATIONS.restoreReplicas]: String(replicasAsked(admission.object)) } : {}),
    },
  };
  if (intent.request.operation?.kind === "restore") stamped.spec = { ...stamped.spec, replicas: 0 };
  return Promise.resolve({ verdict: patched(admission.object, stamped) });
};

/** The replicas the object asks for (the API server's default is 1). */
function replicasAsked(object: KubeObject): number {
  const replicas = object.spec?.["replicas"];
  return typeof replicas === "number" ? replicas : 1;
}
