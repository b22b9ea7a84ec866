import { describe, expect, it } from "vitest";
import { silentLogger } from "@trailkeeper/core/log.ts";
import { logForwardingDestinationKind } from "../controllers/log-forwarding-destination.ts";
import type { CustomObject, KubeObject, NamespaceObject, SecretObject } from "../kube/types.ts";
import { objectKey, type InformerHandler } from "../runtime/informer.ts";
import { ownerOf } from "./assignment.ts";
import { OwnedDestinations } from "./owned-destinations.ts";

/** An informer's cache and notifications in memory: `put` and `remove` notify like a watch event. */
class MemoryCache<T extends KubeObject> {
  readonly objects = new Map<string, T>();
  readonly handlers: InformerHandler<T>[] = [];
  addHandler(h: InformerHandler<T>) {
    this.handlers.push(h);
  }
  get(key: string) {
    return this.objects.get(key);
  }
  list() {
    return [...this.objects.values()];
  }
  put(o: T) {
    const old = this.objects.get(objectKey(o));
    this.objects.set(objectKey(o), o);
    for (const h of this.handlers) {
      if (old) h.updated?.(old, o);
      else h.added?.(o);
    }
  }
  remove(o: T) {
    this.objects.delete(objectKey(o));
    for (const h of this.handlers) h.deleted?.(o);
  }
}

const webhook = (enabled = true) => ({ enabled, webhook: { url: "https://siem.example/hook", signingSecretRef: { name: "siem", key: "k" } } });
const lfd = (name: string, spec: unknown = webhook(), generation = 1): CustomObject => ({ metadata: { name, namespace: "acme", uid: `uid-${name}`, generation }, spec });
const secret = (version: string): SecretObject => ({ metadata: { name: "siem", namespace: "acme", resourceVersion: version }, data: { k: Buffer.from(`value-${version}`).toString("base64") } });

function setup(identity = "op-a") {
  const objects = new MemoryCache<CustomObject>();
  const secrets = new MemoryCache<SecretObject>();
  const namespaces = new MemoryCache<NamespaceObject>();
  namespaces.put({ metadata: { name: "acme" } });
  secrets.put(secret("1"));
  let reads = 0;
  const owned = new OwnedDestinations({
    identity, kind: logForwardingDestinationKind, objects, secrets, namespaces, logger: silentLogger,
    readSecret: async (_ns, name) => (reads++, secrets.get(`acme/${name}`)),
  });
  return { owned, objects, secrets, namespaces, reads: () => reads };
}


describe("OwnedDestinations", () => {
  const names = Array.from({ length: 12 }, (_, i) => `d${i}`);
  const mine = (members: string[], me = "op-a") => names.filter((n) => ownerOf(`uid-${n}`, members) === me).map((n) => `acme/${n}`).sort();

  it("resolves exactly the destinations the assignment gives this replica, and follows the member set", async () => {
    const s = setup();
    for (const n of names) s.objects.put(lfd(n));
    s.owned.start();
    s.owned.setMembers(["op-a"]);
    await s.owned.settled();
    expect(s.owned.catalog.list().map((d) => d.key).sort()).toEqual(names.map((n) => `acme/${n}`).sort());
    expect(s.owned.catalog.get("acme/d0")).toMatchObject({ tenant: "acme", kind: "webhook", uid: "uid-d0" });
    expect(s.owned.catalog.get("acme/d0")!.secrets.get({ name: "siem", key: "k" })?.toString()).toBe("value-1");

    s.owned.setMembers(["op-a", "op-b", "op-c"]);
    await s.owned.settled();
    const share = s.owned.catalog.list().map((d) => d.key).sort();
    expect(share).toEqual(mine(["op-a", "op-b", "op-c"]));
    expect(share.length).toBeLessThan(names.length);

    // No members (its own Lease could not be renewed): it forwards nothing.
    s.owned.setMembers([]);
    await s.owned.settled();
    expect(s.owned.catalog.list()).toEqual([]);
  });

  it("reads Secrets again only when an input changed, with a new revision then", async () => {
    const s = setup();
    s.objects.put(lfd("d0"));
    s.owned.start();
    s.owned.setMembers(["op-a"]);
    await s.owned.settled();
    const first = s.owned.catalog.get("acme/d0")!.revision;
    const reads = s.reads();
    s.objects.put({ ...lfd("d0"), metadata: { ...lfd("d0").metadata, annotations: { unrelated: "x" } } });
    s.namespaces.put({ metadata: { name: "other" } });
    await s.owned.settled();
    expect(s.reads()).toBe(reads);
    expect(s.owned.catalog.get("acme/d0")!.revision).toBe(first);

    s.secrets.put(secret("2"));
    await s.owned.settled();
    expect(s.reads()).toBe(reads + 1);
    expect(s.owned.catalog.get("acme/d0")!.revision).not.toBe(first);
    expect(s.owned.catalog.get("acme/d0")!.secrets.get({ name: "siem", key: "k" })?.toString()).toBe("value-2");
  });

  it("withdraws a destination that is disabled, invalid, without its Secret or deleted, as the reconciler does", async () => {
    const s = setup();
    s.objects.put(lfd("d0"));
    s.owned.start();
    s.owned.setMembers(["op-a"]);
    await s.owned.settled();
    expect(s.owned.catalog.get("acme/d0")).toBeDefined();
    s.objects.put(lfd("d0", webhook(false), 2));
    await s.owned.settled();
    expect(s.owned.catalog.get("acme/d0")).toBeUndefined();
    s.objects.put(lfd("d0", { webhook: {} }, 3));
    await s.owned.settled();
    expect(s.owned.catalog.get("acme/d0")).toBeUndefined();
    s.objects.put(lfd("d0", webhook(), 4));
    await s.owned.settled();
    expect(s.owned.catalog.get("acme/d0")).toBeDefined();
    s.secrets.remove(secret("1"));
    await s.owned.settled();
    expect(s.owned.catalog.get("acme/d0")).toBeUndefined();
    s.secrets.put(secret("3"));
    await s.owned.settled();
    expect(s.owned.catalog.get("acme/d0")).toBeDefined();
    s.objects.remove(lfd("d0"));
    await s.owned.settled();
    expect(s.owned.catalog.list()).toEqual([]);
  });
});
