import { createBrowserRouter, type RouteObject } from 'react-router';

import { Layout } from '@/app/layout';
import { BookRoute } from '@/app/routes/book';
import { CheckoutRoute } from '@/app/routes/checkout';
import { CheckoutCancelledRoute } from '@/app/routes/checkout-cancelled';
import { CheckoutReturnRoute } from '@/app/routes/checkout-return';
import { NotFoundRoute } from '@/app/routes/not-found';
import { RouteErrorRoute } from '@/app/routes/route-error';
import { paths } from '@/config/paths';

export const routes: RouteObject[] = [
  {
    element: <Layout />,
    children: [
      {
        errorElement: <RouteErrorRoute />,
        children: [
          { path: paths.book.path, element: <BookRoute /> },
          { path: paths.checkout.path, element: <CheckoutRoute /> },
          { path: paths.checkoutReturn.path, element: <CheckoutReturnRoute /> },
          { path: paths.checkoutCancelled.path, element: <CheckoutCancelledRoute /> },
          { path: '*', element: <NotFoundRoute /> },
        ],
      },
    ],
  },
];

export function createAppRouter() {
  return createBrowserRouter(routes);
}
