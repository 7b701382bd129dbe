import { defineConfig } from '@playwright/test';

// The packaged-app smoke test: runs only where a real Electron binary exists.
export default defineConfig({
  testDir: '.',
  testMatch: '**/*.spec.ts',
  outputDir: '../../test-results/electron',
  timeout: 120_000,
  workers: 1,
  reporter: [['list'], ['json', { outputFile: '../../test-results/electron-results.json' }]],
});
