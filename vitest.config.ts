import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests (fakes allowed) and integration tests (real SQLite, real anvil,
// real Orthanc; no fakes). e2e tests run under Playwright (test/e2e).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Two cores: run integration files one or two at a time so external servers are not starved.
          pool: 'forks',
          maxWorkers: 2,
          // Under CI one more run for a failed test; npm test names any that passed only on it as flaky.
          retry: process.env.CI ? 1 : 0,
        },
      },
    ],
  },
});
