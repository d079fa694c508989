import * as compat from 'preact/compat';
import * as React from 'react';
import * as ReactDOMClient from 'react-dom/client';

import { render, screen } from '@/testing/test-utils';

/** The SPA is written against React's API and runs on preact/compat (vite.config.ts, docs/decisions/0009). */
describe('runtime', () => {
  it('resolves react and react-dom to preact/compat, in the tests as in the bundle', () => {
    expect(React.createElement).toBe(compat.createElement);
    expect(React.useSyncExternalStore).toBe(compat.useSyncExternalStore);
    expect(typeof ReactDOMClient.createRoot).toBe('function');
  });

  it('renders through Testing Library with the same runtime', () => {
    // Were Testing Library on react-dom, this Preact element would throw "Objects are not valid as a React child".
    render(<p>Rendered</p>);
    expect(screen.getByText('Rendered')).toBeInTheDocument();
  });
});
