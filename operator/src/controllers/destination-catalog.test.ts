import { describe, expect, it } from "vitest";
import { noSecrets } from "@trailkeeper/core/secrets.ts";
import { DestinationCatalog, type ResolvedDestination } from "./destination-catalog.ts";

const destination = (revision: string): ResolvedDestination => ({
  key: "ns/d",
  namespace: "ns",
  name: "d",
  uid: "u1",
  tenant: "ns",
  kind: "webhook",
  spec: {} as ResolvedDestination["spec"],
  secrets: noSecrets,
  revision,
});

describe("DestinationCatalog", () => {
  it("tells subscribers about current entries, then only about real changes", () => {
    const catalog = new DestinationCatalog();
    catalog.set("ns/d", destination("r1"));
    const heard: string[] = [];
    const unsubscribe = catalog.subscribe((key, d) => heard.push(`${key} ${d?.revision ?? "gone"}`));
    catalog.set("ns/d", destination("r1")); // a periodic reconcile with nothing new
    catalog.set("ns/d", destination("r2"));
    catalog.set("ns/d", undefined);
    catalog.set("ns/d", undefined);
    expect(heard).toEqual(["ns/d r1", "ns/d r2", "ns/d gone"]);
    unsubscribe();
    catalog.set("ns/d", destination("r3"));
    expect(heard).toHaveLength(3);
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
