import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from "node:dns";
import { BlockList, isIP } from "node:net";

/**
 * Which addresses a tenant-configured destination may reach. Namespace admins write the URLs, so without this an
 * admin could aim the operator at the cloud metadata service (credentials of the node) or at the pod's own
 * loopback (sidecar admin ports). These allowances are operator-wide settings, not CR fields, for that reason.
 */
export interface EgressPolicy {
  /** 169.254.0.0/16 and fe80::/10. */
  allowLinkLocal: boolean;
  /** 127.0.0.0/8 and ::1 — the operator pod itself. Tests against local servers set this. */
  allowLoopback: boolean;
  /** Cloud instance metadata endpoints; allowing them is almost never right. */
  allowCloudMetadata: boolean;
}

export const defaultEgressPolicy: EgressPolicy = { allowLinkLocal: false, allowLoopback: false, allowCloudMetadata: false };

export class EgressDeniedError extends Error {
  readonly host: string;
  constructor(host: string, why: string) {
    super(`refusing to connect to ${host}: ${why}`);
    this.name = "EgressDeniedError";
    this.host = host;
  }
}

const metadataHostNames = new Set(["metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"]);

const metadata = new BlockList();
metadata.addAddress("169.254.169.254", "ipv4"); // AWS, GCP, Azure, OpenStack, Oracle
metadata.addAddress("169.254.170.2", "ipv4"); // AWS ECS task metadata and credentials
metadata.addAddress("100.100.100.200", "ipv4"); // Alibaba Cloud
metadata.addAddress("fd00:ec2::254", "ipv6"); // AWS IMDS over IPv6

const linkLocal = new BlockList();
linkLocal.addSubnet("169.254.0.0", 16, "ipv4");
linkLocal.addSubnet("fe80::", 10, "ipv6");

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

/** "This host" addresses connect to the local machine on most stacks; never a legitimate destination. */
const unspecified = new BlockList();
unspecified.addSubnet("0.0.0.0", 8, "ipv4");
unspecified.addAddress("::", "ipv6");

/** Why an address is refused under the policy, or undefined when it is allowed. */
export function deniedAddressReason(address: string, policy: EgressPolicy): string | undefined {
  const own = deniedOwnReason(address, policy);
  if (own !== undefined || isIP(address) !== 6) return own;
  // The IPv6 unspecified and loopback addresses are not IPv4-compatible forms of 0.0.0.0 and 0.0.0.1.
  const groups = ipv6Groups(address);
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7]! <= 1) return undefined;
  for (const { ipv4, form } of embeddedIpv4(groups)) {
    const why = deniedOwnReason(ipv4, policy);
    if (why !== undefined) return `${address} is the ${form} form of ${ipv4}, and ${why}`;
  }
  return undefined;
}

function deniedOwnReason(address: string, policy: EgressPolicy): string | undefined {
  const family = isIP(address) === 6 ? "ipv6" : "ipv4";
  if (metadata.check(address, family)) return policy.allowCloudMetadata ? undefined : `${address} is a cloud metadata address`;
  if (unspecified.check(address, family)) return `${address} is an unspecified address`;
  if (linkLocal.check(address, family)) return policy.allowLinkLocal ? undefined : `${address} is link-local`;
  if (loopback.check(address, family)) return policy.allowLoopback ? undefined : `${address} is a loopback address`;
  return undefined;
}

/** The eight 16-bit groups of a valid IPv6 address (a zone id is ignored; a dotted IPv4 tail becomes two groups). */
export function ipv6Groups(address: string): number[] {
  let text = address.split("%")[0]!.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => parseInt(g, 16)));
  const before = parse(head);
  const after = tail === undefined ? [] : parse(tail);
  return [...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after];
}

const dottedQuad = (hi: number, lo: number) => `${hi >>> 8}.${hi & 0xff}.${lo >>> 8}.${lo & 0xff}`;

/**
 * The IPv4 addresses an IPv6 address reaches through a translator or tunnel, each with the form's name. A NAT64
 * local-use prefix (64:ff9b:1::/48) may be any RFC 6052 length from /48 to /96, so every placement is returned:
 * refusing an address when one reading is denied is the safe side (a rare false refusal beats a missed one).
 */
export function embeddedIpv4(g: readonly number[]): { ipv4: string; form: string }[] {
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  const last32 = dottedQuad(g[6]!, g[7]!);
  const found: { ipv4: string; form: string }[] = [];
  if (zeros(0, 5) && g[5] === 0xffff) found.push({ ipv4: last32, form: "IPv4-mapped" });
  if (zeros(0, 6)) found.push({ ipv4: last32, form: "IPv4-compatible" });
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) found.push({ ipv4: last32, form: "IPv4-translated" });
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) found.push({ ipv4: last32, form: "NAT64 (64:ff9b::/96)" });
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) {
    // RFC 6052 §2.2: bits 64–71 (the "u" octet) never carry address bits.
    const bytes = g.flatMap((x) => [x >>> 8, x & 0xff]);
    const at = (...idx: number[]) => idx.map((i) => bytes[i]).join(".");
    const shorter = [
      { ipv4: at(6, 7, 9, 10), form: "NAT64 local-use /48" },
      { ipv4: at(7, 9, 10, 11), form: "NAT64 local-use /56" },
      { ipv4: at(9, 10, 11, 12), form: "NAT64 local-use /64" },
    ];
    // The zero bits of a longer prefix read as 0.x.x.x under a shorter one; that reading names no real host.
    found.push(...shorter.filter((r) => !r.ipv4.startsWith("0.")), { ipv4: last32, form: "NAT64 local-use /96" });
  }
  if (g[0] === 0x2002) found.push({ ipv4: dottedQuad(g[1]!, g[2]!), form: "6to4" });
  // Teredo (RFC 4380): the client's address is stored with every bit inverted.
  if (g[0] === 0x2001 && g[1] === 0) found.push({ ipv4: dottedQuad(~g[6]! & 0xffff, ~g[7]! & 0xffff), form: "Teredo client" });
  return found;
}

function normaliseHost(host: string): string {
  return host.replace(/^\[|\]$/g, "").replace(/\.$/, "").toLowerCase();
}

/**
 * Checks a host before connecting: metadata host names and IP literals are judged here, because Node does not
 * call `lookup` for literals. Names are judged again on every connection by `guardedLookup`, which sees the
 * addresses actually dialled, so DNS rebinding between check and connect does not help an attacker.
 */
export function assertHostAllowed(host: string, policy: EgressPolicy): void {
  const name = normaliseHost(host);
  if (metadataHostNames.has(name) && !policy.allowCloudMetadata) throw new EgressDeniedError(name, "it is a cloud metadata host name");
  if (isIP(name) !== 0) {
    const why = deniedAddressReason(name, policy);
    if (why !== undefined) throw new EgressDeniedError(name, why);
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for net.connect, tls.connect, undici and http.Agent that refuses denied addresses. */
export function guardedLookup(policy: EgressPolicy, resolve: typeof dnsLookup = dnsLookup) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions | number | undefined, callback: LookupCallback): void => {
    const opts = typeof options === "number" ? { family: options } : (options ?? {});
    try {
      assertHostAllowed(hostname, policy);
    } catch (err) {
      callback(err as NodeJS.ErrnoException, "", 0);
      return;
    }
    resolve(hostname, { ...opts, all: true }, (err, addresses) => {
      if (err !== null) return callback(err, "", 0);
      // One denied answer taints the name: a name that resolves to the metadata service is not a SIEM.
      for (const a of addresses) {
        const why = deniedAddressReason(a.address, policy);
        if (why !== undefined) return callback(new EgressDeniedError(hostname, `it resolves to ${why}`) as NodeJS.ErrnoException, "", 0);
      }
      if ((opts as LookupAllOptions).all === true) return callback(null, addresses);
      const first = addresses[0];
      if (first === undefined) return callback(Object.assign(new Error(`no addresses for ${hostname}`), { code: "ENOTFOUND" }), "", 0);
      callback(null, first.address, first.family);
    });
  };
}

/** Resolves a host under the policy, for checks that connect nothing (UDP) or want the addresses up front. */
export function resolveAllowed(host: string, policy: EgressPolicy, resolve: typeof dnsLookup = dnsLookup): Promise<LookupAddress[]> {
  return new Promise((ok, fail) => {
    guardedLookup(policy, resolve)(normaliseHost(host), { all: true }, (err, addresses) => {
      if (err !== null) fail(err);
      else ok(addresses as LookupAddress[]);
    });
  });
}
