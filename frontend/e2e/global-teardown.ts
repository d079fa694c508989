import fs from 'node:fs/promises';

/** Removes this run's SQLite file (playwright.config.ts makes a fresh one per run). */
export default async function globalTeardown(): Promise<void> {
  const file = process.env.E2E_DATABASE_FILE;
  if (file && process.env.E2E_KEEP_DATABASE !== '1') {
    await Promise.all([file, `${file}-journal`, `${file}-wal`, `${file}-shm`].map((f) => fs.rm(f, { force: true })));
  }
}
