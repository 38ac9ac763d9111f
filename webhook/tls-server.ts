/**
 * Serves the app over HTTPS (TLS 1.2 at least, AEAD cipher suites only) with the certificate and key read from files and
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
  /**
   * PEM of the CA that signs callers' client certificates (WEBHOOK_CLIENT_CA_FILE): the server
   * then asks every caller for one, and `socket.authorized` says whether the CA signed it. The
   * handshake completes without one, so probes and scrapes still reach /healthz, /readyz and
   * /metrics; the admission routes refuse such callers (webhook/client-auth.ts).
   */
  readonly clientCaFile?: string;
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
/**
 * AEAD suites only: TLS 1.3's three (AEAD by design), and TLS 1.2 with ECDHE (forward secrecy) and
 * AES-GCM or ChaCha20-Poly1305, for ECDSA and RSA keys. Node's default list still offers CBC
 * suites with SHA-1/SHA-256 MACs in TLS 1.2, which padding-oracle attacks (Lucky 13) have targeted.
 * Every Kubernetes API server (Go's crypto/tls) negotiates one of these.
 */
const TLS_CIPHERS = [
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

function readPair(certFile: string, keyFile: string, clientCaFile?: string): SecureContextOptions {
  const pair = { cert: readFileSync(certFile), key: readFileSync(keyFile), minVersion: TLS_MIN_VERSION, ciphers: TLS_CIPHERS, ...(clientCaFile === undefined ? {} : { ca: readFileSync(clientCaFile) }) } as const;
  // Throws on a mismatched or malformed pair, before the server would use it.
  createSecureContext(pair);
  return pair;
}

export async function startTlsServer(app: RequestListener, options: TlsServerOptions): Promise<TlsServer> {
  const { certFile, keyFile, clientCaFile, logger } = options;
  const clientAuth = clientCaFile === undefined ? {} : { requestCert: true, rejectUnauthorized: false };
  const server = createServer({ ...readPair(certFile, keyFile, clientCaFile), ...clientAuth }, app);
  // The API server keeps connections open between calls; Node's 5 s default would cut them and
  // cost a TLS handshake per admission (the values controller-runtime's webhook server uses).
  server.keepAliveTimeout = 90_000;
  server.headersTimeout = 32_000;

  const reload = (): boolean => {
    try {
      server.setSecureContext(readPair(certFile, keyFile, clientCaFile));
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
  const files = clientCaFile === undefined ? [certFile, keyFile] : [certFile, keyFile, clientCaFile];
  const watchers: StatWatcher[] = files.map((file) => watchFile(file, { interval, persistent: false }, onChange));

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
      for (const file of files) unwatchFile(file, onChange);
      watchers.length = 0;
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}
