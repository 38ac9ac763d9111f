/**
 * Certificates that rotate without an outage (issue 14, item 5). cert-manager mode: the chart's
 * chain selfSigned Issuer → CA Certificate → CA Issuer → serving Certificate, rendered by the real
 * helm and followed link by link, with the webhook configurations trusting the CA (stable across
 * renewals of the serving certificate). Secret mode: certs/make-certs.sh makes a CA that outlives
 * its serving certificates, a rotation keeps it, and openssl verifies the chain before and after.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { KubernetesObject, V1MutatingWebhookConfiguration, V1ValidatingWebhookConfiguration } from "@kubernetes/client-node";
import { parseDuration } from "../../core/duration.ts";
import { installValues, render, renderError, REPO } from "../support/helm.ts";

interface IssuerRef { name: string; kind: string; group: string }
interface Certificate extends KubernetesObject {
  spec: { secretName: string; isCA?: boolean; commonName?: string; duration: string; renewBefore: string; dnsNames?: string[]; usages?: string[]; privateKey: { algorithm: string; rotationPolicy: string }; issuerRef: IssuerRef };
}
interface Issuer extends KubernetesObject { spec: { selfSigned?: object; ca?: { secretName: string } } }

const BASE = installValues({ certs: "certManager", redis: "external", credentials: "rrsa" });
const hours = (duration: string): number => parseDuration(duration)! / 3_600_000;

describe("the webhook's certificates", () => {
  describe("cert-manager mode, the chart's own CA", () => {
    const objects = render(BASE);
    const certificates = objects.filter((object): object is Certificate => object.kind === "Certificate");
    const issuers = objects.filter((object): object is Issuer => object.kind === "Issuer");
    const issuer = (ref: IssuerRef): Issuer => {
      assert.equal(ref.kind, "Issuer");
      assert.equal(ref.group, "cert-manager.io");
      const found = issuers.find((candidate) => candidate.metadata?.name === ref.name);
      assert.ok(found, `no Issuer ${ref.name}`);
      return found;
    };

    it("chains selfSigned Issuer → CA Certificate → CA Issuer → serving Certificate, and nothing else", () => {
      assert.equal(certificates.length, 2);
      assert.equal(issuers.length, 2);
      const serving = certificates.find((certificate) => certificate.metadata?.name === "zf-zoneferry-webhook")!;
      const caIssuer = issuer(serving.spec.issuerRef);
      assert.ok(caIssuer.spec.ca, "the serving certificate is signed by a CA Issuer");
      const ca = certificates.find((certificate) => certificate.spec.secretName === caIssuer.spec.ca!.secretName);
      assert.ok(ca, "the CA Issuer signs with the CA Certificate's Secret");
      assert.equal(ca.spec.isCA, true);
      assert.equal(serving.spec.isCA, undefined);
      assert.deepEqual(issuer(ca.spec.issuerRef).spec, { selfSigned: {} }, "the CA alone is self-signed");
      assert.notEqual(ca.spec.secretName, serving.spec.secretName);
      assert.equal(serving.spec.secretName, "zf-zoneferry-webhook-tls", "the Secret the webhook mounts");
      assert.deepEqual(serving.spec.dnsNames, ["zf-zoneferry-webhook", "zf-zoneferry-webhook.zoneferry", "zf-zoneferry-webhook.zoneferry.svc"]);
      assert.deepEqual(serving.spec.usages, ["server auth", "digital signature"]);
    });

    it("has the webhook configurations trust the CA, injected from the CA Certificate, so a renewed serving certificate leaves their caBundle as it was", () => {
      for (const kind of ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"]) {
        const configuration = objects.find((object) => object.kind === kind) as V1ValidatingWebhookConfiguration | V1MutatingWebhookConfiguration;
        assert.equal(configuration.metadata?.annotations?.["cert-manager.io/inject-ca-from"], "zoneferry/zf-zoneferry-webhook-ca", kind);
        assert.equal(configuration.webhooks![0]!.clientConfig.caBundle, undefined);
      }
    });

    it("lets the CA outlive many serving certificates: renewed a year early, keeping its key, while the leaf renews every 75 days with a new one", () => {
      const ca = certificates.find((certificate) => certificate.spec.isCA === true)!;
      const serving = certificates.find((certificate) => certificate.spec.isCA !== true)!;
      assert.deepEqual([hours(ca.spec.duration), hours(ca.spec.renewBefore)], [43_800, 8_760]);
      assert.deepEqual([hours(serving.spec.duration), hours(serving.spec.renewBefore)], [2_160, 360]);
      assert.ok(hours(ca.spec.duration) - hours(ca.spec.renewBefore) > hours(serving.spec.duration), "a serving certificate never outlives the CA that signed it");
      assert.equal(ca.spec.privateKey.rotationPolicy, "Never", "a renewed CA still verifies the serving certificates signed before it");
      assert.equal(serving.spec.privateKey.rotationPolicy, "Always");
    });

    it("takes the CA's and the leaf's durations from values, and refuses one that is not a duration", () => {
      const set = render({ ...BASE, "webhook.certificates.certManager.ca.duration": "87600h", "webhook.certificates.certManager.duration": "720h", "webhook.certificates.certManager.renewBefore": "240h" })
        .filter((object): object is Certificate => object.kind === "Certificate");
      assert.deepEqual(set.map((certificate) => [certificate.spec.isCA === true, certificate.spec.duration]).sort(), [[false, "720h"], [true, "87600h"]]);
      assert.match(renderError({ ...BASE, "webhook.certificates.certManager.ca.duration": "10 years" }), /\/webhook\/certificates\/certManager\/ca\/duration/);
      assert.match(renderError({ ...BASE, "webhook.certificates.certManager.ca.lifetime": "1h" }), /additional properties 'lifetime' not allowed/);
    });
  });

  it("with the user's issuer, makes no CA and has cert-manager inject the serving certificate's CA", () => {
    const objects = render({ ...BASE, "webhook.certificates.certManager.issuerRef.name": "corp-ca", "webhook.certificates.certManager.issuerRef.kind": "ClusterIssuer" });
    assert.equal(objects.some((object) => object.kind === "Issuer"), false);
    const certificates = objects.filter((object): object is Certificate => object.kind === "Certificate");
    assert.deepEqual(certificates.map((certificate) => certificate.spec.issuerRef), [{ name: "corp-ca", kind: "ClusterIssuer", group: "cert-manager.io" }]);
    const validating = objects.find((object) => object.kind === "ValidatingWebhookConfiguration")!;
    assert.equal(validating.metadata?.annotations?.["cert-manager.io/inject-ca-from"], "zoneferry/zf-zoneferry-webhook");
  });

  describe("secret mode: certs/make-certs.sh", () => {
    const script = join(REPO, "certs/make-certs.sh");
    const dir = mkdtempSync(join(tmpdir(), "zf-rotation-"));
    after(() => { rmSync(dir, { recursive: true, force: true }); });
    const make = (...args: string[]): string => execFileSync("bash", [script, "--out", dir, "--dns", "zf-zoneferry-webhook.zoneferry.svc", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const openssl = (...args: string[]): string => execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const notAfter = (file: string): number => Date.parse(openssl("x509", "-enddate", "-noout", "-in", join(dir, file)).trim().replace("notAfter=", ""));
    const failure = (...args: string[]): string => {
      try {
        make(...args);
      } catch (error) {
        return (error as { stderr: string }).stderr;
      }
      throw new Error("make-certs.sh accepted what it should refuse");
    };

    it("makes a CA of ten years by default and a serving certificate of one, which the CA verifies", () => {
      make();
      const day = 86_400_000;
      assert.ok(Math.abs(notAfter("ca.crt") - Date.now() - 3650 * day) < 2 * day);
      assert.ok(Math.abs(notAfter("tls.crt") - Date.now() - 365 * day) < 2 * day);
      assert.match(openssl("x509", "-noout", "-text", "-in", join(dir, "ca.crt")), /CA:TRUE/);
      assert.match(openssl("verify", "-CAfile", join(dir, "ca.crt"), join(dir, "tls.crt")), /OK/);
    });

    it("rotates the serving certificate under the same CA: the caBundle stays, the new certificate verifies, the key is new", () => {
      const ca = readFileSync(join(dir, "ca.crt"), "utf8");
      const key = readFileSync(join(dir, "tls.key"), "utf8");
      make("--reuse-ca", "--days", "90");
      assert.equal(readFileSync(join(dir, "ca.crt"), "utf8"), ca);
      assert.notEqual(readFileSync(join(dir, "tls.key"), "utf8"), key);
      assert.match(openssl("verify", "-CAfile", join(dir, "ca.crt"), join(dir, "tls.crt")), /OK/);
    });

    it("refuses a serving certificate that would outlive its CA, new or reused, saying what to do", () => {
      assert.match(failure("--reuse-ca", "--days", "4000"), /expires .* before a 4000-day certificate would: rotate the CA first \(certs\/README\.md\)/);
      assert.match(failure("--days", "30", "--ca-days", "10"), /the CA must outlive the certificates it signs/);
    });
  });
});
