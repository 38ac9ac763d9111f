/**
 * The provisioner process's configuration: the runner's view of contract §7 (it needs
 * ECS_REGION_ID and reaches ECS as the runner does) plus ECS_EMULATOR_URL, where it attaches and
 * detaches, and ECS_ACCOUNT_ID, the account of its key when the emulator serves several (a second
 * sandbox on the first one's emulator). Parsed once, in main; every problem is reported at once.
 */
import { ConfigError, loadConfig, type Config } from "../../core/config.ts";

/** The provisioner process's settings, frozen. */
export interface ProvisionerConfig {
  readonly base: Config;
  /** Base URL of the ECS emulator, e.g. http://127.0.0.1:9100. */
  readonly emulatorUrl: string;
  /** The account whose world it attaches disks in; undefined: the emulator's default account. */
  readonly emulatorAccountId: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Throws ConfigError naming every bad or missing variable. */
export function loadProvisionerConfig(env: Env): ProvisionerConfig {
  const problems: string[] = [];
  let base: Config | undefined;
  try {
    base = loadConfig(env, "runner");
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  const emulatorUrl = env["ECS_EMULATOR_URL"]?.trim() ?? "";
  const scheme = URL.canParse(emulatorUrl) ? new URL(emulatorUrl).protocol : "";
  if (scheme !== "http:" && scheme !== "https:") {
    problems.push(`ECS_EMULATOR_URL=${JSON.stringify(emulatorUrl)} is not an http(s) URL; set it to the ECS emulator's base URL, e.g. http://127.0.0.1:9100`);
  }
  const accountId = env["ECS_ACCOUNT_ID"]?.trim() ?? "";
  if (accountId !== "" && !/^\d{1,32}$/.test(accountId)) problems.push(`ECS_ACCOUNT_ID=${JSON.stringify(accountId)} is not an account id; set it to the digits of the account the access key belongs to, e.g. 1000000000000002`);
  if (base === undefined || problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ base, emulatorUrl, emulatorAccountId: accountId === "" ? undefined : accountId });
}
