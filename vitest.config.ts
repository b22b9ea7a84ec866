import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    reporters: ["default", "./test/support/summary-reporter.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["core/**/*.test.ts", "api-server/**/*.test.ts", "operator/**/*.test.ts", "console/src/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          exclude: [...configDefaults.exclude, "test/integration/operator/**"],
          globalSetup: ["test/support/global-postgres.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // One Postgres server is shared; files run in parallel workers, each in its own database.
          pool: "forks",
        },
      },
      {
        test: {
          name: "operator",
          include: ["test/integration/operator/**/*.test.ts"],
          // One real kube-apiserver (test/kube-apiserver) for the run; its kubeconfig is provided to the tests.
          globalSetup: ["test/support/kube-global-setup.ts", "test/support/global-postgres.ts"],
          testTimeout: 60_000,
          // The first run may build the kube-apiserver harness (several minutes).
          hookTimeout: 240_000,
          pool: "forks",
        },
      },
      {
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          // Debian's chromium against the real API server, on the real Postgres, serving the built console/dist.
          globalSetup: ["test/support/global-postgres.ts", "test/support/global-console-build.ts"],
          testTimeout: 90_000,
          hookTimeout: 120_000,
          // A browser per worker; the machine has two cores.
          pool: "forks",
          maxWorkers: 2,
        },
      },
    ],
  },
});
