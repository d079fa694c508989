import indexHtml from '/index.html?raw';
import securityHeaders from '/nginx/snippets/security-headers.inc?raw';

import { renderApp, screen } from '@/testing/test-utils';

/** index.html paints the booking page's first screen before the JS runs (docs/frontend.md, "Bundle budget"). */
describe('static first screen in index.html', () => {
  const shell = new DOMParser().parseFromString(indexHtml, 'text/html');

  it('says what the booking page says once React has rendered it', async () => {
    const staticHeading = shell.querySelector('#static-book-page h1')?.textContent;
    const staticLead = shell.querySelector('#static-book-page .lead')?.textContent;
    renderApp('/');
    expect(await screen.findByRole('heading', { level: 1 })).toHaveTextContent(staticHeading ?? 'missing');
    expect(document.querySelector('.lead')).toHaveTextContent(staticLead ?? 'missing');
    expect(document.querySelector('.secure-note')?.textContent).toBe(shell.querySelector('.secure-note')?.textContent);
  });

  it('holds rendering only until the static screen is parsed (no empty first frame), never for an element it lacks', () => {
    const expects = [...shell.querySelectorAll('link[rel="expect"]')];
    expect(expects).toHaveLength(1);
    expect(expects[0]?.getAttribute('blocking')).toBe('render');
    const target = expects[0]?.getAttribute('href') ?? '';
    expect(shell.querySelector(`#root ${target}`)?.querySelector('h1')).not.toBeNull();
  });

  it('runs only the inline script that the production CSP allows by its hash', async () => {
    const inline = [...shell.querySelectorAll('script:not([src])')].map((script) => script.textContent);
    expect(inline).toHaveLength(1);
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(inline[0] ?? ''));
    const hash = btoa(String.fromCharCode(...new Uint8Array(digest)));
    expect(securityHeaders).toContain(`script-src 'self' 'sha256-${hash}'`);
  });
});
