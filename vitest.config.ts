import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    reporters: ["default", "./test/support/summary-reporter.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["core/**/*.test.ts", "api-server/**/*.test.ts", "operator/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/support/global-postgres.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // One Postgres server is shared; files run in parallel workers, each in its own database.
          pool: "forks",
        },
      },
    ],
  },
});
