/**
 * Tags as ECS takes them: Tag.N.Key/Value on creation and TagResources (checked, at most 20 per
 * resource, keys unique), and as AND filters on DescribeDisks/DescribeSnapshots (a key alone
 * matches any value).
 */
import { ecsError, type EcsError } from "../errors.ts";
import type { Params } from "../params.ts";
import type { Tag } from "../world.ts";

/** ECS's limit of tags on one resource, and of tags in one request. */
export const MAX_TAGS = 20;

export interface TagFilter {
  readonly key: string;
  readonly value: string | undefined;
}

/** Reserved prefixes and URLs ECS refuses in tag keys. */
function badKey(key: string): boolean {
  return key === "" || key.length > 128 || /^(aliyun|acs:)/i.test(key) || /https?:\/\//i.test(key);
}

function badValue(value: string): boolean {
  return value.length > 128 || /^acs:/i.test(value) || /https?:\/\//i.test(value);
}

/** Tags to set; `tooMany` is the action's error for more than 20. */
export function readTags(params: Params, tooMany: () => EcsError = () => ecsError("InvalidTagCount")): Tag[] {
  const tags = params.tags();
  if (tags.length > MAX_TAGS) throw tooMany();
  const seen = new Set<string>();
  for (const tag of tags) {
    if (badKey(tag.key)) throw ecsError("InvalidTagKey.Malformed", `The specified Tag.${tag.index}.Key is not valid.`);
    if (badValue(tag.value)) throw ecsError("InvalidTagValue.Malformed", `The specified Tag.${tag.index}.Value is not valid.`);
    if (seen.has(tag.key)) throw ecsError("Duplicate.TagKey");
    seen.add(tag.key);
  }
  return tags.map(({ key, value }) => ({ key, value }));
}

/** Tag filters of a Describe call. */
export function readTagFilter(params: Params): TagFilter[] {
  const tags = params.tags();
  if (tags.length > MAX_TAGS) throw ecsError("InvalidTagCount");
  if (tags.some((tag) => tag.key === "")) throw ecsError("InvalidTag.Mismatch");
  return tags.map((tag) => ({ key: tag.key, value: tag.hasValue ? tag.value : undefined }));
}

export function matchesTags(tags: readonly Tag[], filters: readonly TagFilter[]): boolean {
  return filters.every((filter) => tags.some((tag) => tag.key === filter.key && (filter.value === undefined || tag.value === filter.value)));
}

/** `tags` with `added` set on top: same keys take the new value, new keys are appended. */
export function mergeTags(tags: readonly Tag[], added: readonly Tag[]): Tag[] {
  const merged = tags.map((tag) => added.find((update) => update.key === tag.key) ?? tag);
  return [...merged, ...added.filter((update) => !tags.some((tag) => tag.key === update.key))];
}

export function tagsView(tags: readonly Tag[]): { Tag: Array<{ TagKey: string; TagValue: string }> } {
  return { Tag: tags.map((tag) => ({ TagKey: tag.key, TagValue: tag.value })) };
}
