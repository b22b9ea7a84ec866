import { describe, expect, it } from "vitest";
import { noSecrets } from "@trailkeeper/core/secrets.ts";
import { DestinationCatalog, type ResolvedDestination } from "./destination-catalog.ts";

const destination = (revision: string, ready = true): ResolvedDestination => ({
  key: "ns/d",
  namespace: "ns",
  name: "d",
  uid: "u1",
  generation: 1,
  tenant: "ns",
  kind: "webhook",
  spec: {} as ResolvedDestination["spec"],
  secrets: noSecrets,
  ready,
  lastCheck: undefined,
  revision,
});

describe("DestinationCatalog", () => {
  it("tells subscribers about current entries, then only about real changes", () => {
    const catalog = new DestinationCatalog();
    catalog.set("ns/d", destination("r1"));
    const heard: string[] = [];
    const unsubscribe = catalog.subscribe((key, d) => heard.push(`${key} ${d?.revision ?? "gone"} ${d?.ready ?? ""}`));
    catalog.set("ns/d", destination("r1")); // a periodic reconcile with nothing new
    catalog.set("ns/d", destination("r1", false));
    catalog.set("ns/d", destination("r2", false));
    catalog.set("ns/d", undefined);
    catalog.set("ns/d", undefined);
    expect(heard).toEqual(["ns/d r1 true", "ns/d r1 false", "ns/d r2 false", "ns/d gone "]);
    unsubscribe();
    catalog.set("ns/d", destination("r3"));
    expect(heard).toHaveLength(4);
  });

  it("withdraws everything on clear, as when leadership ends", () => {
    const catalog = new DestinationCatalog();
    catalog.set("ns/a", destination("r1"));
    catalog.set("ns/b", destination("r1"));
    const gone: string[] = [];
    catalog.subscribe((key, d) => d === undefined && gone.push(key));
    catalog.clear();
    expect(gone.sort()).toEqual(["ns/a", "ns/b"]);
    expect(catalog.list()).toEqual([]);
  });
});
