import { describe, expect, it, vi } from "vitest";
import { silentLogger } from "@trailkeeper/core/log.ts";
import type { KubeObject, ListWatchClient, WatchEnd, WatchEventType } from "../kube/types.ts";
import { Informer, type RestartReason } from "./informer.ts";

interface OpenWatch {
  fromVersion: string;
  emit(type: WatchEventType, object: KubeObject): void;
  end(e: WatchEnd): void;
}

/** An in-memory API for one resource: objects with resourceVersions, lists, and watch streams the test ends. */
class FakeApi implements ListWatchClient<KubeObject> {
  readonly resource = "namespaces" as const;
  objects = new Map<string, KubeObject>();
  version = 1;
  lists = 0;
  failLists = 0;
  watches: OpenWatch[] = [];

  put(name: string, labels: Record<string, string> = {}): KubeObject {
    const object = { metadata: { name, labels, resourceVersion: String(++this.version) } };
    this.objects.set(name, object);
    return object;
  }

  async list() {
    this.lists++;
    if (this.failLists > 0) {
      this.failLists--;
      throw new Error("connection refused");
    }
    return { items: [...this.objects.values()], resourceVersion: String(this.version) };
  }

  async watch(fromVersion: string, onEvent: (type: WatchEventType, object: KubeObject) => void) {
    let settle!: (e: WatchEnd) => void;
    const ended = new Promise<WatchEnd>((resolve) => (settle = resolve));
    this.watches.push({ fromVersion, emit: onEvent, end: settle });
    return { stop: () => settle({ kind: "closed" }), ended };
  }

  get current(): OpenWatch {
    return this.watches.at(-1)!;
  }
}

function setup() {
  const api = new FakeApi();
  const seen: string[] = [];
  const restarts: RestartReason[] = [];
  const informer = new Informer({
    client: api,
    logger: silentLogger,
    resyncMs: 3_600_000,
    backoff: { baseMs: 1, maxMs: 5, jitter: 0 },
    onWatchRestart: (r) => restarts.push(r),
  });
  informer.addHandler({
    added: (o) => seen.push(`added ${o.metadata.name}`),
    updated: (_p, o) => seen.push(`updated ${o.metadata.name}`),
    deleted: (o) => seen.push(`deleted ${o.metadata.name}`),
    resynced: (all) => seen.push(`resynced ${all.length}`),
  });
  return { api, informer, seen, restarts };
}

describe("Informer", () => {
  it("lists, reports every object once, then watches from the list's resourceVersion", async () => {
    const { api, informer, seen } = setup();
    api.put("a");
    api.put("b");
    informer.start();
    await informer.waitForSync();
    await vi.waitFor(() => expect(api.watches).toHaveLength(1));
    expect(seen).toEqual(["added a", "added b", "resynced 2"]);
    expect(api.current.fromVersion).toBe("3");
    expect(informer.get("a")?.metadata.name).toBe("a");
    await informer.stop();
  });

  it("applies watch events to the cache and resumes from the last seen version after a normal close", async () => {
    const { api, informer, seen, restarts } = setup();
    informer.start();
    await vi.waitFor(() => expect(api.watches).toHaveLength(1));
    api.current.emit("ADDED", api.put("a"));
    api.current.emit("MODIFIED", api.put("a", { team: "x" }));
    api.current.emit("BOOKMARK", { metadata: { name: "", resourceVersion: "42" } });
    api.current.end({ kind: "closed" });
    await vi.waitFor(() => expect(api.watches).toHaveLength(2));
    expect(api.current.fromVersion).toBe("42");
    expect(api.lists).toBe(1);
    expect(seen).toEqual(["resynced 0", "added a", "updated a"]);
    expect(informer.get("a")?.metadata.labels).toEqual({ team: "x" });
    expect(restarts).toEqual(["closed"]);
    await informer.stop();
  });

  it("relists after 410 Gone and reports what changed while it was not watching", async () => {
    const { api, informer, seen, restarts } = setup();
    api.put("kept");
    api.put("removed");
    informer.start();
    await vi.waitFor(() => expect(api.watches).toHaveLength(1));
    api.objects.delete("removed");
    api.put("kept", { changed: "yes" });
    api.put("new");
    api.current.end({ kind: "expired", message: "too old resource version" });
    await vi.waitFor(() => expect(api.watches).toHaveLength(2));
    expect(api.lists).toBe(2);
    expect(seen.slice(3)).toEqual(["updated kept", "added new", "deleted removed", "resynced 2"]);
    expect(restarts).toEqual(["expired"]);
    await informer.stop();
  });

  it("reconnects after a watch error and after failed lists, counting each restart", async () => {
    const { api, informer, restarts } = setup();
    api.failLists = 2;
    informer.start();
    await informer.waitForSync();
    expect(api.lists).toBe(3);
    await vi.waitFor(() => expect(api.watches).toHaveLength(1));
    api.current.end({ kind: "failed", error: new Error("connection reset"), timedOut: false });
    await vi.waitFor(() => expect(api.watches).toHaveLength(2));
    api.current.end({ kind: "failed", error: new Error("silent stream"), timedOut: true });
    await vi.waitFor(() => expect(api.watches).toHaveLength(3));
    expect(restarts).toEqual(["error", "error", "error", "timeout"]);
    expect(api.lists).toBe(3); // a broken stream resumes; only 410 and resync relist
    await informer.stop();
  });

  it("restarts the watch on request and relists on resync", async () => {
    const { api, informer, restarts } = setup();
    informer.start();
    await vi.waitFor(() => expect(api.watches).toHaveLength(1));
    informer.restartWatch();
    await vi.waitFor(() => expect(api.watches).toHaveLength(2));
    expect(api.lists).toBe(1);
    informer.resync();
    await vi.waitFor(() => expect(api.watches).toHaveLength(3));
    expect(api.lists).toBe(2);
    expect(restarts).toEqual(["forced", "resync"]);
    await informer.stop();
  });

  it("keeps serving other handlers when one throws", async () => {
    const { api, informer, seen } = setup();
    informer.addHandler({
      added: () => {
        throw new Error("bug in a handler");
      },
    });
    const later: string[] = [];
    informer.addHandler({ added: (o) => later.push(o.metadata.name) });
    api.put("a");
    informer.start();
    await informer.waitForSync();
    expect(seen).toContain("added a");
    expect(later).toEqual(["a"]);
    await informer.stop();
  });

  it("caches objects through the transform", async () => {
    const api = new FakeApi();
    api.put("a", { secret: "value" });
    const informer = new Informer({ client: api, logger: silentLogger, resyncMs: 3_600_000, transform: (o) => ({ metadata: { ...o.metadata, labels: {} } }) });
    informer.start();
    await informer.waitForSync();
    expect(informer.get("a")?.metadata.labels).toEqual({});
    await informer.stop();
  });
});
