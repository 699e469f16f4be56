import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface KeyPair {
  cert: string;
  key: string;
}

/** Paths of a throwaway CA and the certificates it signed, all PEM files in one tmp dir. */
export interface TestCertificates {
  dir: string;
  ca: string;
  /** For 127.0.0.1 and localhost. */
  server: KeyPair;
  /** A client certificate with no SAN: it proves nothing about an agent's hostname. */
  client: KeyPair;
  /** An agent's client certificate: DNS SAN `cert-agent`, URI SAN urn:meshexec:label:role=cert. */
  agent: KeyPair;
  /** Issues another agent certificate now (its notBefore is this second), for this DNS SAN and these labels. */
  issueAgent(hostname: string, labels?: Record<string, string>): KeyPair;
}

/** Makes a CA, a server certificate (SAN IP:127.0.0.1, DNS:localhost) and client certificates with openssl. */
export function createTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "meshexec-tls-"));
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

  openssl(
    "req",
    "-x509",
    ...newKey,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=meshexec test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
  );
  const issue = (name: string, extensions: string): KeyPair => {
    writeFileSync(path(`${name}.ext`), extensions);
    openssl("req", ...newKey, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=meshexec test ${name}`);
    openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "1",
      "-out",
      `${name}.pem`,
      "-extfile",
      `${name}.ext`,
    );
    return { cert: path(`${name}.pem`), key: path(`${name}.key`) };
  };
  let agents = 0;
  const issueAgent = (hostname: string, labels: Record<string, string> = {}): KeyPair => {
    const sans = [`DNS:${hostname}`, ...Object.entries(labels).map(([key, value]) => `URI:urn:meshexec:label:${key}=${value}`)];
    return issue(`agent-${++agents}`, `subjectAltName=${sans.join(",")}\nextendedKeyUsage=clientAuth\n`);
  };
  return {
    dir,
    ca: path("ca.pem"),
    server: issue("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"),
    client: issue("client", "extendedKeyUsage=clientAuth\n"),
    agent: issueAgent("cert-agent", { role: "cert" }),
    issueAgent,
  };
}
