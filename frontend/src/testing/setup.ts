import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterAll, afterEach, beforeAll } from 'vitest';

import { db } from './mocks/db';
import { server } from './mocks/server';

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

afterAll(() => {
  server.close();
});
