/**
 * The webhook's TLS offers only AEAD cipher suites (and TLS 1.2 at least): a real handshake with a
 * client that offers only CBC suites fails, while the same client is served by a server with Node's
 * default list, so the refusal is the webhook's choice and not the client's inability.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { connect, createServer, type ConnectionOptions, type Server } from "node:tls";
import { SnapshotClusterView } from "../../core/cluster-view.ts";
import { startTlsServer, type TlsServer } from "../../webhook/tls-server.ts";
import { makeCerts, type CertFiles } from "../support/certs.ts";
import { testApp } from "../support/webhook-app.ts";

/** CBC suites with ECDHE, for either key type (the test certificates are ECDSA P-256). */
const CBC_ONLY = "ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384";

interface Negotiated {
  readonly protocol: string | null;
  readonly cipher: string;
}

function handshake(port: number, caFile: string, options: ConnectionOptions): Promise<Negotiated> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, ca: readFileSync(caFile), servername: "localhost", ...options }, () => {
      const result = { protocol: socket.getProtocol(), cipher: socket.getCipher().name };
      socket.end();
      resolve(result);
    });
    socket.once("error", reject);
  });
}

describe("the webhook's TLS cipher suites", () => {
  let certs: CertFiles;
  let server: TlsServer;
  let nodeDefaults: Server;
  const { app, logger } = testApp({ view: new SnapshotClusterView({}) });

  before(async () => {
    certs = makeCerts();
    server = await startTlsServer(app, { port: 0, host: "127.0.0.1", certFile: certs.certFile, keyFile: certs.keyFile, logger });
    nodeDefaults = createServer({ cert: readFileSync(certs.certFile), key: readFileSync(certs.keyFile) }, (socket) => { socket.end(); });
    await new Promise<void>((resolve) => { nodeDefaults.listen(0, "127.0.0.1", resolve); });
  });
  after(async () => {
    await server.close();
    await new Promise((resolve) => { nodeDefaults.close(resolve); });
  });

  it("refuses a TLS 1.2 client that offers only CBC suites, which Node's default list would serve", async () => {
    const served = await handshake((nodeDefaults.address() as AddressInfo).port, certs.caFile, { ciphers: CBC_ONLY, maxVersion: "TLSv1.2" });
    assert.match(served.cipher, /-SHA(384)?$/, "Node's default list serves a CBC suite");
    await assert.rejects(handshake(server.port, certs.caFile, { ciphers: CBC_ONLY, maxVersion: "TLSv1.2" }), (error: Error & { code?: string }) => {
      assert.match(`${error.code ?? ""} ${error.message}`, /HANDSHAKE_FAILURE|no shared cipher|alert/i);
      return true;
    });
  });

  it("negotiates an AEAD suite with ECDHE in TLS 1.2, and TLS 1.3 when the client has it", async () => {
    const legacy = await handshake(server.port, certs.caFile, { maxVersion: "TLSv1.2" });
    assert.equal(legacy.protocol, "TLSv1.2");
    assert.match(legacy.cipher, /^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    const current = await handshake(server.port, certs.caFile, {});
    assert.equal(current.protocol, "TLSv1.3");
    assert.match(current.cipher, /^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/);
  });

  it("refuses a client that offers only TLS 1.1", async () => {
    await assert.rejects(handshake(server.port, certs.caFile, { maxVersion: "TLSv1.1", minVersion: "TLSv1" }));
  });
});
