/**
 * Durations as users write them in annotations and configuration: a plain number means minutes
 * ("1", "0.5", as ACK's `checkWaitingMinutes` did), otherwise a Go-style duration string
 * ("30s", "2m", "1h30m", "1.5h", "500ms").
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const PLAIN_MINUTES = /^\d+(\.\d+)?$/;
const DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** Parses a duration into milliseconds, or returns undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const value = text.trim();
  if (PLAIN_MINUTES.test(value)) {
    return Math.round(Number(value) * UNIT_MS.m!);
  }
  if (!DURATION.test(value)) {
    return undefined;
  }
  let total = 0;
  for (const [, amount, unit] of value.matchAll(DURATION_PART)) {
    total += Number(amount) * UNIT_MS[unit!]!;
  }
  return Math.round(total);
}

/** Formats milliseconds the way users write them back ("1h30m", "45s", "0s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  const parts: string[] = [];
  let rest = ms;
  for (const unit of ["h", "m", "s", "ms"] as const) {
    const size = UNIT_MS[unit]!;
    const count = Math.floor(rest / size);
    if (count > 0) {
      parts.push(`${count}${unit}`);
      rest -= count * size;
    }
  }
  return parts.join("");
}
