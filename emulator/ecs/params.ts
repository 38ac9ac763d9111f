/**
 * Typed reads of an RPC call's flat parameters ("Size=40", "Tag.1.Key=…", "DiskIds=[…]"). An empty
 * value counts as absent, as it does for ECS. Each read takes the error the action answers when
 * the value is unusable, since ECS's codes for that differ from action to action.
 */
import { missingParameter, type EcsError } from "./errors.ts";
import type { Tag } from "./world.ts";

export class Params {
  readonly #values: Readonly<Record<string, string>>;

  constructor(values: Readonly<Record<string, string>>) {
    this.#values = values;
  }

  get all(): Readonly<Record<string, string>> {
    return this.#values;
  }

  optional(name: string): string | undefined {
    const value = this.#values[name];
    return value === undefined || value === "" ? undefined : value;
  }

  required(name: string, missing: EcsError = missingParameter(name)): string {
    const value = this.optional(name);
    if (value === undefined) throw missing;
    return value;
  }

  /** An integer, or undefined when absent; `invalid` when it is not an integer. */
  integer(name: string, invalid: () => EcsError): number | undefined {
    const value = this.optional(name);
    if (value === undefined) return undefined;
    if (!/^-?\d+$/.test(value)) throw invalid();
    return Number(value);
  }

  /** true/false (case-insensitive), or undefined when absent. */
  boolean(name: string, invalid: () => EcsError): boolean | undefined {
    const value = this.optional(name)?.toLowerCase();
    if (value === undefined) return undefined;
    if (value !== "true" && value !== "false") throw invalid();
    return value === "true";
  }

  /** A JSON array of strings (DiskIds, SnapshotIds); `malformed` when it is not one, `tooMany` beyond `limit`. */
  idList(name: string, limit: number, errors: { readonly malformed: () => EcsError; readonly tooMany: () => EcsError }): string[] | undefined {
    const value = this.optional(name);
    if (value === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw errors.malformed();
    }
    if (!Array.isArray(parsed) || !parsed.every((id) => typeof id === "string")) throw errors.malformed();
    if (parsed.length > limit) throw errors.tooMany();
    return parsed;
  }

  /** The values of a repeat list: Name.1, Name.2, … in order of N. */
  list(name: string): string[] {
    return this.indexes(name).flatMap((index) => {
      const value = this.optional(`${name}.${index}`);
      return value === undefined ? [] : [value];
    });
  }

  /**
   * Tag.N.Key / Tag.N.Value pairs in order of N, with ECS's lower-case spelling (Tag.N.key)
   * accepted too. A value without a key comes back with key "" for the action to refuse.
   */
  tags(prefix = "Tag"): Array<Tag & { readonly index: number; readonly hasValue: boolean }> {
    return this.indexes(prefix).map((index) => {
      const key = this.#values[`${prefix}.${index}.Key`] ?? this.#values[`${prefix}.${index}.key`] ?? "";
      const value = this.#values[`${prefix}.${index}.Value`] ?? this.#values[`${prefix}.${index}.value`];
      return { index, key, value: value ?? "", hasValue: value !== undefined };
    });
  }

  /** The N of every Name.N or Name.N.* parameter, ascending. */
  indexes(name: string): number[] {
    const pattern = new RegExp(`^${name.replace(/\./g, "\\.")}\\.(\\d+)(\\.|$)`);
    const indexes = new Set<number>();
    for (const key of Object.keys(this.#values)) {
      const match = pattern.exec(key);
      if (match !== null) indexes.add(Number(match[1]));
    }
    return [...indexes].sort((left, right) => left - right);
  }
}
