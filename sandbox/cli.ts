/**
 * `npm run sandbox -- up [--zones a,b,c] [--nodes-per-zone N] [--snapshots] [--dir D]`, `down [--dir D]`,
 * `status [--dir D]`: the local sandbox, started in the background.
 */
import { parseArgs } from "node:util";
import { DEFAULT_SANDBOX_DIR, down, status, up } from "./sandbox.ts";

const USAGE = "usage: npm run sandbox -- up [--zones cn-shanghai-b,cn-shanghai-g,cn-shanghai-m] [--nodes-per-zone 1] [--snapshots] [--dir .sandbox] | down | status";

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { zones: { type: "string" }, "nodes-per-zone": { type: "string" }, snapshots: { type: "boolean" }, dir: { type: "string" } },
  });
  const dir = values.dir ?? DEFAULT_SANDBOX_DIR;
  const say = (line: string): void => { process.stdout.write(`[sandbox] ${line}\n`); };
  switch (positionals[0]) {
    case "up": {
      const perZone = values["nodes-per-zone"] === undefined ? 1 : Number(values["nodes-per-zone"]);
      if (!Number.isInteger(perZone) || perZone < 1 || perZone > 50) throw new Error(`--nodes-per-zone must be a whole number from 1 to 50\n${USAGE}`);
      const zones = values.zones?.split(",").map((zone) => zone.trim()).filter((zone) => zone !== "");
      const started = Date.now();
      await up({ dir, nodesPerZone: perZone, log: say, snapshots: values.snapshots === true, ...(zones === undefined ? {} : { zones }) });
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

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`sandbox: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
