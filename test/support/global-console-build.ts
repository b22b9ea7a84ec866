import { spawnSync } from "node:child_process";
import path from "node:path";

/** The browser tests serve the real built console: build it when it is missing or older than its sources. */
export function setup(): void {
  const script = path.resolve(import.meta.dirname, "../../scripts/build-console.ts");
  const res = spawnSync(process.execPath, [script], { stdio: "inherit" });
  if (res.status !== 0) throw new Error(`building the console failed (exit ${res.status ?? res.signal})`);
}
