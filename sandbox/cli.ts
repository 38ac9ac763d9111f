/**
 * `npm run sandbox -- up [--zones a,b,c] [--nodes-per-zone N] [--snapshots] [--accounts N | --ecs-from D2
 * [--account N]] [--dir D]`, `down [--dir D]`, `status [--dir D]`: the local sandbox, started in the
 * background. `--accounts 2` gives its emulator a second account; `--ecs-from` starts a sandbox on
 * another one's emulator instead, as one of its accounts: two clusters in two accounts of one cloud.
 */
import { parseArgs } from "node:util";
import { DEFAULT_SANDBOX_DIR, down, status, up, type UpOptions } from "./sandbox.ts";

const USAGE = "usage: npm run sandbox -- up [--zones cn-shanghai-b,cn-shanghai-g,cn-shanghai-m] [--nodes-per-zone 1] [--snapshots] [--accounts 1 | --ecs-from DIR [--account 1]] [--dir .sandbox] | down | status";

const OPTIONS = {
  zones: { type: "string" }, "nodes-per-zone": { type: "string" }, snapshots: { type: "boolean" }, dir: { type: "string" },
  accounts: { type: "string" }, "ecs-from": { type: "string" }, account: { type: "string" },
} as const;

type Values = ReturnType<typeof parseArgs<{ allowPositionals: true; options: typeof OPTIONS }>>["values"];

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: OPTIONS });
  const dir = values.dir ?? DEFAULT_SANDBOX_DIR;
  const say = (line: string): void => { process.stdout.write(`[sandbox] ${line}\n`); };
  switch (positionals[0]) {
    case "up": {
      const started = Date.now();
      await up({ ...upOptions(values), dir, log: say });
      say(`up in ${((Date.now() - started) / 1000).toFixed(1)}s; variables in ${dir}/env (source it: . ${dir}/env)`);
      return 0;
    }
    case "down":
      say(`stopped ${await down(dir)} processes`);
      return 0;
    case "status": {
      const processes = status(dir);
      if (processes === undefined) {
        say(`no sandbox in ${dir}`);
        return 1;
      }
      for (const entry of processes) say(`${entry.name.padEnd(24)} pid ${String(entry.pid).padEnd(8)} ${entry.running ? "running" : "NOT RUNNING"}`);
      return processes.every((entry) => entry.running) ? 0 : 1;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

/** `up`'s options from the command line, each checked; a wrong one stops with the usage. */
function upOptions(values: Values): UpOptions {
  const perZone = values["nodes-per-zone"] === undefined ? 1 : Number(values["nodes-per-zone"]);
  if (!Number.isInteger(perZone) || perZone < 1 || perZone > 50) throw new Error(`--nodes-per-zone must be a whole number from 1 to 50\n${USAGE}`);
  const zones = values.zones?.split(",").map((zone) => zone.trim()).filter((zone) => zone !== "");
  const accounts = count(values.accounts, "--accounts");
  const account = count(values.account, "--account");
  const ecsFrom = values["ecs-from"];
  if (accounts !== undefined && ecsFrom !== undefined) throw new Error(`--accounts is the emulator's, and --ecs-from uses another sandbox's: give --accounts to that one\n${USAGE}`);
  if (account !== undefined && ecsFrom === undefined) throw new Error(`--account needs --ecs-from: a sandbox that starts its emulator is its account 1\n${USAGE}`);
  return {
    nodesPerZone: perZone,
    snapshots: values.snapshots === true,
    ...(zones === undefined ? {} : { zones }),
    ...(accounts === undefined ? {} : { accounts }),
    ...(ecsFrom === undefined ? {} : { ecsFrom }),
    ...(account === undefined ? {} : { account }),
  };
}

/** A count option's value: a whole number from 1 to 9, or undefined when not given. */
function count(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (parsed >= 1 && parsed <= 9) return parsed;
  throw new Error(`${option} must be a whole number from 1 to 9\n${USAGE}`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`sandbox: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
