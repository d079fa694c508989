import { useEffect } from 'react';
import { Link, useRouteError } from 'react-router';

import { PageHeading } from '@/components/page-heading';
import { paths } from '@/config/paths';

/** Render errors inside a route: the layout (and the live region) stay, the page explains itself. */
export function RouteErrorRoute() {
  const error = useRouteError();
  useEffect(() => {
    console.error('Route error', error);
  }, [error]);
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
