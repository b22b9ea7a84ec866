import { describe, expect, it } from "vitest";
import { createOperatorMetrics } from "../metrics.ts";
import { startHealthServer } from "./health-server.ts";

describe("health server", () => {
  it("answers /healthz, /readyz by the checks, and /metrics in Prometheus text", async () => {
    let ready = false;
    const metrics = createOperatorMetrics();
    metrics.leader.set(1);
    const server = await startHealthServer("127.0.0.1", 0, { live: () => true, ready: () => ready, notReadyReason: () => (ready ? undefined : "cannot take or renew the Lease ns/lease: not found") }, metrics.registry);
    const get = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);
    try {
      expect((await get("/healthz")).status).toBe(200);
      const notReady = await get("/readyz");
      expect(notReady.status).toBe(503);
      expect(await notReady.text()).toBe("not ready: cannot take or renew the Lease ns/lease: not found\n");
      ready = true;
      expect((await get("/readyz")).status).toBe(200);
      const text = await (await get("/metrics")).text();
      expect(text).toContain("trailkeeper_operator_leader 1");
      expect((await get("/other")).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
