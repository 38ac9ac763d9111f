/** A workload with the apiVersion and kind of its API: a list's items carry neither on the wire. */
import type { Workload, WorkloadKind } from "../../core/workload/kinds.ts";

export function stamped(kind: WorkloadKind, object: Workload): Workload {
  return { ...object, apiVersion: kind.apiVersion, kind: kind.kind };
}
