/**
 * The emulator as a process: `node emulator/ecs/main.ts --port 8080 --config emulator.json`.
 * The config file holds an EmulatorConfig; fields it leaves out take their defaults. Prints one
 * line, the base URL, once listening; SIGTERM or SIGINT close it and exit 0.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { defaultEmulatorConfig, type EmulatorConfigOverrides } from "./config.ts";
import { EmulatorConfigError } from "./config-validation.ts";
import { startEcsEmulator } from "./server.ts";

const USAGE = "usage: node emulator/ecs/main.ts [--port 8080] [--host 127.0.0.1] [--config emulator.json]";

function readConfig(file: string | undefined): EmulatorConfigOverrides {
  if (file === undefined) return {};
  const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new EmulatorConfigError([`${file} must hold a JSON object`]);
  return parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: "string" }, host: { type: "string" }, config: { type: "string" }, help: { type: "boolean" } } });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port must be 0..65535\n${USAGE}`);
  const emulator = await startEcsEmulator({ port, ...(values.host === undefined ? {} : { host: values.host }), config: defaultEmulatorConfig(readConfig(values.config)) });
  process.stdout.write(`${emulator.url}\n`);
  const stop = (): void => {
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`ecs-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
