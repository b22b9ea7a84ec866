import type { lookup, LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import { assertHostAllowed, defaultEgressPolicy, deniedAddressReason, EgressDeniedError, resolveAllowed, type EgressPolicy } from "./egress.ts";

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
