/**
 * Puts a fence in front of every write of a client: methods whose name says they change
 * something (create, delete, patch, replace, update, ensure, remove, accept, and the cloud's writes) check
 * the fence first. One seam for all of them, so no step can forget it (runner/fence.ts).
 */
import type { Fence } from "./fence.ts";

const WRITES = /^(create|delete|patch|replace|update|ensure|remove|accept)/;

/**
 * `before`, when given, is awaited before each write and before the fence is checked: whatever it
 * does (a test's failpoint pausing this process) the fence still decides whether the write goes.
 */
export function fenced<T extends object>(target: T, fence: Fence, before?: (call: string) => Promise<void>): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== "function") return value;
      // Called on the object itself, never the proxy: a class's private fields reject any other receiver.
      const method = value as (...parameters: unknown[]) => unknown;
      if (typeof property !== "string" || !WRITES.test(property)) return method.bind(object);
      const write = (args: unknown[]): unknown => {
        try {
          fence.check();
        } catch (error) {
          // Every write is async: a closed fence answers as a rejected promise, as the write would.
          return Promise.reject(error instanceof Error ? error : new Error(String(error)));
        }
        return method.apply(object, args);
      };
      if (before === undefined) return (...args: unknown[]): unknown => write(args);
      return async (...args: unknown[]): Promise<unknown> => {
        await before(property);
        return write(args);
      };
    },
  });
}
