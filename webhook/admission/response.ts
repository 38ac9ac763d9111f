/**
 * The small vocabulary handlers answer with. Patches are never written by hand: `patched` diffs
 * the original object against a mutated clone with fast-json-patch.
 */
import fastJsonPatch from "fast-json-patch";
import { ADMISSION_API_VERSION, type AdmissionResponse, type AdmissionReview, type KubeObject } from "./review.ts";

/** A response before the transport pairs it with the request's uid. */
export type Verdict = Omit<AdmissionResponse, "uid">;

export function allowed(warnings: readonly string[] = []): Verdict {
  return warnings.length > 0 ? { allowed: true, warnings } : { allowed: true };
}

/** 403, as the API server reports a policy denial. */
export function denied(message: string, warnings: readonly string[] = []): Verdict {
  const verdict: Verdict = { allowed: false, status: { code: 403, reason: "Forbidden", message } };
  return warnings.length > 0 ? { ...verdict, warnings } : verdict;
}

/** A request the webhook could not judge: bad input (400, 413) or its own fault (500). */
export function errored(code: number, message: string): Verdict {
  return { allowed: false, status: { code, message } };
}

/** Allows with the JSON patch that turns `original` into `mutated`, or no patch when equal. */
export function patched(original: KubeObject, mutated: KubeObject, warnings: readonly string[] = []): Verdict {
  const operations = fastJsonPatch.compare(original, mutated);
  if (operations.length === 0) return allowed(warnings);
  return {
    ...allowed(warnings),
    patchType: "JSONPatch",
    patch: Buffer.from(JSON.stringify(operations)).toString("base64"),
  };
}

export function review(uid: string, verdict: Verdict): AdmissionReview {
  return { apiVersion: ADMISSION_API_VERSION, kind: "AdmissionReview", response: { uid, ...verdict } };
}
