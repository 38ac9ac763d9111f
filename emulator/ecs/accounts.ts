/**
 * Alibaba Cloud accounts: each access key belongs to one, and each account has a world of its own
 * (disks, snapshots, contents), as two accounts on the real cloud see nothing of each other. Keys
 * that name no account belong to the default one, so a configuration written before accounts
 * existed behaves as it did: every key sees one world, as RAM users of one account.
 */
import type { EmulatorConfig } from "./config.ts";

export const DEFAULT_ACCOUNT_ID = "1000000000000001";

/** An account id as the cloud writes them: digits only. */
export const ACCOUNT_ID = /^\d{1,32}$/;

/** The account of an access key (the default one for a key that names none). */
export function accountIdOf(config: EmulatorConfig, accessKeyId: string): string {
  return config.accounts.find((account) => account.accessKeyId === accessKeyId)?.accountId ?? DEFAULT_ACCOUNT_ID;
}

/** Every account the configuration knows, the default one first. */
export function accountIds(config: EmulatorConfig): string[] {
  return [...new Set([DEFAULT_ACCOUNT_ID, ...config.accounts.flatMap((account) => account.accountId ?? [])])];
}
