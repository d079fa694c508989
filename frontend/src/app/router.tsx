import { lazy, Suspense, type ReactNode } from 'react';

import { Layout } from '@/app/layout';
import { BookRoute } from '@/app/routes/book';
import { RouteErrorBoundary } from '@/app/routes/route-error';
import { Loading } from '@/components/loading';
import { paths } from '@/config/paths';
import { createBrowserHistory, Router, useLocation, type History, type Route } from '@/lib/router';

// The booking page is the first route: it ships in the entry chunk (no second round trip before it can
// render). Every other page is its own chunk, loaded on first visit (docs/frontend.md, "Bundle budget").
const CheckoutRoute = lazy(() => import('@/app/routes/checkout'));
const CheckoutReturnRoute = lazy(() => import('@/app/routes/checkout-return'));
const CheckoutCancelledRoute = lazy(() => import('@/app/routes/checkout-cancelled'));
const ManageRoute = lazy(() => import('@/app/routes/manage'));
const ReceiptRoute = lazy(() => import('@/app/routes/receipt'));
const NotFoundRoute = lazy(() => import('@/app/routes/not-found'));

export const routes: readonly Route[] = [
  { path: paths.book.path, element: <BookRoute /> },
  { path: paths.checkout.path, element: <CheckoutRoute /> },
  { path: paths.checkoutReturn.path, element: <CheckoutReturnRoute /> },
  { path: paths.checkoutCancelled.path, element: <CheckoutCancelledRoute /> },
  { path: paths.manage.path, element: <ManageRoute /> },
  { path: paths.receipt.path, element: <ReceiptRoute /> },
  { path: '*', element: <NotFoundRoute /> },
];

/** Each page behind its own error boundary (reset when the path changes) and a loading state for its chunk. */
function RouteFrame({ children }: { children: ReactNode }) {
  const { pathname } = useLocation();
  return (
    <Layout>
      <RouteErrorBoundary key={pathname}>
        <Suspense fallback={<Loading label="Loading…" />}>{children}</Suspense>
      </RouteErrorBoundary>
    </Layout>
  );
}

export function AppRouter({ history }: { history: History }) {
  return <Router history={history} routes={routes} layout={RouteFrame} />;
}

export { createBrowserHistory };
