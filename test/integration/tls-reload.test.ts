import assert from "node:assert/strict";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect, type SecureVersion } from "node:tls";
import { SnapshotClusterView } from "../../core/cluster-view.ts";
import { startTlsServer, type TlsServer } from "../../webhook/tls-server.ts";
import { makeCerts, type CertFiles } from "../support/certs.ts";
import { testApp } from "../support/webhook-app.ts";

interface Handshake {
  readonly fingerprint: string;
  readonly protocol: string | null;
}

function handshake(port: number, caFile: string, options: { maxVersion?: SecureVersion } = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, ca: readFileSync(caFile), servername: "localhost", ...options }, () => {
      const result = { fingerprint: socket.getPeerCertificate().fingerprint256, protocol: socket.getProtocol() };
      socket.end();
      resolve(result);
    });
    socket.once("error", reject);
  });
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    // Mid-rotation a handshake may fail verification against the new CA: not yet, try again.
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`timed out waiting until ${what}`);
}

describe("serving HTTPS with certificates from files", () => {
  let certs: CertFiles;
  let server: TlsServer;
  const { app, logger, logs } = testApp({ view: new SnapshotClusterView({}) });

  before(async () => {
    certs = makeCerts();
    server = await startTlsServer(app, { port: 0, host: "127.0.0.1", certFile: certs.certFile, keyFile: certs.keyFile, logger, pollIntervalMs: 100 });
  });
  after(async () => { await server.close(); });

  it("serves the certificate from the files, verified by the CA", async () => {
    const first = await handshake(server.port, certs.caFile);
    assert.match(first.fingerprint, /^[0-9A-F:]+$/);
    assert.ok(first.protocol === "TLSv1.3" || first.protocol === "TLSv1.2");
  });

  it("refuses clients that offer only TLS 1.1", async () => {
    await assert.rejects(handshake(server.port, certs.caFile, { maxVersion: "TLSv1.1" }));
  });

  it("serves a rotated certificate after its files are replaced, without a restart", async () => {
    const before = await handshake(server.port, certs.caFile);
    // The same CA signs the new pair, as a rotation does (make-certs.sh --reuse-ca in place).
    const sameCa = makeCerts({ dir: certs.dir, reuseCa: true });
    await eventually(async () => (await handshake(server.port, sameCa.caFile)).fingerprint !== before.fingerprint, "the new certificate is served");
    assert.ok(logs.some((line) => line["msg"] === "serving certificate reloaded"));
  });

  it("keeps serving the last good certificate when the files are not a valid pair", async () => {
    const good = await handshake(server.port, certs.caFile);
    const other = makeCerts();
    copyFileSync(other.certFile, certs.certFile); // certificate changed, key not: a half-done rotation
    await eventually(() => Promise.resolve(logs.some((line) => line["msg"] === "serving certificate not reloaded: files are not a valid pair yet")), "the bad pair is noticed");
    assert.equal((await handshake(server.port, certs.caFile)).fingerprint, good.fingerprint);
    copyFileSync(join(other.dir, "tls.key"), certs.keyFile); // the rotation completes
    await eventually(async () => (await handshake(server.port, other.caFile)).fingerprint !== good.fingerprint, "the completed pair is served");
  });
});
