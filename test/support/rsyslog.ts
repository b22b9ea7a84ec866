import { spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { createServer, type AddressInfo } from "node:net";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A real rsyslog receiver for syslog tests, started in the foreground on free loopback ports (imtcp `port="0"`
 * with `listenPortFileName`, so no port races). Inputs: plain TCP, TLS (ossl driver, anonymous clients) and,
 * optionally, mutual TLS (clients must present a certificate from the CA) and UDP (imudp). Everything received goes
 * to messages.log as RFC 5424 (RSYSLOG_SyslogProtocol23Format), to raw.log exactly as sent (`%rawmsg%`), and to
 * parsed.log as one JSON object per message with the properties rsyslog's RFC 5424 parser extracted, including
 * the structured data as mmpstrucdata parsed (and unescaped) it.
 * RELP (imrelp, plain and TLS) is optional too; imrelp has no port file, so its ports are chosen here and awaited
 * in /proc/net/tcp. With RELP the ruleset runs its actions before imrelp answers (a direct queue), so a message
 * acknowledged is a message written: a kill -9 then loses nothing that was acknowledged.
 * Install rsyslog with test/support/install-syslog.sh.
 */
export const rsyslogd = "/usr/sbin/rsyslogd";

export interface RsyslogTls {
  caPath: string;
  certPath: string;
  keyPath: string;
}

/** What rsyslog's parser made of one message (property names as in rsyslog, values as strings). */
export interface ParsedSyslogMessage {
  /** "1" when parsed as RFC 5424; the RFC 3164 fallback parser leaves "0". */
  protocolVersion: string;
  pri: string;
  facility: string;
  severity: string;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  /** STRUCTURED-DATA as received (still escaped). */
  structuredData: string;
  /** STRUCTURED-DATA parsed by mmpstrucdata: SD-ID → PARAM-NAME → unescaped value. */
  sd: Record<string, Record<string, string>>;
  msg: string;
}

export interface RsyslogOptions {
  tls?: RsyslogTls;
  mutualTls?: boolean;
  /** Also listen on a UDP port (imudp). */
  udp?: boolean;
  /** Plain TCP port to listen on, e.g. to restart a receiver on the port a sender knows; default: a free one. */
  tcpPort?: number;
  /** Also listen for RELP (imrelp): `true` for a free port, or the port to take (a restart). */
  relp?: boolean | number;
  /** Also listen for RELP over TLS (needs `tls`): `true` for a free port, or the port to take. */
  relpTls?: boolean | number;
}

export interface RunningRsyslog {
  dir: string;
  tcpPort: number;
  udpPort: number | undefined;
  tlsPort: number | undefined;
  mutualTlsPort: number | undefined;
  relpPort: number | undefined;
  relpTlsPort: number | undefined;
  messagesFile: string;
  rawFile: string;
  /** Lines of messages.log (RFC 5424 as rsyslog parsed and re-rendered them). */
  messages(): string[];
  /** Lines of raw.log (bytes as received, minus framing). */
  rawMessages(): string[];
  /** parsed.log: what rsyslog's RFC 5424 parser and mmpstrucdata extracted from each message. */
  parsedMessages(): ParsedSyslogMessage[];
  /** Waits until at least `count` messages arrived. */
  waitForMessages(count: number, timeoutMs?: number): Promise<string[]>;
  /** What rsyslogd printed (its errors go to stderr under -n). */
  output(): string;
  /** kill -9, as a crash would: no serverclose, no flushing; the files stay readable until stop(). */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

export function rsyslogInstalled(): boolean {
  return existsSync(rsyslogd);
}

function tlsInput(name: string, dir: string, tls: RsyslogTls, authMode: "anon" | "x509/certvalid"): string {
  return `input(type="imtcp" port="0" address="127.0.0.1" listenPortFileName="${join(dir, `${name}.port`)}" ruleset="audit"
      streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="${authMode}"
      streamDriver.CAFile="${tls.caPath}" streamDriver.CertFile="${tls.certPath}" streamDriver.KeyFile="${tls.keyPath}")`;
}

const parsedProperties: [string, string][] = [
  ["protocolVersion", "protocol-version"], ["pri", "pri"], ["facility", "syslogfacility"], ["severity", "syslogseverity"],
  ["timestamp", "timereported"], ["hostname", "hostname"], ["appName", "app-name"], ["procId", "procid"], ["msgId", "msgid"],
  ["structuredData", "structured-data"], ["sd", "$!rfc5424-sd"], ["msg", "msg"],
];

/** One JSON object per message (option.jsonf), with the RFC 5424 fields as rsyslog parsed them. */
const parsedTemplate = `template(name="parsed" type="list" option.jsonf="on") {
${parsedProperties.map(([out, name]) => `  property(outname="${out}" name="${name}" format="jsonf"${name === "timereported" ? ' dateFormat="rfc3339"' : ""})`).join("\n")}
}`;

function relpInput(port: number, tls: RsyslogTls | undefined): string {
  const tlsParams = tls === undefined ? "" : ` tls="on" tls.caCert="${tls.caPath}" tls.myCert="${tls.certPath}" tls.myPrivKey="${tls.keyPath}"`;
  return `input(type="imrelp" port="${port}" address="127.0.0.1" ruleset="audit"${tlsParams})`;
}

interface ChosenPorts {
  udpPort?: number | undefined;
  relpPort?: number | undefined;
  relpTlsPort?: number | undefined;
}

export function rsyslogConfig(dir: string, options: RsyslogOptions & ChosenPorts): string {
  const inputs = [`input(type="imtcp" port="${options.tcpPort ?? 0}" address="127.0.0.1" listenPortFileName="${join(dir, "tcp.port")}" ruleset="audit")`];
  if (options.tls !== undefined) {
    inputs.push(tlsInput("tls", dir, options.tls, "anon"));
    if (options.mutualTls === true) inputs.push(tlsInput("mtls", dir, options.tls, "x509/certvalid"));
  }
  if (options.udpPort !== undefined) inputs.push(`input(type="imudp" port="${options.udpPort}" address="127.0.0.1" ruleset="audit")`);
  if (options.relpPort !== undefined) inputs.push(relpInput(options.relpPort, undefined));
  if (options.relpTlsPort !== undefined) inputs.push(relpInput(options.relpTlsPort, options.tls));
  const relp = options.relpPort !== undefined || options.relpTlsPort !== undefined;
  return `# Generated by test/support/rsyslog.ts
global(workDirectory="${join(dir, "work")}" maxMessageSize="64k")
module(load="imtcp" maxSessions="500")
${options.udpPort === undefined ? "" : 'module(load="imudp")'}
${relp ? 'module(load="imrelp" tls.tlslib="openssl")' : ""}
module(load="mmpstrucdata")
${inputs.join("\n")}
template(name="raw" type="string" string="%rawmsg%\\n")
${parsedTemplate}
ruleset(name="audit"${relp ? ' queue.type="direct"' : ""}) {
  action(type="omfile" file="${join(dir, "messages.log")}" template="RSYSLOG_SyslogProtocol23Format")
  action(type="omfile" file="${join(dir, "raw.log")}" template="raw")
  action(type="mmpstrucdata" sd_name.lowercase="off")
  action(type="omfile" file="${join(dir, "parsed.log")}" template="parsed")
}
`;
}

/** A UDP port free right now; imudp has no port file, so the port is chosen here (a race only with other binders). */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** A TCP port free right now, for inputs without a port file (imrelp); a race only with other binders. */
async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const chosenPort = async (option: boolean | number | undefined): Promise<number | undefined> =>
  option === undefined || option === false ? undefined : option === true ? freeTcpPort() : option;

/**
 * imudp writes no port file, nor does imtcp for a fixed port: wait until the port shows up bound in /proc/net/udp,
 * or listening in /proc/net/tcp (Linux, like rsyslog here).
 */
async function waitForBound(protocol: "tcp" | "udp", port: number, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const local = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const bound = (line: string) => {
    const [, localAddress, , state] = line.trim().split(/\s+/);
    return localAddress?.endsWith(local) === true && (protocol === "udp" || state === "0A");
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`rsyslogd exited with ${child.exitCode}: ${output()}`);
    if (readFileSync(`/proc/net/${protocol}`, "utf8").split("\n").some(bound)) return;
    await sleep(25);
  }
  throw new Error(`rsyslogd did not bind ${protocol.toUpperCase()} port ${port} within ${timeoutMs} ms: ${output()}`);
}

/**
 * Connections on this machine to `port` that a sender could still write into: ESTABLISHED (01), or CLOSE_WAIT
 * (08: the receiver closed, the sender has not yet noticed). Tests wait for 0 instead of sleeping.
 */
export function liveConnectionsTo(port: number): number {
  const remote = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  return ["tcp", "tcp6"]
    .flatMap((protocol) => (existsSync(`/proc/net/${protocol}`) ? readFileSync(`/proc/net/${protocol}`, "utf8").split("\n").slice(1) : []))
    .map((line) => line.trim().split(/\s+/))
    .filter(([, , remoteAddress, state]) => remoteAddress?.endsWith(remote) === true && (state === "01" || state === "08")).length;
}

function parseLine(line: string): ParsedSyslogMessage {
  const raw = JSON.parse(line) as Omit<ParsedSyslogMessage, "sd"> & { sd?: string };
  const sd = raw.sd === undefined || raw.sd === "" ? {} : (JSON.parse(raw.sd) as ParsedSyslogMessage["sd"]);
  return { ...raw, sd };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForPort(file: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`rsyslogd exited with ${child.exitCode}: ${output()}`);
    if (existsSync(file)) {
      const port = Number(readFileSync(file, "utf8").trim());
      if (port > 0) return port;
    }
    await sleep(25);
  }
  throw new Error(`rsyslogd did not listen within ${timeoutMs} ms: ${output()}`);
}

/** Complete lines only: rsyslog may be writing the last one while we read. */
function lines(file: string): string[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, "utf8");
  return text.slice(0, text.lastIndexOf("\n") + 1).split("\n").filter((l) => l !== "");
}

export async function startRsyslog(options: RsyslogOptions = {}): Promise<RunningRsyslog> {
  if (!rsyslogInstalled()) throw new Error(`${rsyslogd} not found: run test/support/install-syslog.sh (as root) first`);
  const dir = mkdtempSync(join(tmpdir(), "trailkeeper-rsyslog-"));
  mkdirSync(join(dir, "work"));
  const confPath = join(dir, "rsyslog.conf");
  const udpPort = options.udp === true ? await freeUdpPort() : undefined;
  if (options.relpTls !== undefined && options.tls === undefined) throw new Error("relpTls needs tls");
  const relpPort = await chosenPort(options.relp);
  const relpTlsPort = await chosenPort(options.relpTls);
  writeFileSync(confPath, rsyslogConfig(dir, { ...options, udpPort, relpPort, relpTlsPort }));
  const child = spawn(rsyslogd, ["-n", "-f", confPath, "-i", join(dir, "rsyslogd.pid")], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const output = () => out;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const crash = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const tcpPort = options.tcpPort ?? (await waitForPort(join(dir, "tcp.port"), child, output, 10_000));
    if (options.tcpPort !== undefined) await waitForBound("tcp", options.tcpPort, child, output, 10_000);
    const tlsPort = options.tls === undefined ? undefined : await waitForPort(join(dir, "tls.port"), child, output, 10_000);
    const mutualTlsPort = options.mutualTls === true && options.tls !== undefined ? await waitForPort(join(dir, "mtls.port"), child, output, 10_000) : undefined;
    if (udpPort !== undefined) await waitForBound("udp", udpPort, child, output, 10_000);
    for (const port of [relpPort, relpTlsPort]) if (port !== undefined) await waitForBound("tcp", port, child, output, 10_000);
    const messagesFile = join(dir, "messages.log");
    const rawFile = join(dir, "raw.log");
    const parsedFile = join(dir, "parsed.log");
    return {
      dir,
      tcpPort,
      udpPort,
      tlsPort,
      mutualTlsPort,
      relpPort,
      relpTlsPort,
      messagesFile,
      rawFile,
      messages: () => lines(messagesFile),
      rawMessages: () => lines(rawFile),
      parsedMessages: () => lines(parsedFile).map(parseLine),
      async waitForMessages(count, timeoutMs = 10_000) {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          const got = lines(messagesFile);
          if (got.length >= count) return got;
          await sleep(25);
        }
        throw new Error(`expected ${count} syslog messages, got ${lines(messagesFile).length}: ${output()}`);
      },
      output,
      crash,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
