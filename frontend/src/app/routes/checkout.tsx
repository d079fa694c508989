import { useParams } from '@/lib/router';

import { PageHeading } from '@/components/page-heading';
import { CheckoutView } from '@/features/checkout/components/checkout-view';

export default function CheckoutRoute() {
  const { appointmentId = '' } = useParams();
  return (
    <>
      <PageHeading>Review and pay</PageHeading>
      <CheckoutView key={appointmentId} appointmentId={appointmentId} />
    </>
  );
}
