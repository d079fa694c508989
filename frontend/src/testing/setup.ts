import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { afterAll, afterEach, beforeAll } from 'vitest';

import { db } from './mocks/db';
import { server } from './mocks/server';

// findBy*/waitFor wait up to 1 s by default: too short for the first render of a file on a loaded 2-core
// machine (seen failing before any change). Waiting longer changes no assertion, only how long a failure takes.
configure({ asyncUtilTimeout: 3000 });

beforeAll(() => {
  // A request no handler expects fails the test: the SPA must not call anything we did not plan for.
  server.listen({ onUnhandledRequest: 'error' });
});

afterEach(() => {
  cleanup();
  server.resetHandlers();
  db.reset();
  window.localStorage.clear();
});

afterAll(async () => {
  server.close();
  // Preact runs effects after the next frame, or after a 35 ms fallback timer (preact/hooks, afterNextFrame). Let
  // the last test's timers fire while jsdom's window is still there: one firing after the environment is torn
  // down calls a cancelAnimationFrame that no longer exists (an unhandled error that fails the run).
  await new Promise((resolve) => setTimeout(resolve, 100));
});
