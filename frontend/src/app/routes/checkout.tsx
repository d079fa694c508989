import { useParams } from 'react-router';

import { PageHeading } from '@/components/page-heading';
import { CheckoutView } from '@/features/checkout/components/checkout-view';

export function CheckoutRoute() {
  const { appointmentId = '' } = useParams();
  return (
    <>
      <PageHeading>Review and pay</PageHeading>
      <CheckoutView key={appointmentId} appointmentId={appointmentId} />
    </>
  );
}
