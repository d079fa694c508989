import { Component, type ErrorInfo, type ReactNode } from 'react';

import { PageHeading } from '@/components/page-heading';
import { paths } from '@/config/paths';
import { Link } from '@/lib/router';

/** Render errors inside a page (or a page chunk that failed to load): the layout and the live region stay. */
export class RouteErrorBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state: { error: unknown } = { error: null };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    console.error('Route error', error, info.componentStack);
  }

  override render(): ReactNode {
    return this.state.error ? <RouteError /> : this.props.children;
  }
}

export function RouteError() {
  return (
    <>
      <PageHeading>Something went wrong</PageHeading>
      <p>This page could not be shown. Nothing was charged by this error.</p>
      <p className="actions">
        <button type="button" className="button button-primary" onClick={() => { window.location.reload(); }}>
          Reload the page
        </button>
        <Link className="button button-secondary" to={paths.book.href()}>
          Start over
        </Link>
      </p>
    </>
  );
}
