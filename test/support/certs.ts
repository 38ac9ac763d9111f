/**
 * Certificates made by the project's own certs/make-certs.sh, and client certificates by the
 * sandbox's PKI, in temporary folders.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClientCa, type ClientCa } from "../../sandbox/pki.ts";

const SCRIPT = join(import.meta.dirname, "../../certs/make-certs.sh");

export interface CertFiles {
  readonly dir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** A folder for test keys, removed when the test process ends: no private key outlives its test. */
function temporaryDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "zf-certs-"));
  process.once("exit", () => { rmSync(dir, { recursive: true, force: true }); });
  return dir;
}

export function makeCerts(options: { dir?: string; reuseCa?: boolean } = {}): CertFiles {
  const dir = options.dir ?? temporaryDir();
  const args = ["--out", dir, "--ip", "127.0.0.1", "--dns", "localhost", "--days", "2"];
  execFileSync("bash", [SCRIPT, ...args, ...(options.reuseCa === true ? ["--reuse-ca"] : [])], { stdio: "ignore" });
  return { dir, caFile: join(dir, "ca.crt"), certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key") };
}

/** A CA of client certificates (as the API server's for webhooks), in a temporary folder. */
export function makeClientCa(name = "zoneferry-test-client-ca"): ClientCa {
  return createClientCa(temporaryDir(), name);
}
