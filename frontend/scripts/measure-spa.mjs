// Measures the checkout SPA as a patient's first visit sees it: builds the production bundle, serves it with
// `vite preview` on a free port, opens the booking page in Debian's Chromium with the CPU slowed 4x (CDP
// Emulation.setCPUThrottlingRate) and a cold cache (a new browser context per run), and reads the Largest
// Contentful Paint from a PerformanceObserver. Prints one JSON line:
//   {"first_route_js_gzip_bytes": ..., "lcp_ms_median": ..., "lcp_ms": [...], "runs": 11, "lcp_ms_min": ...,
//    "lcp_ms_max": ..., "lcp_elements": {"static screen": 11}, "lcp_floor_ms_median": ..., "lcp_floor_ms": [...], ...}
// lcp_elements counts what the largest paint was: "static screen" (index.html's first screen, replaced since)
// or the app's element (tag.class), which means the static paint was lost or outgrown.
// The machine is shared and noisy: the median of 11 runs moves far less than one run; read min..max as the spread.
// Beside each run, the same browser loads a plain two-line HTML page (the static screen's heading and lead, no CSS,
// no JavaScript) from the same server: lcp_floor_ms is what a navigation, a parse and one paint cost this Chromium at
// that throttle and that moment, the floor under the booking page's figure.
//
// The API is not needed: the page's only call at load, GET /api/config/, is answered by Playwright route
// interception with scripts/fixtures/config.json (the shape of the real answer, the seeded demo practitioners),
// so the figure is the SPA's own cost, with no backend latency in it. The LCP is read once the practitioners
// are on screen (the page is complete), so an element painted late still counts.
//
//   node scripts/measure-spa.mjs [--runs 11]
// Used by bench/http_bench.py (keep this path and the output's keys).
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from '@playwright/test';
import { build, preview } from 'vite';

import { measureBundle } from './bundle-size.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
// Any origin works: every request to it is answered by route interception, nothing leaves the machine.
const API = 'http://api.measure.invalid';
const CPU_THROTTLE = 4;

function option(name, fallback) {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function buildBundle(outDir) {
  process.env.VITE_API_BASE_URL = API;
  await build({ root, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
}

// The floor page: written next to the build, served by the same `vite preview`.
const FLOOR_PAGE = 'lcp-floor.html';
const FLOOR_HTML =
  '<!doctype html><html lang="en"><head><meta charset="UTF-8"><title>LCP floor</title></head><body>' +
  '<h1>Book your appointment</h1><p>Choose a practitioner, a service and an open time. ' +
  'You will review the price before you pay.</p></body></html>';

function largestPaint() {
  return new Promise((resolve) => {
    let last = { ms: 0, element: 'none' };
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const node = entry.element;
        last = { ms: entry.startTime, element: node ? `${node.tagName.toLowerCase()}.${node.className}` : 'static screen' };
      }
    }).observe({ type: 'largest-contentful-paint', buffered: true });
    // Buffered entries are delivered in a task; two frames later they are all in.
    requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => resolve(last), 50)));
  });
}

// One cold visit: a new context (empty cache), the CPU throttled, `visit(page, context)` run; then closed.
async function throttledVisit(browser, visit) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_THROTTLE });
    return await visit(page, context);
  } finally {
    await context.close();
  }
}

function measureFloorOnce(browser, url) {
  return throttledVisit(browser, async (page) => {
    await page.goto(new URL(FLOOR_PAGE, url).href, { waitUntil: 'load' });
    return await page.evaluate(largestPaint);
  });
}

function measureOnce(browser, url, config) {
  return throttledVisit(browser, async (page, context) => {
    await context.route(`${API}/**`, (route) => {
      const { pathname } = new URL(route.request().url());
      if (pathname === '/api/config/') {
        return route.fulfill({ status: 200, contentType: 'application/json', body: config, headers: { 'Access-Control-Allow-Origin': '*' } });
      }
      return route.fulfill({ status: 404, contentType: 'application/json', body: '{"code":"not_found","message":"not in the fixture","errors":{}}' });
    });
    await page.goto(url, { waitUntil: 'load' });
    await page.getByLabel('Practitioner').waitFor({ state: 'visible', timeout: 30_000 });
    return await page.evaluate(largestPaint);
  });
}

async function main() {
  const runs = Number(option('--runs', '11'));
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'sofia-spa-measure-'));
  let server;
  let browser;
  try {
    await buildBundle(outDir);
    const { firstRouteBytes, chunks } = measureBundle(outDir);
    writeFileSync(path.join(outDir, FLOOR_PAGE), FLOOR_HTML);
    server = await preview({ root, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false } });
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error('vite preview did not report its URL');
    const config = readFileSync(path.join(here, 'fixtures', 'config.json'), 'utf8');
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    const lcp = [];
    const floor = [];
    const elements = {};
    for (let run = 0; run < runs; run += 1) {
      // Alternated (ABBA), so that the machine's drift weighs on both alike.
      const floorFirst = run % 2 === 1;
      if (floorFirst) floor.push(Math.round((await measureFloorOnce(browser, url)).ms));
      const { ms, element } = await measureOnce(browser, url, config);
      lcp.push(Math.round(ms));
      elements[element] = (elements[element] ?? 0) + 1;
      if (!floorFirst) floor.push(Math.round((await measureFloorOnce(browser, url)).ms));
    }
    console.log(
      JSON.stringify({
        first_route_js_gzip_bytes: firstRouteBytes,
        lcp_ms_median: median(lcp),
        lcp_ms: lcp,
        lcp_ms_min: Math.min(...lcp),
        lcp_ms_max: Math.max(...lcp),
        lcp_elements: elements,
        lcp_floor_ms_median: median(floor),
        lcp_floor_ms: floor,
        runs,
        cpu_throttle: CPU_THROTTLE,
        all_js_gzip_bytes: chunks.reduce((sum, chunk) => sum + chunk.gzip, 0),
      }),
    );
  } finally {
    await browser?.close();
    await server?.close();
    await rm(outDir, { recursive: true, force: true });
  }
}

await main();
