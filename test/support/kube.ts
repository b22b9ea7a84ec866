import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { kubectlBinary } from "./helm.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const buildScript = path.join(repoRoot, "test/kube-apiserver/build.sh");
const defaultBinary = path.join(repoRoot, ".tools/kube-apiserver/kube-apiserver-harness");
const crdDir = path.join(repoRoot, "crds");
const run = promisify(execFile);

/**
 * The kube-apiserver harness binary (test/kube-apiserver): build.sh rebuilds only when its inputs changed, so it is
 * cheap to call; without Go, an existing binary is used as it is.
 */
export function harnessBinary(): string {
  const built = spawnSync(buildScript, [], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const printed = built.stdout?.trim().split("\n").at(-1);
  if (built.status === 0 && printed !== undefined && existsSync(printed)) return printed;
  if (existsSync(defaultBinary)) return defaultBinary;
  throw new Error(`cannot build the kube-apiserver harness (${buildScript} exited ${built.status}); see its output above`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface KubeApiServer {
  readonly url: string;
  /** Admin (system:masters) kubeconfig. */
  readonly kubeconfigPath: string;
  readonly outDir: string;
  /** kubeconfig of an extra user given in `extraUsers`. */
  userKubeconfig(name: string): string;
  /** Stops the apiserver and starts it again on the same port with the same etcd data and CA. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface KubeApiServerOptions {
  /** Apply crds/*.yaml and wait until they are Established (default true). */
  applyCrds?: boolean;
  /** NAME[:GROUP1,GROUP2] identities with their own client certificates. */
  extraUsers?: string[];
  readyTimeoutMs?: number;
}

/**
 * A real kube-apiserver with embedded etcd on free loopback ports, in a temporary directory of its own. The etcd
 * data directory is passed explicitly (not the harness's default temp dir) so that `restart()` keeps the data.
 */
export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const binary = harnessBinary();
  const base = mkdtempSync(path.join(tmpdir(), "trailkeeper-kube-"));
  const outDir = path.join(base, "out");
  const dataDir = path.join(base, "data");
  const [securePort, etcdPort] = [await freePort(), await freePort()];
  const args = ["--out-dir", outDir, "--data-dir", dataDir, "--secure-port", String(securePort), "--etcd-port", String(etcdPort)];
  for (const user of options.extraUsers ?? []) args.push("--extra-user", user);
  const readyTimeoutMs = options.readyTimeoutMs ?? 180_000;
  let child = await launch(binary, args, base, outDir, readyTimeoutMs);
  const server: KubeApiServer = {
    url: readFileSync(path.join(outDir, "ready"), "utf8").trim(),
    kubeconfigPath: path.join(outDir, "kubeconfig"),
    outDir,
    userKubeconfig: (name) => path.join(outDir, `kubeconfig-${name.replace(/[^A-Za-z0-9._-]/g, "_")}`),
    async restart() {
      await terminate(child);
      child = await launch(binary, args, base, outDir, readyTimeoutMs);
    },
    async stop() {
      await terminate(child);
      rmSync(base, { recursive: true, force: true });
    },
  };
  if (options.applyCrds ?? true) {
    try {
      await applyCrds(server.kubeconfigPath);
    } catch (err) {
      await server.stop();
      throw err;
    }
  }
  return server;
}

async function launch(binary: string, args: string[], base: string, outDir: string, timeoutMs: number): Promise<ChildProcess> {
  const logFile = path.join(base, "harness.log");
  const log = createWriteStream(logFile, { flags: "a" });
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const readyFile = path.join(outDir, "ready");
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(readyFile)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      const tail = existsSync(logFile) ? readFileSync(logFile, "utf8").split("\n").slice(-30).join("\n") : "";
      throw new Error(`kube-apiserver harness did not become ready (exit ${child.exitCode}):\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return child;
}

/** SIGTERM, then SIGKILL if the harness has not exited after its own stop timeout. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 40_000);
  await exited;
  clearTimeout(timer);
}

/** `kubectl apply --server-side` of every CRD in crds/ (not the samples below it), then waits until they are served. */
export async function applyCrds(kubeconfigPath: string): Promise<void> {
  // The kubectl of scripts/ensure-helm.sh (from node_modules): a fresh CI machine has none on PATH.
  const kubectl = (...args: string[]) => run(kubectlBinary(), ["--kubeconfig", kubeconfigPath, ...args], { timeout: 120_000 });
  // Files are named explicitly: `kubectl wait -f <dir>` also reads subfolders, which would include crds/samples.
  const files = readdirSync(crdDir).filter((f) => f.endsWith(".yaml")).flatMap((f) => ["-f", path.join(crdDir, f)]);
  await kubectl("apply", "--server-side", "--field-manager=trailkeeper-tests", ...files);
  await kubectl("wait", "--for=condition=Established", "--timeout=60s", ...files);
}
