import { Link } from '@/lib/router';

import { PageHeading } from '@/components/page-heading';
import { paths } from '@/config/paths';

export default function NotFoundRoute() {
  return (
    <>
      <PageHeading>Page not found</PageHeading>
      <p>We could not find this page.</p>
      <p>
        <Link className="button button-primary" to={paths.book.href()}>
          Book an appointment
        </Link>
      </p>
    </>
  );
}
