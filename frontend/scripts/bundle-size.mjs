// Prints the size of every JS chunk of a production build and the JavaScript the first route (the booking
// page) needs before it can render: the entry chunk and every chunk it imports statically, gzip level 9.
// Chunks loaded with import() (other pages, the slot picker) are not counted: the page renders without them.
// Exits 1 above the budget, so `npm run build` (and `make test-frontend`) fail on a regression; and also when
// index.html links a stylesheet (the entry's CSS is inlined by vite.config.ts: a <link> would hold the first
// paint until a second request came back).
//
//   node scripts/bundle-size.mjs [distDir] [--json] [--drop-manifest]
// --drop-manifest removes dist/.vite/manifest.json afterwards (`npm run build`: it is not served).
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/**
 * KiB (1024 bytes), gzip. Issue 13's goal is 90; the first route is 37 since the Preact runtime
 * (docs/decisions/0009-preact-compat-runtime.md), so 42 leaves room for the booking page to grow a little and
 * fails long before React's 68 KiB could creep back in. See docs/frontend.md, "Bundle budget".
 */
export const FIRST_ROUTE_BUDGET_KIB = 42;

const here = path.dirname(fileURLToPath(import.meta.url));

export function gzipBytes(file) {
  return gzipSync(readFileSync(file), { level: 9 }).length;
}

/** Reads dist/.vite/manifest.json: every chunk with its gzip size, and the entry's static import closure. */
export function measureBundle(distDir) {
  const manifest = JSON.parse(readFileSync(path.join(distDir, '.vite', 'manifest.json'), 'utf8'));
  const chunks = Object.entries(manifest)
    .filter(([, chunk]) => chunk.file.endsWith('.js'))
    .map(([key, chunk]) => ({ key, file: chunk.file, gzip: gzipBytes(path.join(distDir, chunk.file)) }));
  const entryKey = Object.keys(manifest).find((key) => manifest[key].isEntry);
  if (!entryKey) throw new Error('no entry in the Vite manifest');
  const firstRoute = new Set();
  const visit = (key) => {
    if (firstRoute.has(key)) return;
    firstRoute.add(key);
    for (const imported of manifest[key].imports ?? []) visit(imported);
  };
  visit(entryKey);
  const firstRouteBytes = chunks.filter((chunk) => firstRoute.has(chunk.key)).reduce((sum, chunk) => sum + chunk.gzip, 0);
  return { chunks, firstRoute: [...firstRoute].map((key) => manifest[key].file), firstRouteBytes };
}

function main() {
  const args = process.argv.slice(2);
  const distDir = path.resolve(args.find((arg) => !arg.startsWith('--')) ?? path.join(here, '..', 'dist'));
  const { chunks, firstRoute, firstRouteBytes } = measureBundle(distDir);
  const kib = (bytes) => (bytes / 1024).toFixed(1);
  const budgetBytes = FIRST_ROUTE_BUDGET_KIB * 1024;
  if (args.includes('--json')) {
    console.log(JSON.stringify({ first_route_js_gzip_bytes: firstRouteBytes, budget_bytes: budgetBytes, chunks }));
  } else {
    console.log('JS chunks (gzip -9):');
    for (const chunk of [...chunks].sort((a, b) => b.gzip - a.gzip)) {
      const mark = firstRoute.includes(chunk.file) ? '  [first route]' : '';
      console.log(`  ${kib(chunk.gzip).padStart(7)} KiB  ${chunk.file}${mark}`);
    }
    console.log(`First route (booking page) JS: ${kib(firstRouteBytes)} KiB gzip; budget ${FIRST_ROUTE_BUDGET_KIB} KiB.`);
  }
  if (args.includes('--drop-manifest')) rmSync(path.join(distDir, '.vite'), { recursive: true, force: true });
  const blocking = readFileSync(path.join(distDir, 'index.html'), 'utf8').match(/<link[^>]*rel="stylesheet"[^>]*>/g) ?? [];
  if (blocking.length > 0) {
    console.error(`index.html links a stylesheet (${blocking.join(' ')}): the entry's CSS must be inlined (vite.config.ts).`);
    process.exit(1);
  }
  if (firstRouteBytes > budgetBytes) {
    console.error(`Bundle budget exceeded: the first route needs ${kib(firstRouteBytes)} KiB of JS (gzip), over ${FIRST_ROUTE_BUDGET_KIB} KiB.`);
    process.exit(1);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
