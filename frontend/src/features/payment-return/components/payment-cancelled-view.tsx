import { Link } from '@/lib/router';

import { useAppointment } from '@/api/get-appointment';
import { useOfferedProviders } from '@/api/get-config';
import { ApiErrorAlert } from '@/components/api-error-alert';
import { appointmentStatusCopy } from '@/components/appointment-status-copy';
import { AppointmentSummary } from '@/components/appointment-summary';
import { Loading } from '@/components/loading';
import { PaymentOptions } from '@/components/payment-options';
import { paths } from '@/config/paths';

/** Where the provider sends the patient back after "Cancel" (or a failure page). */
export function PaymentCancelledView({ appointmentId }: { appointmentId: string | null }) {
  return appointmentId ? (
    <TryAgain appointmentId={appointmentId} />
  ) : (
    <>
      <p className="lead">You left the payment page before paying.</p>
      <p>
        <Link className="button button-primary" to={paths.book.href()}>
          Book an appointment
        </Link>
      </p>
    </>
  );
}

function TryAgain({ appointmentId }: { appointmentId: string }) {
  const query = useAppointment(appointmentId, { staleTime: 0 });
  // Loaded beside the appointment, so the pay buttons appear with the page.
  const offered = useOfferedProviders();
  if (query.isPending || offered.isPending) return <Loading label="Loading your appointment…" />;
  if (query.isError) return <ApiErrorAlert error={query.error} onRetry={() => void query.refetch()} />;

  const appointment = query.data;
  if (appointment.status !== 'pending_payment') {
    // Said only from what the server knows: after Back from a paid page, "nothing was charged" would be false.
    return (
      <>
        <p className="lead">{appointmentStatusCopy[appointment.status].sentence}</p>
        <p>
          <Link className="button button-primary" to={paths.checkout.href(appointment.id)}>
            See your appointment
          </Link>
        </p>
      </>
    );
  }
  return (
    <>
      <p className="lead">Nothing was charged.</p>
      <section aria-labelledby="try-again-heading" className="pay-section">
        <h2 id="try-again-heading">Try again</h2>
        <p className="muted">Your time is still held for you. Choose either way to pay.</p>
        <PaymentOptions appointmentId={appointment.id} />
        <p>
          <Link to={paths.checkout.href(appointment.id)}>Back to checkout</Link>
        </p>
      </section>
      <AppointmentSummary appointment={appointment} />
    </>
  );
}
