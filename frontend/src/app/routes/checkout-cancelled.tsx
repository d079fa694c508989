import { useSearchParams } from '@/lib/router';

import { PageHeading } from '@/components/page-heading';
import { PaymentCancelledView } from '@/features/payment-return/components/payment-cancelled-view';
import { loadPendingAppointmentId } from '@/lib/pending-appointment';

export default function CheckoutCancelledRoute() {
  const params = useSearchParams();
  const appointmentId = params.get('appointment_id') ?? loadPendingAppointmentId();
  return (
    <>
      <PageHeading>Payment cancelled</PageHeading>
      <PaymentCancelledView key={appointmentId ?? ''} appointmentId={appointmentId} />
    </>
  );
}
