import { describe, expect, it } from "vitest";
import { logForwardingDestinationSpecSchema } from "./log-forwarding-destination.ts";
import { secretNames, secretRefsIn } from "./secret-refs.ts";

describe("secretRefsIn", () => {
  it("finds every …SecretRef, nested ones included", () => {
    const spec = logForwardingDestinationSpecSchema.parse({
      elasticsearch: {
        url: "https://es:9200",
        index: "audit",
        basicAuth: { username: "u", passwordSecretRef: { name: "es", key: "password" } },
        tls: { caSecretRef: { name: "ca", key: "ca.crt" }, clientCertSecretRef: { name: "mtls", key: "tls.crt" }, clientKeySecretRef: { name: "mtls", key: "tls.key" } },
      },
    });
    const refs = secretRefsIn(spec);
    expect(refs).toEqual([
      { name: "es", key: "password" },
      { name: "ca", key: "ca.crt" },
      { name: "mtls", key: "tls.crt" },
      { name: "mtls", key: "tls.key" },
    ]);
    expect(secretNames(refs)).toEqual(["ca", "es", "mtls"]);
  });
});
