import { StrictMode } from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';

import { App } from '@/app';
import { afterStaticScreenPainted } from '@/app/static-screen';
import './index.css';

// Preact's development warnings (the runtime behind the React API, docs/decisions/0009-preact-compat-runtime.md).
if (import.meta.env.DEV) await import('preact/debug');

const container = document.getElementById('root');
if (!container) throw new Error('#root is missing from index.html');

afterStaticScreenPainted(() => {
  const root = createRoot(container);
  // index.html's static screen goes, and the app comes, in one task: no frame shows neither. The app's nodes
  // are new ones the size of the static ones, which the browser does not count as a larger paint (patched in
  // place, as Preact would otherwise do, a text node counts as painted anew).
  container.replaceChildren();
  flushSync(() => {
    root.render(
      <StrictMode>
        <App />
      </StrictMode>,
    );
  });
});
