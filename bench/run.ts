/**
 * Runs every benchmark in bench/ (each `bench/*.ts` but this file; helpers live in bench/lib/), one after
 * another, each in its own process. `node bench/run.ts [name…]` runs only the named ones (e.g. `ingest`).
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";

const dir = import.meta.dirname;
const wanted = process.argv.slice(2);
const all = readdirSync(dir).filter((f) => f.endsWith(".ts") && f !== path.basename(import.meta.filename)).sort();
const selected = wanted.length ? all.filter((f) => wanted.includes(f.replace(/\.ts$/, ""))) : all;
const unknown = wanted.filter((w) => !all.includes(`${w}.ts`));
if (unknown.length) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(", ")}; available: ${all.map((f) => f.replace(/\.ts$/, "")).join(", ")}\n`);
  process.exit(2);
}

const failed: string[] = [];
for (const file of selected) {
  process.stdout.write(`\n=== bench/${file} ===\n`);
  const res = spawnSync(process.execPath, [path.join(dir, file)], { stdio: "inherit" });
  if (res.status !== 0) failed.push(`${file} (${res.status ?? res.signal})`);
}
if (failed.length) {
  process.stderr.write(`\nbenchmarks failed: ${failed.join(", ")}\n`);
  process.exit(1);
}
