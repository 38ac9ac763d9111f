/** Entry point of the runner: configuration once, the runner's parts, a clean stop on SIGTERM/SIGINT. */
import { ConfigError } from "../core/config.ts";
import { startRunner } from "./start-runner.ts";

try {
  const runner = startRunner(process.env);
  const shutdown = (): void => { void runner.stop().then(() => process.exit(0)); };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String((error as Error).stack ?? error)}\n`);
  process.exit(1);
}
