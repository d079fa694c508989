import { Link } from '@/lib/router';

import { useOfferedProviders } from '@/api/get-config';
import { useAnnouncement } from '@/components/announcer';
import { ApiErrorAlert, AppointmentLoadError } from '@/components/api-error-alert';
import { detailAfterPayment, titleAfterPayment } from '@/components/appointment-status-copy';
import { AppointmentSummary } from '@/components/appointment-summary';
import { Loading } from '@/components/loading';
import { PageHeading } from '@/components/page-heading';
import { PaymentOptions } from '@/components/payment-options';
import { paths } from '@/config/paths';
import type { AppointmentOutput } from '@/lib/api/generated';

import { usePaymentStatus } from '../hooks/use-payment-status';
import type { ReturnState } from '../return-state';

export interface ReturnParams {
  appointmentId: string | null;
  paymentSessionId: string | null;
}

/** States that are an appointment status take their words from the one status copy; the others are about the attempt. */
function headingFor(state: ReturnState): string {
  switch (state.kind) {
    case 'confirmed':
      return titleAfterPayment('confirmed');
    case 'review':
      return titleAfterPayment('payment_processing');
    case 'expired':
    case 'cancelled':
      return titleAfterPayment(state.kind);
    case 'failed':
      return state.provider === 'truemed' ? 'Your HSA/FSA payment was not approved' : 'Your payment did not go through';
    case 'waiting':
      return 'Checking your payment';
    case 'payment_cancelled':
      return 'Payment cancelled';
    case 'session_expired':
      return 'Your payment session timed out';
    case 'unverified':
      return 'We could not confirm your payment';
  }
}

export function PaymentReturnView({ appointmentId, paymentSessionId }: ReturnParams) {
  if (!appointmentId) {
    return (
      <>
        <PageHeading>We could not find a payment to check</PageHeading>
        <p>This link has no appointment in it, and this browser has no payment in progress.</p>
        <p>
          <Link className="button button-primary" to={paths.book.href()}>
            Book an appointment
          </Link>
        </p>
      </>
    );
  }
  return <PaymentStatus appointmentId={appointmentId} paymentSessionId={paymentSessionId} />;
}

function PaymentStatus({ appointmentId, paymentSessionId }: { appointmentId: string; paymentSessionId: string | null }) {
  const { appointment, sync, state, stoppedWaiting, checkAgain } = usePaymentStatus(appointmentId, paymentSessionId);
  // Loaded beside the appointment, so the pay buttons appear with a state that offers them (and only such a
  // state waits for it).
  const offered = useOfferedProviders();
  const showsPayButtons = state?.kind === 'failed' || state?.kind === 'unverified';
  useAnnouncement(state ? headingFor(state) : null);

  if (appointment.isError && !appointment.data) {
    return (
      <>
        <PageHeading>Checking your payment</PageHeading>
        <AppointmentLoadError error={appointment.error} onRetry={() => void appointment.refetch()} />
      </>
    );
  }

  if (!state || !appointment.data || (showsPayButtons && offered.isPending)) {
    return (
      <>
        <PageHeading>Checking your payment</PageHeading>
        <Loading label="Confirming your payment with our server…" />
      </>
    );
  }

  return (
    <>
      <PageHeading>{headingFor(state)}</PageHeading>
      <StateBody
        state={state}
        appointment={appointment.data}
        stoppedWaiting={stoppedWaiting}
        onCheckAgain={() => void checkAgain()}
      />
      {sync.isError && state.kind === 'waiting' ? (
        <ApiErrorAlert error={sync.error} onRetry={() => void sync.refetch()} />
      ) : null}
      {appointment.isError ? <ApiErrorAlert error={appointment.error} onRetry={() => void appointment.refetch()} /> : null}
      <AppointmentSummary appointment={appointment.data} />
    </>
  );
}

function StateBody({
  state,
  appointment,
  stoppedWaiting,
  onCheckAgain,
}: {
  state: ReturnState;
  appointment: AppointmentOutput;
  stoppedWaiting: boolean;
  onCheckAgain: () => void;
}) {
  const checkout = paths.checkout.href(appointment.id);
  switch (state.kind) {
    case 'waiting':
      return stoppedWaiting ? (
        <div className="notice notice-info">
          <p>We have not heard back from the payment provider yet. If you completed the payment, it can take a moment to arrive.</p>
          <p className="actions">
            <button type="button" className="button button-primary" onClick={onCheckAgain}>
              Check again
            </button>
            <Link className="button button-secondary" to={checkout}>
              Back to payment options
            </Link>
          </p>
        </div>
      ) : (
        <Loading label="Waiting for the payment provider to confirm your payment…" />
      );
    case 'confirmed':
      return (
        <div className="notice notice-success">
          <p>
            Thank you, {appointment.client_name}. {detailAfterPayment('confirmed')}
          </p>
          <p>
            <Link to={paths.manage.href(appointment.id)}>Manage your appointment</Link> (add it to your calendar,
            change the time or cancel).
          </p>
        </div>
      );
    case 'review':
      return (
        <div className="notice notice-info">
          <p>{detailAfterPayment('payment_processing')}</p>
          {stoppedWaiting ? (
            <p className="actions">
              <button type="button" className="button button-primary" onClick={onCheckAgain}>
                Check again
              </button>
            </p>
          ) : (
            <Loading label="Checking for updates…" />
          )}
        </div>
      );
    case 'failed':
      return (
        <div className="notice notice-warning">
          <p>
            {state.provider === 'truemed'
              ? 'Your HSA/FSA payment was not approved, so it was not taken. You can still pay by card to keep this time.'
              : 'Your card payment failed. You can try again.'}
          </p>
          <PaymentOptions
            appointmentId={appointment.id}
            variant="card-only"
            cardLabel={state.provider === 'truemed' ? 'Pay by card instead' : 'Pay by card again'}
          />
          <p>
            <Link to={checkout}>See all payment options</Link>
          </p>
        </div>
      );
    case 'unverified':
      return (
        <div className="notice notice-warning">
          <p>
            The amount the payment provider reported does not match this booking, so your appointment is not
            confirmed and that payment will be refunded in full. You can pay again to keep this time.
          </p>
          <PaymentOptions appointmentId={appointment.id} />
        </div>
      );
    case 'payment_cancelled':
    case 'session_expired':
      return (
        <div className="notice notice-warning">
          <p>Nothing was charged. Your time is still held for you for now.</p>
          <p>
            <Link className="button button-primary" to={checkout}>
              Back to payment options
            </Link>
          </p>
        </div>
      );
    case 'expired':
    case 'cancelled':
      return (
        <div className="notice notice-warning">
          <p>{detailAfterPayment(state.kind)}</p>
          <p>
            <Link className="button button-primary" to={paths.book.href()}>
              Book again
            </Link>
          </p>
        </div>
      );
  }
}
