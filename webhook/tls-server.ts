/**
 * Serves the app over HTTPS (TLS 1.2 at least) with the certificate and key read from files and
 * reloaded when they change, without a restart: cert-manager and Secret rotation replace the
 * files (through a symlink swap), and `setSecureContext` applies the new pair to new connections
 * while open ones finish undisturbed.
 */
import { readFileSync, unwatchFile, watchFile, type StatWatcher } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { createSecureContext, type SecureContextOptions } from "node:tls";
import type { RequestListener } from "node:http";
import type { Logger } from "pino";

export interface TlsServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly logger: Logger;
  /** How often the files are checked for changes. */
  readonly pollIntervalMs?: number;
}

export interface TlsServer {
  readonly server: Server;
  readonly port: number;
  /** Reads the files again now; false (and the old pair kept) when they are not a valid pair. */
  reload(): boolean;
  close(): Promise<void>;
}

const TLS_MIN_VERSION = "TLSv1.2";

function readPair(certFile: string, keyFile: string): SecureContextOptions {
  const pair = { cert: readFileSync(certFile), key: readFileSync(keyFile), minVersion: TLS_MIN_VERSION } as const;
  // Throws on a mismatched or malformed pair, before the server would use it.
  createSecureContext(pair);
  return pair;
}

export async function startTlsServer(app: RequestListener, options: TlsServerOptions): Promise<TlsServer> {
  const { certFile, keyFile, logger } = options;
  const server = createServer(readPair(certFile, keyFile), app);
  // The API server keeps connections open between calls; Node's 5 s default would cut them and
  // cost a TLS handshake per admission (the values controller-runtime's webhook server uses).
  server.keepAliveTimeout = 90_000;
  server.headersTimeout = 32_000;

  const reload = (): boolean => {
    try {
      server.setSecureContext(readPair(certFile, keyFile));
      logger.info({ certFile, keyFile }, "serving certificate reloaded");
      return true;
    } catch (error) {
      // Mid-rotation the key may not match the new certificate yet; the next change retries.
      logger.warn({ certFile, keyFile, err: error }, "serving certificate not reloaded: files are not a valid pair yet");
      return false;
    }
  };
  const onChange = (current: { mtimeMs: number }, previous: { mtimeMs: number }): void => {
    if (current.mtimeMs !== previous.mtimeMs) reload();
  };
  const interval = options.pollIntervalMs ?? 2_000;
  const watchers: StatWatcher[] = [certFile, keyFile].map((file) => watchFile(file, { interval, persistent: false }, onChange));

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    reload,
    close: async () => {
      for (const file of [certFile, keyFile]) unwatchFile(file, onChange);
      watchers.length = 0;
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}
