import type { lookup, LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import { assertHostAllowed, defaultEgressPolicy, deniedAddressReason, EgressDeniedError, embeddedIpv4, ipv6Groups, resolveAllowed, type EgressPolicy } from "./egress.ts";

const strict = defaultEgressPolicy;
const lenient: EgressPolicy = { allowLinkLocal: true, allowLoopback: true, allowCloudMetadata: false };

/** A resolver answering from a table, so the tests never touch real DNS. */
function fakeDns(table: Record<string, string[]>) {
  return ((host: string, _opts: unknown, cb: (err: NodeJS.ErrnoException | null, addrs: LookupAddress[]) => void) => {
    const addrs = table[host];
    if (addrs === undefined) cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" }), []);
    else cb(null, addrs.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })));
  }) as unknown as typeof lookup;
}

describe("deniedAddressReason", () => {
  it.each([
    ["169.254.169.254", "cloud metadata"],
    ["169.254.170.2", "cloud metadata"],
    ["fd00:ec2::254", "cloud metadata"],
    ["100.100.100.200", "cloud metadata"],
    ["::ffff:169.254.169.254", "cloud metadata"],
    ["169.254.10.1", "link-local"],
    ["fe80::1", "link-local"],
    ["febf::1", "link-local"],
    ["127.0.0.1", "loopback"],
    ["127.8.9.10", "loopback"],
    ["::1", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
  ])("refuses %s by default (%s)", (address, why) => {
    expect(deniedAddressReason(address, strict)).toContain(why);
  });

  it.each(["10.1.2.3", "192.168.1.10", "172.16.0.1", "203.0.113.9", "2001:db8::1", "fd00::1", "fec0::1"])("allows %s", (address) => {
    expect(deniedAddressReason(address, strict)).toBeUndefined();
  });

  it("honours the allowances, except for metadata addresses", () => {
    expect(deniedAddressReason("169.254.10.1", lenient)).toBeUndefined();
    expect(deniedAddressReason("127.0.0.1", lenient)).toBeUndefined();
    expect(deniedAddressReason("169.254.169.254", lenient)).toContain("metadata");
    expect(deniedAddressReason("169.254.169.254", { ...lenient, allowCloudMetadata: true })).toBeUndefined();
    expect(deniedAddressReason("0.0.0.0", { allowLinkLocal: true, allowLoopback: true, allowCloudMetadata: true })).toContain("unspecified");
  });
});

describe("IPv6 forms that embed an IPv4 address", () => {
  it.each([
    ["::ffff:127.0.0.1", "IPv4-mapped", "loopback"],
    ["::ffff:a9fe:a9fe", "IPv4-mapped", "metadata"],
    ["::127.0.0.1", "IPv4-compatible", "loopback"],
    ["::a9fe:a9fe", "IPv4-compatible", "metadata"],
    ["::ffff:0:169.254.10.1", "IPv4-translated", "link-local"],
    ["64:ff9b::169.254.169.254", "NAT64 (64:ff9b::/96)", "metadata"],
    ["64:ff9b::7f00:1", "NAT64 (64:ff9b::/96)", "loopback"],
    ["64:ff9b:1::a9fe:a9fe", "NAT64 local-use /96", "metadata"],
    ["64:ff9b:1:a9fe:a9:fe00::", "NAT64 local-use /48", "metadata"],
    ["64:ff9b:1:7f:0:1::", "NAT64 local-use /56", "loopback"],
    ["64:ff9b:1:0:7f:0:100:0", "NAT64 local-use /64", "loopback"],
    ["2002:a9fe:a9fe::1", "6to4", "metadata"],
    ["2002:7f00:1::", "6to4", "loopback"],
    ["2002:0:1::", "6to4", "unspecified"],
    // Teredo server 65.54.227.120, client 127.0.0.1 stored inverted (0x80ff:0xfffe).
    ["2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo client", "loopback"],
    ["2001::5601:5601", "Teredo client", "metadata"],
  ])("refuses %s (%s of a %s address)", (address, form, why) => {
    const reason = deniedAddressReason(address, strict);
    expect(reason).toContain(why);
    if (form !== "IPv4-mapped") expect(reason).toContain(form);
  });

  it.each([
    "::ffff:203.0.113.9",
    "::203.0.113.9",
    "64:ff9b::203.0.113.9",
    "64:ff9b:1::cb00:7109",
    "2002:cb00:7109::1",
    "2001:0:4136:e378:8000:63bf:34ff:8ef6", // Teredo client 203.0.113.9
    "2001:db8::1", // documentation prefix, not Teredo (2001:0::/32)
  ])("allows %s, whose embedded IPv4 address is allowed", (address) => {
    expect(deniedAddressReason(address, strict)).toBeUndefined();
  });

  it("applies the allowances to the embedded address too", () => {
    expect(deniedAddressReason("64:ff9b::127.0.0.1", lenient)).toBeUndefined();
    expect(deniedAddressReason("2002:a9fe:0a01::", lenient)).toBeUndefined();
    expect(deniedAddressReason("64:ff9b::169.254.169.254", lenient)).toContain("metadata");
  });

  it("keeps the IPv6 loopback and unspecified addresses out of the IPv4-compatible reading", () => {
    expect(deniedAddressReason("::1", lenient)).toBeUndefined();
    expect(deniedAddressReason("::", strict)).toContain("unspecified");
  });

  it("refuses literal hosts in these forms before any lookup", () => {
    expect(() => assertHostAllowed("[64:ff9b::a9fe:a9fe]", strict)).toThrow(EgressDeniedError);
    expect(() => assertHostAllowed("[2002:7f00:1::]", strict)).toThrow(EgressDeniedError);
  });

  it("parses every IPv6 spelling into eight groups", () => {
    expect(ipv6Groups("::")).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(ipv6Groups("64:ff9b::1.2.3.4")).toEqual([0x64, 0xff9b, 0, 0, 0, 0, 0x102, 0x304]);
    expect(ipv6Groups("FE80::1%eth0")).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(ipv6Groups("1::")).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(embeddedIpv4(ipv6Groups("2001:db8::1"))).toEqual([]);
  });
});

describe("assertHostAllowed", () => {
  it.each(["metadata.google.internal", "METADATA.GOOGLE.INTERNAL.", "169.254.169.254", "[fd00:ec2::254]", "[::1]"])("refuses %s", (host) => {
    expect(() => assertHostAllowed(host, strict)).toThrow(EgressDeniedError);
  });

  it("leaves names to the lookup hook", () => {
    expect(() => assertHostAllowed("siem.example.com", strict)).not.toThrow();
  });
});

describe("resolveAllowed", () => {
  const dns = fakeDns({ "siem.example.com": ["203.0.113.5"], "rebind.example.com": ["203.0.113.5", "169.254.169.254"], "local.example.com": ["127.0.0.1"] });

  it("returns the addresses of an allowed name", async () => {
    await expect(resolveAllowed("siem.example.com", strict, dns)).resolves.toEqual([{ address: "203.0.113.5", family: 4 }]);
  });

  it("refuses a name when any of its addresses is denied", async () => {
    await expect(resolveAllowed("rebind.example.com", strict, dns)).rejects.toThrow(/resolves to 169.254.169.254 is a cloud metadata address/);
    await expect(resolveAllowed("local.example.com", strict, dns)).rejects.toThrow(EgressDeniedError);
    await expect(resolveAllowed("local.example.com", lenient, dns)).resolves.toHaveLength(1);
  });

  it("passes DNS errors through", async () => {
    await expect(resolveAllowed("nope.example.com", strict, dns)).rejects.toMatchObject({ code: "ENOTFOUND" });
  });
});
