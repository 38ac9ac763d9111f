/**
 * The journal as one run of a step sees it: read once, then what the run itself wrote. A step,
 * its report and its checkpoint save each used to GET the journal before every read-modify-write;
 * within one run of a step nobody else may write it (the Lease fences every other worker), so the
 * last answer is the truth until this run writes again. A status write starts from that answer's
 * resourceVersion; a conflict (someone wrote after all) reads again, so a stale memo costs a retry,
 * never a lost write. Outside a step (the reconciler, tests of single steps) nothing is memoized.
 */
import { currentStep } from "../saga/step-scope.ts";
import type { MigrationJournal } from "./journal.ts";
import type { ZoneMigrationResource } from "./types.ts";

const key = (namespace: string, name: string): string => `journal:${namespace}/${name}`;

function remembered(namespace: string, name: string): ZoneMigrationResource | undefined {
  return currentStep()?.memo.get(key(namespace, name)) as ZoneMigrationResource | undefined;
}

function remember(journal: ZoneMigrationResource | undefined): ZoneMigrationResource | undefined {
  const { namespace, name } = journal?.metadata ?? {};
  if (journal !== undefined && namespace !== undefined && name !== undefined) currentStep()?.memo.set(key(namespace, name), journal);
  return journal;
}

function forget(namespace: string, name: string): void {
  currentStep()?.memo.delete(key(namespace, name));
}

export function memoized(journal: MigrationJournal): MigrationJournal {
  return new Proxy(journal, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      const method = (value as (...args: unknown[]) => Promise<unknown>).bind(target);
      if (property === "read") {
        return async (namespace: string, name: string) => structuredClone(remembered(namespace, name) ?? remember(await target.read(namespace, name)));
      }
      if (property !== "updateStatus" && property !== "updateSpec" && property !== "ensure" && property !== "remove") return method;
      return async (...args: unknown[]) => {
        const [namespace, name] = args as [string, string];
        // A status write starts from the remembered journal instead of reading it again.
        const call = property === "updateStatus" ? [...args.slice(0, 3), remembered(namespace, name)] : args;
        try {
          const answer = await method(...call);
          if (property === "remove") forget(namespace, name);
          return property === "remove" ? answer : structuredClone(remember(answer as ZoneMigrationResource));
        } catch (error) {
          // The write may have landed or not: read afresh next time.
          if (typeof namespace === "string" && typeof name === "string") forget(namespace, name);
          throw error;
        }
      };
    },
  });
}
