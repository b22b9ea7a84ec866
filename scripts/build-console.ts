/**
 * Builds the console (console/dist) when it is missing or older than any of its sources, so `npm start` and
 * `make test` serve what is checked out without rebuilding every time. `--force` always builds.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const consoleDir = path.join(root, "console");
const built = path.join(consoleDir, "dist", "index.html");
/** Everything the bundle is made from, the parts of core it imports included (category table, CRD schemas). */
const coreSources = ["core/src/events/categories.ts", "core/src/crd", "core/src/formats", "core/src/destinations/datadog/sites.ts"];
const sources = ["src", "index.html", "vite.config.ts", "package.json", "tsconfig.json"].map((p) => path.join(consoleDir, p)).concat(coreSources.map((p) => path.join(root, p)));

function newestMtime(p: string): number {
  if (!existsSync(p)) return 0;
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(p).map((f) => newestMtime(path.join(p, f))));
}

const force = process.argv.includes("--force");
const stale = !existsSync(built) || Math.max(...sources.map(newestMtime)) > statSync(built).mtimeMs;
if (!force && !stale) {
  process.stdout.write("console: console/dist is up to date\n");
  process.exit(0);
}
process.stdout.write("console: building console/dist …\n");
const res = spawnSync("npm", ["run", "build", "-w", "@trailkeeper/console"], { cwd: root, stdio: "inherit" });
process.exit(res.status ?? 1);
