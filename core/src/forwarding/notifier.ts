import pg from "pg";
import { appendChannel } from "../db/event-store.ts";
import type { Logger } from "../log.ts";
import { backoffMs } from "./classify.ts";

/**
 * One LISTEN connection per process, fanned out to the forwarders of each tenant. When the connection drops it
 * reconnects with backoff; forwarders poll as well, so a lost notification only delays delivery.
 */
export class AppendNotifier {
  readonly #url: string;
  readonly #log: Logger;
  readonly #listeners = new Map<string, Set<() => void>>();
  #client: pg.Client | undefined;
  #stopped = false;
  #attempt = 0;

  constructor(url: string, log: Logger) {
    this.#url = url;
    this.#log = log;
  }

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url, application_name: "trailkeeper-notify" });
    client.on("notification", (n) => {
      const tenant = n.payload?.slice(0, n.payload.lastIndexOf(":")) ?? "";
      this.#listeners.get(tenant)?.forEach((wake) => wake());
    });
    client.on("error", (err) => {
      this.#log.warn("append listener lost its connection", { err });
      void client.end().catch(() => {});
      this.#reconnect();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${appendChannel}`);
      this.#client = client;
      this.#attempt = 0;
      // Anything appended while disconnected: wake everyone once.
      this.#listeners.forEach((set) => set.forEach((wake) => wake()));
    } catch (err) {
      this.#log.warn("append listener could not connect", { err });
      void client.end().catch(() => {});
      this.#reconnect();
    }
  }

  #reconnect(): void {
    this.#client = undefined;
    if (this.#stopped) return;
    const delay = backoffMs(this.#attempt++, 30_000);
    setTimeout(() => void this.start(), delay).unref();
  }

  subscribe(tenant: string, wake: () => void): () => void {
    let set = this.#listeners.get(tenant);
    if (!set) this.#listeners.set(tenant, (set = new Set()));
    set.add(wake);
    return () => set.delete(wake);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#client?.end().catch(() => {});
  }
}
