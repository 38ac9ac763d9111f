/** JSON-lines logging (pino), one logger per process, its level from the configuration. */
import { pino, type DestinationStream, type Logger } from "pino";
import type { LogLevel } from "../core/config.ts";

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = { name: "zoneferry-webhook", level, base: { component: "webhook" } };
  return destination === undefined ? pino(options) : pino(options, destination);
}
