/// <reference types="vitest/config" />
import { fileURLToPath, URL } from 'node:url';
import { defineConfig, type Alias, type Plugin } from 'vite';

/**
 * The SPA is written against React's API (types from @types/react) and runs on Preact's compat layer:
 * react-dom alone was 63 of the first route's 95 KiB (docs/decisions/0009-preact-compat-runtime.md).
 * Exact matches only, so `react-dom/client` does not become `preact/compat/client/client`.
 */
const preactCompat: Alias[] = [
  { find: /^react$/, replacement: 'preact/compat' },
  { find: /^react-dom$/, replacement: 'preact/compat' },
  { find: /^react-dom\/client$/, replacement: 'preact/compat/client' },
  { find: /^react-dom\/test-utils$/, replacement: 'preact/test-utils' },
  { find: /^react\/jsx-runtime$/, replacement: 'preact/jsx-runtime' },
  { find: /^react\/jsx-dev-runtime$/, replacement: 'preact/jsx-dev-runtime' },
];

/**
 * The entry's stylesheet (about 2 KiB gzip) goes into index.html as a <style>: a <link> would hold the first paint
 * of the static booking screen until a second request came back (LCP). The CSP allows inline styles. The lazy
 * pages' stylesheets stay files, loaded with their chunks.
 */
function inlineEntryCss(): Plugin {
  return {
    name: 'sofia:inline-entry-css',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html, { bundle, chunk }) {
        if (!bundle || !chunk) return html;
        let result = html;
        for (const file of chunk.viteMetadata?.importedCss ?? []) {
          const asset = bundle[file];
          if (asset?.type !== 'asset') continue;
          const link = new RegExp(`<link rel="stylesheet"[^>]*href="[^"]*/${file.replace(/[.]/g, '[.]')}"[^>]*>`);
          if (!link.test(result)) throw new Error(`inline-entry-css: no <link> for ${file} in index.html`);
          result = result.replace(link, () => `<style>${String(asset.source).trim()}</style>`);
        }
        return result;
      },
    },
  };
}

export default defineConfig({
  plugins: [inlineEntryCss()],
  resolve: {
    alias: [...preactCompat, { find: '@', replacement: fileURLToPath(new URL('./src', import.meta.url)) }],
  },
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
  preview: { host: '127.0.0.1', port: 4173 },
  build: {
    sourcemap: false,
    reportCompressedSize: true,
    modulePreload: { polyfill: false },
    manifest: true,
    rolldownOptions: {
      onwarn(warning, warn) {
        // react-query's "use client" directives mean nothing in a client-only bundle.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE' && warning.message.includes('use client')) return;
        warn(warning);
      },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/testing/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
    testTimeout: 10_000,
    // Libraries that import react themselves go through Vite too, so the aliases above reach them: the tests
    // run the runtime that ships, and there is one copy of it.
    // The ES module build of Testing Library (its default entry is CommonJS, whose require() no alias reaches).
    alias: [{ find: /^@testing-library\/react$/, replacement: '@testing-library/react/dist/@testing-library/react.esm.js' }],
    server: { deps: { inline: [/@testing-library\/react/, /@tanstack\/react-query/] } },
  },
});
