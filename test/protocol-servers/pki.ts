import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A throw-away PKI for TLS tests, made with the openssl CLI: a test CA, a server certificate for localhost /
 * 127.0.0.1 / ::1, a client certificate for mutual TLS, and a second, unrelated CA with its own server
 * certificate for "unknown CA" cases. Files on disk too, because rsyslog reads paths.
 */
export interface PemFile {
  pem: Buffer;
  path: string;
}

export interface KeyPair {
  cert: PemFile;
  key: PemFile;
}

export interface TestPki {
  dir: string;
  ca: KeyPair;
  server: KeyPair;
  client: KeyPair;
  /** A CA that signed nothing the servers present. */
  otherCa: KeyPair;
  /** A server certificate from otherCa, for "server presents a certificate we do not trust". */
  otherServer: KeyPair;
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function pem(dir: string, name: string): PemFile {
  const path = join(dir, name);
  return { pem: readFileSync(path), path };
}

function makeCa(dir: string, name: string, subject: string): KeyPair {
  openssl(dir, [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "3", "-subj", subject,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  return { cert: pem(dir, `${name}.crt`), key: pem(dir, `${name}.key`) };
}

function makeLeaf(dir: string, name: string, ca: string, subject: string, extensions: string): KeyPair {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject]);
  openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${name}.crt`, "-days", "3", "-extfile", `${name}.ext`]);
  return { cert: pem(dir, `${name}.crt`), key: pem(dir, `${name}.key`) };
}

const serverExtensions = "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n";
const clientExtensions = "subjectAltName=DNS:trailkeeper-operator\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n";

let cached: TestPki | undefined;

/** One PKI per test process; generating EC keys takes a few tens of milliseconds. */
export function testPki(): TestPki {
  if (cached !== undefined) return cached;
  const dir = mkdtempSync(join(tmpdir(), "trailkeeper-pki-"));
  const ca = makeCa(dir, "ca", "/CN=Trailkeeper Test CA");
  const otherCa = makeCa(dir, "other-ca", "/CN=Unrelated Test CA");
  cached = {
    dir,
    ca,
    otherCa,
    server: makeLeaf(dir, "server", "ca", "/CN=localhost", serverExtensions),
    client: makeLeaf(dir, "client", "ca", "/CN=trailkeeper-operator", clientExtensions),
    otherServer: makeLeaf(dir, "other-server", "other-ca", "/CN=localhost", serverExtensions),
  };
  return cached;
}
