import { defineConfig } from '@playwright/test';

// e2e: Debian's Chromium shows the real renderer build; the real main-process handler table is
// bound into the page in place of the preload (see rig.ts). Screenshots go to test-results/screens.
export default defineConfig({
  testDir: '.',
  testMatch: '**/*.spec.ts',
  outputDir: '../../test-results/playwright',
  timeout: 90_000,
  expect: { timeout: 10_000 },
  workers: 2,
  // Under CI a test that fails gets one more run; if that passes it is reported as flaky (npm test names
  // it at the end with its first error), so a timing-dependent test is seen, not hidden.
  retries: process.env.CI ? 1 : 0,
  fullyParallel: false,
  reporter: [['list'], ['json', { outputFile: '../../test-results/e2e-results.json' }]],
  use: {
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1,
  },
});
