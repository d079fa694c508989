import { Link } from '@/lib/router';

import { useAppointment } from '@/api/get-appointment';
import { useOfferedProviders } from '@/api/get-config';
import { useAnnouncement } from '@/components/announcer';
import { AppointmentLoadError } from '@/components/api-error-alert';
import { appointmentStatusCopy } from '@/components/appointment-status-copy';
import { AppointmentSummary } from '@/components/appointment-summary';
import { Loading } from '@/components/loading';
import { PaymentOptions } from '@/components/payment-options';
import { paths } from '@/config/paths';
import type { AppointmentOutput } from '@/lib/api/generated';
import { formatDateTime } from '@/lib/format';

const noticeTone: Record<Exclude<AppointmentOutput['status'], 'pending_payment'>, string> = {
  confirmed: 'notice-success',
  payment_processing: 'notice-info',
  expired: 'notice-warning',
  cancelled: 'notice-warning',
};

function StateNotice({ appointment }: { appointment: AppointmentOutput }) {
  const { status } = appointment;
  if (status === 'pending_payment') return null;
  const copy = appointmentStatusCopy[status];
  return (
    <div className={`notice ${noticeTone[status]}`}>
      <h2>{copy.title}</h2>
      {copy.detail ? <p>{copy.detail}</p> : null}
      {status === 'payment_processing' ? (
        <p>
          <Link to={paths.checkoutReturn.href(appointment.id)}>See the payment status</Link>
        </p>
      ) : null}
      {status === 'expired' || status === 'cancelled' ? (
        <p>
          <Link className="button button-primary" to={paths.book.href()}>
            Book again
          </Link>
        </p>
      ) : null}
    </div>
  );
}

export function CheckoutView({ appointmentId }: { appointmentId: string }) {
  const query = useAppointment(appointmentId);
  // Loaded beside the appointment, so the pay buttons appear with the page.
  const offered = useOfferedProviders();
  useAnnouncement(query.data ? `${appointmentStatusCopy[query.data.status].title}.` : null);

  if (query.isPending || offered.isPending) return <Loading label="Loading your appointment…" />;
  if (query.isError) {
    return <AppointmentLoadError error={query.error} onRetry={() => void query.refetch()} />;
  }

  const appointment = query.data;
  return (
    <>
      <AppointmentSummary appointment={appointment} />
      {appointment.status === 'pending_payment' ? (
        <section aria-labelledby="pay-heading" className="pay-section">
          <h2 id="pay-heading">How would you like to pay?</h2>
          {appointment.hold_expires_at ? (
            <p className="muted">We are holding this time for you until {formatDateTime(appointment.hold_expires_at)}.</p>
          ) : null}
          <PaymentOptions appointmentId={appointment.id} />
        </section>
      ) : (
        <StateNotice appointment={appointment} />
      )}
    </>
  );
}
