/**
 * The small vocabulary handlers answer with. Patches are never written by hand: `patched` diffs
 * the original object against a mutated clone with fast-json-patch.
 */
import fastJsonPatch from "fast-json-patch";
import { clipText } from "../../core/bounded-text.ts";
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

/**
 * Bounds of what one answer says. Handlers already list at most a few items of anything; this is
 * the last line, so no input, forged or not, makes an answer (and its log line, and the API
 * server's Event) grow with it. The API server itself keeps 4 KiB of warnings per response.
 */
export const MAX_MESSAGE_LENGTH = 4096;
export const MAX_WARNINGS = 10;
export const MAX_WARNING_LENGTH = 1024;

/** `verdict` with its message and warnings cut to the bounds above, saying what was left out. */
export function withinBounds(verdict: Verdict): Verdict {
  const { status, warnings } = verdict;
  return {
    ...verdict,
    ...(status === undefined ? {} : { status: { ...status, message: clipText(status.message, MAX_MESSAGE_LENGTH) } }),
    ...(warnings === undefined ? {} : { warnings: boundedWarnings(warnings) }),
  };
}

function boundedWarnings(warnings: readonly string[]): string[] {
  const clipped = warnings.map((warning) => clipText(warning, MAX_WARNING_LENGTH));
  if (clipped.length <= MAX_WARNINGS) return clipped;
  return [...clipped.slice(0, MAX_WARNINGS - 1), `… and ${clipped.length - MAX_WARNINGS + 1} more warnings`];
}

export function review(uid: string, verdict: Verdict): AdmissionReview {
  return { apiVersion: ADMISSION_API_VERSION, kind: "AdmissionReview", response: { uid, ...verdict } };
}
