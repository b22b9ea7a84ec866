import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createLogger, silentLogger } from "../../core/src/log.ts";
import { operatorConfigSchema } from "../../operator/src/config.ts";
import { startOperator, type RunningOperator } from "../../operator/src/operator.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");

/**
 * Settings for operators under test: scoped to the test's namespace (test files run in parallel against one
 * apiserver), a Lease there, fast leader election, and loopback allowed because the test servers listen on it.
 */
export function testOperatorEnv(kubeconfigPath: string, namespace: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KUBECONFIG: kubeconfigPath,
    WATCH_NAMESPACE: namespace,
    POD_NAMESPACE: namespace,
    POD_NAME: `operator-${process.pid}`,
    LEASE_DURATION_SECONDS: "4",
    RENEW_DEADLINE_SECONDS: "3",
    RETRY_PERIOD_SECONDS: "0.5",
    METRICS_PORT: "0",
    HEALTH_BIND_ADDRESS: "127.0.0.1",
    EGRESS_ALLOW_LOOPBACK: "true",
    LOG_LEVEL: "debug",
    ...extra,
  };
}

/** The operator in this process, as main.ts wires it; set OPERATOR_TEST_LOG=1 to see its log on stderr. */
export async function startTestOperator(env: Record<string, string>): Promise<RunningOperator> {
  const config = operatorConfigSchema.parse(env);
  const logger = process.env.OPERATOR_TEST_LOG ? createLogger("debug", { pod: config.POD_NAME }, (l) => process.stderr.write(l)) : silentLogger;
  return startOperator(config, { logger });
}

export interface OperatorProcess {
  readonly child: ChildProcess;
  /** Everything the process logged so far (JSON lines). */
  log(): string;
  /** The operator's /metrics text; the port is taken from its "operator started" log line. */
  metrics(): Promise<string>;
  /** Sends `signal` and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `node operator/src/main.ts` as a separate process, for tests that kill it the way a node failure would. */
export async function spawnOperator(env: Record<string, string>): Promise<OperatorProcess> {
  const child = spawn(process.execPath, [path.join(repoRoot, "operator/src/main.ts")], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  let port: number | undefined;
  while (port === undefined) {
    const match = /"msg":"operator started".*?"healthPort":(\d+)/.exec(output);
    if (match) port = Number(match[1]);
    else if (child.exitCode !== null || Date.now() > deadline) throw new Error(`operator did not start:\n${output}`);
    else await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    log: () => output,
    metrics: async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** The value of one sample in Prometheus text, or 0 when the series is absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!rest.startsWith("{") && !rest.startsWith(" ")) continue;
    if (!Object.entries(labels).every(([k, v]) => rest.includes(`${k}="${v}"`))) continue;
    return Number(rest.slice(rest.lastIndexOf(" ") + 1));
  }
  return 0;
}
