/** A seal for the journals tests make, with a key of their own (the runner's comes from RUNNER_JOURNAL_KEY_FILE). */
import { randomBytes } from "node:crypto";
import { JournalSeal } from "../../runner/journal/seal.ts";

export const TEST_SEAL = new JournalSeal(randomBytes(32));
