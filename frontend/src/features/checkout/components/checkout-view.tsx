import { Link } from 'react-router';

import { useAppointment } from '@/api/get-appointment';
import { useAnnouncement } from '@/components/announcer';
import { AppointmentLoadError } from '@/components/api-error-alert';
import { AppointmentSummary } from '@/components/appointment-summary';
import { Loading } from '@/components/loading';
import { PaymentOptions } from '@/components/payment-options';
import { paths } from '@/config/paths';
import type { AppointmentOutput } from '@/lib/api/generated';
import { formatDateTime } from '@/lib/format';

function StateNotice({ appointment }: { appointment: AppointmentOutput }) {
  switch (appointment.status) {
    case 'confirmed':
      return (
        <div className="notice notice-success">
          <h2>This appointment is already paid and confirmed</h2>
          <p>There is nothing more to pay.</p>
        </div>
      );
    case 'payment_processing':
      return (
        <div className="notice notice-info">
          <h2>Payment received, under HSA/FSA review</h2>
          <p>
            A practitioner is reviewing your health survey. If HSA/FSA use is approved, your appointment is confirmed; if
            not, you can pay by card instead. There is nothing to do now.
          </p>
          <p>
            <Link to={paths.checkoutReturn.href(appointment.id)}>See the payment status</Link>
          </p>
        </div>
      );
    case 'expired':
      return (
        <div className="notice notice-warning">
          <h2>This booking has expired</h2>
          <p>The time was held for a limited period and has been released. Nothing was charged.</p>
          <p>
            <Link className="button button-primary" to={paths.book.href()}>
              Book again
            </Link>
          </p>
        </div>
      );
    case 'cancelled':
      return (
        <div className="notice notice-warning">
          <h2>This appointment was cancelled</h2>
          <p>
            <Link className="button button-primary" to={paths.book.href()}>
              Book again
            </Link>
          </p>
        </div>
      );
    case 'pending_payment':
      return null;
  }
}

const stateAnnouncements: Record<AppointmentOutput['status'], string> = {
  pending_payment: 'Ready to pay.',
  payment_processing: 'Payment received, under HSA/FSA review.',
  confirmed: 'This appointment is already paid and confirmed.',
  expired: 'This booking has expired.',
  cancelled: 'This appointment was cancelled.',
};

export function CheckoutView({ appointmentId }: { appointmentId: string }) {
  const query = useAppointment(appointmentId);
  useAnnouncement(query.data ? stateAnnouncements[query.data.status] : null);

  if (query.isPending) return <Loading label="Loading your appointment…" />;
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
