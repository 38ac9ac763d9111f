/**
 * Bounds on the text zoneferry writes into answers and messages. A denial or a warning quotes
 * what the user wrote and lists what is wrong; neither may grow with the input, or one forged
 * request (3,447 unknown annotations, a 2.9 MB value) turns into a megabyte answer, a megabyte
 * log line and a megabyte Event.
 */

/** Longest quotation of a user's value: enough to recognise it, never the whole of a huge one. */
export const MAX_QUOTED_LENGTH = 80;

/** Items a message lists before it counts the rest ("… and 12 more"). */
export const MAX_LISTED_ITEMS = 10;

/** `items` joined, the first `max` of them, then how many more there are. */
export function listWithin(items: readonly string[], max: number = MAX_LISTED_ITEMS, separator = ", "): string {
  if (items.length <= max) return items.join(separator);
  return `${items.slice(0, max).join(separator)} … and ${items.length - max} more`;
}

/** `text` cut to `max` characters, saying how many were left out. */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… and ${text.length - max} more characters`;
}

/** A user's value in quotes, as JSON writes it, cut to MAX_QUOTED_LENGTH characters of the value. */
export function quoted(value: string): string {
  if (value.length <= MAX_QUOTED_LENGTH) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, MAX_QUOTED_LENGTH))}… (${value.length} characters)`;
}
