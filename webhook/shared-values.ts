/**
 * One copy of the values tens of thousands of cached objects carry alike: a zone's node affinity,
 * a disk's category label, the CSI driver's name, a namespace. Parsed JSON gives every object its
 * own copy of each; held once, 50,000 disk PVs keep a third of the memory
 * (docs/benchmarks.md, "The webhook's memory at cluster scale").
 *
 * Only for values of few distinct instances, and at most `LIMIT` of them, so a value that is
 * unique per object (a name, a hostname) is never asked here and the pool cannot grow without
 * bound. A shared object is a frozen copy: the view's readers only read, and a write would throw
 * instead of changing every object that holds it.
 */

/** Distinct values held; past it, a new value is returned as given (still correct, just not shared). */
const LIMIT = 4_096;

const strings = new Map<string, string>();
const subtrees = new Map<string, unknown>();

/** The one copy of `value`. */
export function sharedString<T extends string | undefined>(value: T): T {
  if (value === undefined) return value;
  const known = strings.get(value);
  if (known !== undefined) return known as T;
  if (strings.size < LIMIT) strings.set(value, value);
  return value;
}

/** The one copy of a JSON subtree equal to `value` (same keys in the same order, same values). */
export function sharedSubtree<T extends object | undefined>(value: T): T {
  if (value === undefined) return value;
  const key = JSON.stringify(value);
  const known = subtrees.get(key);
  if (known !== undefined) return known as T;
  if (subtrees.size >= LIMIT) return value;
  const copy = deepFreeze(structuredClone(value));
  subtrees.set(key, copy);
  return copy;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
