/** Identifiers shaped like ECS's: "d-uf6ijdcp3aeoi82w1234", "s-…", and upper-case UUID request ids. */
import { randomInt, randomUUID } from "node:crypto";

/** The first characters ECS puts after "d-"/"s-" in a few regions; other regions get random ones. */
const REGION_PREFIX: Readonly<Record<string, string>> = {
  "cn-hangzhou": "bp",
  "cn-shanghai": "uf",
  "cn-beijing": "2ze",
  "cn-shenzhen": "wz",
  "cn-qingdao": "m5",
  "cn-zhangjiakou": "8vb",
  "cn-hongkong": "j6",
  "ap-southeast-1": "t4n",
};

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

function randomChars(count: number): string {
  let text = "";
  for (let index = 0; index < count; index++) text += ALPHABET.charAt(randomInt(ALPHABET.length));
  return text;
}

/** A new resource id: the kind, a dash and 20 characters, as ECS's are. */
export function resourceId(kind: "d" | "s" | "i", regionId: string): string {
  const prefix = REGION_PREFIX[regionId] ?? "";
  return `${kind}-${prefix}${randomChars(20 - prefix.length)}`;
}

/** ECS request ids are upper-case UUIDs. */
export function requestId(): string {
  return randomUUID().toUpperCase();
}
