import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface HealthChecks {
  /** Liveness: false only when the process should be restarted. */
  live(): boolean;
  /** Readiness: caches synced and not shutting down (leadership does not matter: a standby is ready too). */
  ready(): boolean;
  /** Why the process is not ready, for the /readyz body. */
  notReadyReason?(): string | undefined;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/** /healthz, /readyz and /metrics on one small node:http server; nothing else is served. */
export async function startHealthServer(host: string, port: number, checks: HealthChecks, registry: Registry): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://operator").pathname;
    const answer = (ok: boolean, reason?: string) => {
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain; charset=utf-8" });
      res.end(ok ? "ok\n" : `not ready${reason ? `: ${reason}` : ""}\n`);
    };
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
    } else if (path === "/healthz") {
      answer(checks.live());
    } else if (path === "/readyz") {
      answer(checks.ready(), checks.notReadyReason?.());
    } else if (path === "/metrics") {
      registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(String(err)),
      );
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
