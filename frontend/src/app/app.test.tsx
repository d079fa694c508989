import { render } from '@testing-library/react';

import { ErrorBoundary } from '@/components/error-boundary';
import { renderApp, screen } from '@/testing/test-utils';

describe('App shell', () => {
  it('has the polite live region from the first render', () => {
    renderApp('/');
    const region = screen.getByRole('status');
    expect(region).toHaveAttribute('aria-live', 'polite');
  });

  it('shows a 404 page for unknown routes', async () => {
    renderApp('/nowhere');
    expect(await screen.findByRole('heading', { level: 1, name: 'Page not found' })).toHaveFocus();
    expect(screen.getByRole('link', { name: 'Book an appointment' })).toHaveAttribute('href', '/');
  });

  it('catches render errors with a way out', () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    function Broken(): never {
      throw new Error('boom');
    }
    render(
      <ErrorBoundary>
        <Broken />
      </ErrorBoundary>,
    );
    expect(screen.getByRole('heading', { name: 'Something went wrong' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Reload the page' })).toBeInTheDocument();
  });
});
