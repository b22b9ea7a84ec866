import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { defaultConsoleDir } from "../../../api-server/src/console-config.ts";
import { repoRoot } from "../../support/helm.ts";

/**
 * images/*.Dockerfile cannot be built here (no container engine), so their inputs are checked instead: every COPY
 * from the build context exists and passes the allow-list .dockerignore, and the console lands where the server
 * reads it by default.
 */

interface Copy {
  from: string | undefined;
  sources: string[];
  dest: string;
}
interface Stage {
  name: string | undefined;
  workdir: string;
  copies: Copy[];
  cmd: string | undefined;
}

/** Instructions with line continuations joined and comments dropped. */
function instructions(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => !/^\s*#/.test(l))
    .join("\n")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const line of instructions(text)) {
    const [op, ...args] = line.split(/\s+/);
    const stage = stages.at(-1);
    if (op === "FROM") stages.push({ name: args[2], workdir: "/", copies: [], cmd: undefined });
    else if (op === "WORKDIR" && stage) stage.workdir = path.posix.resolve(stage.workdir, args[0]!);
    else if (op === "CMD" && stage) stage.cmd = (JSON.parse(args.join(" ")) as string[])[0];
    else if (op === "COPY" && stage) {
      const flags = args.filter((a) => a.startsWith("--"));
      const paths = args.filter((a) => !a.startsWith("--"));
      const from = flags.find((f) => f.startsWith("--from="))?.slice("--from=".length);
      stage.copies.push({ from, sources: paths.slice(0, -1), dest: path.posix.resolve(stage.workdir, paths.at(-1)!) });
    }
  }
  return stages;
}

/** Docker's rule: the last matching pattern wins, and a pattern matching a folder matches what is inside it. */
function inContext(ignore: string, file: string): boolean {
  let included = true;
  const ancestors = file.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/"));
  for (const line of ignore.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"))) {
    const negated = line.startsWith("!");
    const pattern = negated ? line.slice(1) : line;
    if (ancestors.some((a) => path.posix.matchesGlob(a, pattern))) included = negated;
  }
  return included;
}

const images = readdirSync(path.join(repoRoot, "images")).filter((f) => f.endsWith(".Dockerfile"));

describe.each(images)("images/%s", (file) => {
  const stages = parseDockerfile(readFileSync(path.join(repoRoot, "images", file), "utf8"));
  const ignore = readFileSync(path.join(repoRoot, "images", `${file}.dockerignore`), "utf8");
  const contextCopies = stages.flatMap((s) => s.copies.filter((c) => c.from === undefined).flatMap((c) => c.sources));

  it("copies only files that exist and that its .dockerignore lets into the build context", () => {
    expect(contextCopies.length).toBeGreaterThan(0);
    for (const source of contextCopies) {
      expect(existsSync(path.join(repoRoot, source)), source).toBe(true);
      expect(inContext(ignore, source), source).toBe(true);
    }
  });

  it("copies from earlier stages only", () => {
    stages.forEach((stage, i) => {
      for (const c of stage.copies.filter((x) => x.from !== undefined)) {
        expect(stages.slice(0, i).map((s) => s.name), c.from).toContain(c.from);
      }
    });
  });

  it("keeps tests and installed modules out of the build context", () => {
    expect(inContext(ignore, "core/src/events/model.test.ts")).toBe(false);
    expect(inContext(ignore, "node_modules")).toBe(false);
    expect(inContext(ignore, "core/node_modules")).toBe(false);
  });
});

describe("the API server image", () => {
  const stages = parseDockerfile(readFileSync(path.join(repoRoot, "images/api-server.Dockerfile"), "utf8"));
  const runtime = stages.at(-1)!;
  const consoleStage = stages.find((s) => s.name === "console")!;

  it("puts the built console where the server reads it when TRAILKEEPER_CONSOLE_DIR is unset", () => {
    // The runtime mirrors the checkout under its WORKDIR: the entry point is api-server/src/main.ts there.
    expect(runtime.cmd).toBe("api-server/src/main.ts");
    const expected = path.posix.join(runtime.workdir, path.relative(repoRoot, defaultConsoleDir).split(path.sep).join("/"));
    const copy = runtime.copies.find((c) => c.from === "console");
    expect(copy?.dest).toBe(expected);
    // … taken from where Vite writes it in the console stage (outDir "dist" of console/vite.config.ts).
    expect(readFileSync(path.join(repoRoot, "console/vite.config.ts"), "utf8")).toMatch(/outDir:\s*"dist"/);
    expect(copy?.sources).toEqual([path.posix.join(consoleStage.workdir, "console/dist")]);
  });

  it("builds the console from every source it has (a new top-level file in console/ must be added)", () => {
    const copied = new Set(consoleStage.copies.filter((c) => c.from === undefined).flatMap((c) => c.sources));
    const sources = readdirSync(path.join(repoRoot, "console")).filter((f) => !["node_modules", "dist"].includes(f));
    for (const f of sources) expect(copied, `console/${f}`).toContain(`console/${f}`);
    // The console imports the category table from core's sources.
    expect(copied).toContain("core/src");
  });
});
