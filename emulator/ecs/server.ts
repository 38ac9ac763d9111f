/**
 * The emulator's HTTP server: ECS calls at "/" (what the SDK sends), the control API under
 * /_emulator/. Plain HTTP on loopback by default; the SDK reaches it with protocol "http" and
 * endpoint "127.0.0.1:<port>".
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { validateConfig } from "./config-validation.ts";
import type { EmulatorConfig } from "./config.ts";
import { serveControl } from "./control-api.ts";
import { serveEcsCall } from "./ecs-api.ts";
import { sendJson } from "./http-io.ts";
import { EmulatorRuntime } from "./runtime.ts";

export interface EcsEmulatorOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** @defaultValue "127.0.0.1" */
  readonly host?: string;
  readonly config: EmulatorConfig;
}

export interface EcsEmulator {
  /** Base URL, e.g. http://127.0.0.1:8080; the control API is at `${url}/_emulator/`. */
  readonly url: string;
  /** host:port, what the SDK's Config.endpoint takes. */
  readonly endpoint: string;
  readonly port: number;
  /** Stops listening and drops every connection, hanging ones included. */
  close(): Promise<void>;
}

const CONTROL_PREFIX = "/_emulator";

async function route(runtime: EmulatorRuntime, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? "/", "http://emulator");
  if (url.pathname === CONTROL_PREFIX || url.pathname.startsWith(`${CONTROL_PREFIX}/`)) {
    await serveControl(runtime, request, response, url.pathname.slice(CONTROL_PREFIX.length));
    return;
  }
  await serveEcsCall(runtime, request, response, url);
}

/** Starts an emulator; the configuration is checked first (EmulatorConfigError lists what is wrong). */
export async function startEcsEmulator(options: EcsEmulatorOptions): Promise<EcsEmulator> {
  const runtime = new EmulatorRuntime(validateConfig(options.config));
  const server = createServer((request, response) => {
    route(runtime, request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: error instanceof Error ? error.message : String(error) });
      else response.destroy();
    });
  });
  // ECS's endpoints keep idle connections far longer than Node's 5 s default; so does the
  // emulator, or a client paused a few seconds would meet resets no real cloud would send.
  server.keepAliveTimeout = 65_000;
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    url: `http://${endpoint}`,
    endpoint,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error === undefined) resolve();
          else reject(error);
        });
        server.closeAllConnections();
      }),
  };
}
