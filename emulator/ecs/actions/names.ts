/**
 * ECS's rules for names and descriptions: a name is 2..128 characters, starts with a letter (any
 * script) and holds letters, ASCII digits and : _ . -; neither may start with http:// or https://.
 */
import { ecsError, type EcsError } from "../errors.ts";
import type { Params } from "../params.ts";

const NAME = /^\p{L}[\p{L}0-9:_.-]{1,127}$/u;
const URL_START = /^https?:\/\//i;

/** The name parameter `field`, "" when absent; `malformed` when ECS would refuse it. */
export function readName(params: Params, field: string, malformed: () => EcsError, extraRule: (name: string) => boolean = () => true): string {
  const name = params.optional(field);
  if (name === undefined) return "";
  if (!NAME.test(name) || URL_START.test(name) || !extraRule(name)) throw malformed();
  return name;
}

/** Description: 2..256 characters, not a URL; ECS's status for a bad one differs per action. */
export function readDescription(params: Params, httpStatus = 400): string {
  const description = params.optional("Description");
  if (description === undefined) return "";
  if (description.length < 2 || description.length > 256 || URL_START.test(description)) {
    throw ecsError("InvalidDescription.Malformed", undefined, httpStatus);
  }
  return description;
}
