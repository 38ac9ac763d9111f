/**
 * Checks an EmulatorConfig before the emulator starts, so a typo in a JSON config file stops the
 * start with a message naming the field, instead of an emulator that quietly behaves otherwise.
 */
import { ACCOUNT_ID } from "./accounts.ts";
import { isEcsAction } from "./action-names.ts";
import { DISK_CATEGORIES, isKnownCategory } from "./categories.ts";
import type { EmulatorConfig } from "./config.ts";

/** Thrown with every problem found, one per line. */
export class EmulatorConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid ECS emulator configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "EmulatorConfigError";
    this.problems = problems;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

const TOP_LEVEL = new Set([
  "regionId",
  "accounts",
  "zones",
  "timeScale",
  "latency",
  "transitions",
  "quotas",
  "throttle",
  "persistFile",
  "clockSkewSeconds",
  "smallerThanSnapshot",
]);

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === "string" && value.trim() !== "";
const isNonNegative = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value) && value >= 0;
const isPositiveInteger = (value: unknown): value is number => typeof value === "number" && Number.isInteger(value) && value > 0;

/** Returns `value` as an EmulatorConfig, or throws EmulatorConfigError listing what is wrong. */
export function validateConfig(value: unknown): EmulatorConfig {
  if (!isObject(value)) throw new EmulatorConfigError(["the configuration must be a JSON object"]);
  const problems: string[] = [];
  for (const key of Object.keys(value)) if (!TOP_LEVEL.has(key)) problems.push(`unknown field "${key}"`);
  if (!isText(value.regionId)) problems.push("regionId must be a region id such as cn-shanghai");
  problems.push(...accountProblems(value.accounts), ...zoneProblems(value.zones), ...timeProblems(value));
  if (!isObject(value.quotas) || !isPositiveInteger(value.quotas.disks) || !isPositiveInteger(value.quotas.snapshots)) {
    problems.push("quotas must be { disks, snapshots }, positive integers");
  }
  if (value.throttle !== undefined && !(isObject(value.throttle) && typeof value.throttle.requestsPerSecond === "number" && value.throttle.requestsPerSecond > 0)) {
    problems.push("throttle must be { requestsPerSecond } with a number above 0");
  }
  if (value.persistFile !== undefined && !isText(value.persistFile)) problems.push("persistFile must be a file path");
  if (!(typeof value.clockSkewSeconds === "number" && value.clockSkewSeconds > 0)) problems.push("clockSkewSeconds must be a number of seconds above 0");
  if (value.smallerThanSnapshot !== "useSnapshotSize" && value.smallerThanSnapshot !== "reject") {
    problems.push('smallerThanSnapshot must be "useSnapshotSize" or "reject"');
  }
  if (problems.length > 0) throw new EmulatorConfigError(problems);
  return value as unknown as EmulatorConfig;
}

function accountProblems(accounts: unknown): string[] {
  if (!Array.isArray(accounts) || accounts.length === 0) return ["accounts must list at least one { accessKeyId, accessKeySecret }"];
  const problems: string[] = [];
  const seen = new Set<string>();
  accounts.forEach((account: unknown, index) => {
    if (!isObject(account) || !isText(account.accessKeyId) || !isText(account.accessKeySecret)) {
      problems.push(`accounts[${index}] must have a non-empty accessKeyId and accessKeySecret`);
      return;
    }
    if (account.securityToken !== undefined && !isText(account.securityToken)) problems.push(`accounts[${index}].securityToken must be a non-empty string`);
    if (account.accountId !== undefined && !(typeof account.accountId === "string" && ACCOUNT_ID.test(account.accountId))) problems.push(`accounts[${index}].accountId must be an account id of digits`);
    if (seen.has(account.accessKeyId)) problems.push(`accounts[${index}] repeats accessKeyId ${account.accessKeyId}`);
    seen.add(account.accessKeyId);
  });
  return problems;
}

function zoneProblems(zones: unknown): string[] {
  if (!Array.isArray(zones) || zones.length === 0) return ["zones must list at least one { zoneId, categories }"];
  const problems: string[] = [];
  const seen = new Set<string>();
  zones.forEach((zone: unknown, index) => {
    if (!isObject(zone) || !isText(zone.zoneId)) {
      problems.push(`zones[${index}] must have a zoneId`);
      return;
    }
    const where = `zone ${zone.zoneId}`;
    if (seen.has(zone.zoneId)) problems.push(`${where} is listed twice`);
    seen.add(zone.zoneId);
    problems.push(...categoryListProblems(zone.categories, `${where} categories`));
    if (zone.soldOut !== undefined) {
      problems.push(...categoryListProblems(zone.soldOut, `${where} soldOut`));
      const onSale = Array.isArray(zone.categories) ? zone.categories : [];
      const strays = Array.isArray(zone.soldOut) ? zone.soldOut.filter((category) => !onSale.includes(category)) : [];
      if (strays.length > 0) problems.push(`${where} soldOut lists ${strays.join(", ")}, which it does not sell (add them to categories)`);
    }
    const delay = zone.diskCreateDelayMs;
    if (delay !== undefined && (typeof delay !== "number" || !Number.isFinite(delay) || delay < 0)) problems.push(`${where} diskCreateDelayMs must be milliseconds ≥ 0`);
  });
  return problems;
}

function categoryListProblems(list: unknown, where: string): string[] {
  if (!Array.isArray(list) || !list.every((category) => typeof category === "string")) return [`${where} must be an array of category names`];
  const unknown = list.filter((category) => !isKnownCategory(category));
  return unknown.length === 0 ? [] : [`${where} has unknown categories ${unknown.join(", ")}; known: ${DISK_CATEGORIES.join(", ")}`];
}

function timeProblems(value: Json): string[] {
  const problems: string[] = [];
  if (!isNonNegative(value.timeScale)) problems.push("timeScale must be a number ≥ 0 (1 = real cloud pace, 0.001 = a thousand times faster)");
  if (!isObject(value.latency)) {
    problems.push('latency must be an object of milliseconds per action, e.g. { "default": 0, "CreateDisk": 50 }');
  } else {
    for (const [action, ms] of Object.entries(value.latency)) {
      if (action !== "default" && !isEcsAction(action)) problems.push(`latency names unknown action "${action}"`);
      if (!isNonNegative(ms)) problems.push(`latency.${action} must be milliseconds ≥ 0`);
    }
  }
  const transitions = isObject(value.transitions) ? value.transitions : {};
  for (const name of ["snapshot", "instantAccess", "diskCreate"]) {
    const model = transitions[name];
    if (!isObject(model) || !isNonNegative(model.baseMs) || !isNonNegative(model.perGiBMs)) problems.push(`transitions.${name} must be { baseMs, perGiBMs }, milliseconds ≥ 0`);
  }
  for (const name of ["diskInitializing", "attach", "detach"]) {
    const model = transitions[name];
    if (!isObject(model) || !isNonNegative(model.baseMs)) problems.push(`transitions.${name} must be { baseMs }, milliseconds ≥ 0`);
  }
  return problems;
}
