/**
 * The local control plane's certificates, made with openssl: a CA, the API server's serving
 * certificate, client certificates (a user is its CN, its groups the O fields), the service
 * account signing key, and a CA of its own for the client certificate the API server presents to
 * webhooks. Everything lives in a temporary folder; nothing here is ever committed.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface ClientCert {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface Pki {
  readonly dir: string;
  readonly caFile: string;
  readonly apiServer: ClientCert;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
  /** Issues a client certificate for a user with the given groups. */
  client(user: string, groups?: readonly string[]): ClientCert;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

function sign(dir: string, name: string, subject: string, extensions: string): ClientCert {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, extensions);
  openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyFile, "-out", `${name}.csr`, "-subj", subject], dir);
  openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "7", "-sha256", "-out", certFile, "-extfile", extFile], dir);
  return { certFile, keyFile };
}

/** A self-signed CA in `dir` (ca.crt, ca.key), the signer `sign` uses there. */
function makeCa(dir: string, name: string): string {
  openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "7", "-subj", `/CN=${name}`], dir);
  return join(dir, "ca.crt");
}

const CLIENT_EXTENSIONS = "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n";

export interface ClientCa {
  readonly caFile: string;
  /** Issues a client certificate with the given subject CN. */
  client(name: string): ClientCert;
}

/**
 * A CA that signs client certificates only, apart from the cluster's: a webhook that trusts it
 * (WEBHOOK_CLIENT_CA_FILE) trusts the callers given its certificates, not every user of the cluster.
 */
export function createClientCa(dir: string, name: string): ClientCa {
  mkdirSync(dir, { recursive: true });
  const caFile = makeCa(dir, name);
  let serial = 0;
  return { caFile, client: (cn) => sign(dir, `client-${serial++}`, `/CN=${cn}`, CLIENT_EXTENSIONS) };
}

export function createPki(dir: string): Pki {
  makeCa(dir, "zoneferry-sandbox-ca");
  const apiServer = sign(
    dir,
    "apiserver",
    "/CN=kube-apiserver",
    "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n",
  );
  // RSA: the API server's service account token signer wants an RSA (or ECDSA P-256 PKCS#1) key.
  openssl(["genrsa", "-out", "sa.key", "2048"], dir);
  openssl(["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
  let serial = 0;
  return {
    dir,
    caFile: join(dir, "ca.crt"),
    apiServer,
    serviceAccountKey: join(dir, "sa.key"),
    serviceAccountPub: join(dir, "sa.pub"),
    client(user, groups = []) {
      const subject = `/CN=${user}${groups.map((group) => `/O=${group}`).join("")}`;
      return sign(dir, `client-${serial++}`, subject, CLIENT_EXTENSIONS);
    },
  };
}

export interface KubeconfigOptions {
  readonly server: string;
  readonly caFile: string;
  readonly client: ClientCert;
  readonly user: string;
}

/** A kubeconfig file for one user, with everything embedded. */
export function writeKubeconfig(file: string, { server, caFile, client, user }: KubeconfigOptions): void {
  const b64 = (path: string): string => readFileSync(path).toString("base64");
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "zoneferry-sandbox", cluster: { server, "certificate-authority-data": b64(caFile) } }],
    users: [{ name: user, user: { "client-certificate-data": b64(client.certFile), "client-key-data": b64(client.keyFile) } }],
    contexts: [{ name: "zoneferry-sandbox", context: { cluster: "zoneferry-sandbox", user } }],
    "current-context": "zoneferry-sandbox",
  };
  writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
}
