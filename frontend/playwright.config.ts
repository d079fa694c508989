import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { defineConfig } from '@playwright/test';

/**
 * End-to-end: Debian's Chromium against the built SPA, the real backend and the provider sandbox, each
 * started here on ports that do not clash with `make run` (backend 18000, sandbox 18100 with its
 * SMTP mail sink on 18025, SPA 15173).
 * `npx playwright install` cannot work on these machines: the browser is /usr/bin/chromium.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const backendDir = path.resolve(here, '../backend');
const python = process.env.E2E_PYTHON ?? '.venv/bin/python';
const reuse = process.env.E2E_REUSE_SERVERS === '1';
// Server logs are noisy; E2E_SERVER_LOGS=1 shows them.
const logs = process.env.E2E_SERVER_LOGS === '1' ? 'pipe' : 'ignore';

const PORTS = { backend: 18000, sandbox: 18100, spa: 15173, smtp: 18025 } as const;
export const urls = {
  backend: `http://127.0.0.1:${PORTS.backend}`,
  sandbox: `http://127.0.0.1:${PORTS.sandbox}`,
  spa: `http://127.0.0.1:${PORTS.spa}`,
};

// A fresh database per run (the main process computes it once; workers never start servers).
process.env.E2E_DATABASE_FILE ??= path.join(os.tmpdir(), `sofia-checkout-e2e-${Date.now()}.sqlite3`);
const databaseFile = process.env.E2E_DATABASE_FILE;

export default defineConfig({
  testDir: './e2e',
  globalTeardown: './e2e/global-teardown.ts',
  outputDir: './test-results',
  timeout: 90_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: Boolean(process.env.CI),
  retries: process.env.CI ? 1 : 0,
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    baseURL: urls.spa,
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-quic',
        '--no-first-run',
        '--disable-sync',
      ],
    },
    locale: 'en-US',
    // A zone with an offset, so the "time with offset" path is exercised for real.
    timezoneId: 'America/New_York',
    viewport: { width: 1280, height: 900 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  webServer: [
    {
      name: 'sandbox',
      command: `${python} -m provider_sandbox`,
      cwd: backendDir,
      url: `${urls.sandbox}/_sandbox/health`,
      reuseExistingServer: reuse,
      timeout: 60_000,
      stdout: logs,
      stderr: logs,
      env: {
        SANDBOX_PORT: String(PORTS.sandbox),
        SANDBOX_PUBLIC_URL: urls.sandbox,
        SANDBOX_STRIPE_WEBHOOK_URL: `${urls.backend}/api/webhooks/stripe/`,
        SANDBOX_TRUEMED_WEBHOOK_URL: `${urls.backend}/api/webhooks/truemed/`,
        // Long enough for a loaded 2-core machine to show "under review" before the capture.
        SANDBOX_TRUEMED_CAPTURE_DELAY_SECONDS: '5',
        // The sandbox's mail sink (SMTP in, /_sandbox/emails out); the backend sends to it.
        SANDBOX_SMTP_PORT: String(PORTS.smtp),
      },
    },
    {
      name: 'backend',
      command: 'bash scripts/serve-dev.sh',
      cwd: backendDir,
      url: `${urls.backend}/api/health/`,
      reuseExistingServer: reuse,
      timeout: 120_000,
      stdout: logs,
      stderr: logs,
      env: {
        BACKEND_PORT: String(PORTS.backend),
        PYTHON: python,
        DATABASE_URL: `sqlite:///${databaseFile}`,
        STRIPE_API_BASE: `${urls.sandbox}/stripe`,
        TRUEMED_API_BASE: `${urls.sandbox}/truemed`,
        FRONTEND_BASE_URL: urls.spa,
        CORS_ALLOWED_ORIGINS: urls.spa,
        EMAIL_URL: `smtp://127.0.0.1:${PORTS.smtp}`,
      },
    },
    {
      name: 'spa',
      command: `npx vite build --outDir dist-e2e --emptyOutDir && npx vite preview --outDir dist-e2e --port ${PORTS.spa} --strictPort --host 127.0.0.1`,
      cwd: here,
      url: urls.spa,
      reuseExistingServer: reuse,
      timeout: 120_000,
      env: { VITE_API_BASE_URL: urls.backend },
    },
  ],
});
