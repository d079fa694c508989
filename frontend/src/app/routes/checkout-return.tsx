import { useSearchParams } from '@/lib/router';

import { PaymentReturnView } from '@/features/payment-return/components/payment-return-view';
import { loadPendingAppointmentId } from '@/lib/pending-appointment';

/**
 * `/checkout/return?appointment_id=..&payment_session_id=..&provider=..` (+ `session_id` or
 * `truemed_session_id`). The parameters only say which records to ask our server about; without them the
 * appointment kept in localStorage is used and its latest payment session is synced.
 */
export default function CheckoutReturnRoute() {
  const params = useSearchParams();
  const fromUrl = params.get('appointment_id');
  const appointmentId = fromUrl ?? loadPendingAppointmentId();
  const paymentSessionId = fromUrl ? params.get('payment_session_id') : null;
  return (
    <PaymentReturnView
      key={`${appointmentId ?? ''}:${paymentSessionId ?? ''}`}
      appointmentId={appointmentId}
      paymentSessionId={paymentSessionId}
    />
  );
}
