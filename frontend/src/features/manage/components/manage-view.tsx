import { useState } from 'react';

import { useAppointment } from '@/api/get-appointment';
import { useRefreshAvailability } from '@/api/get-availability';
import { useCheckoutConfig } from '@/api/get-config';
import { useAnnouncement } from '@/components/announcer';
import { ApiErrorAlert } from '@/components/api-error-alert';
import { AppointmentSummary } from '@/components/appointment-summary';
import { Loading } from '@/components/loading';
import { SlotPicker } from '@/components/slot-picker';
import { formatSlot } from '@/components/slot-picker/slot-dates';
import { paths } from '@/config/paths';
import type { AppointmentOutput, CancellationTerms } from '@/lib/api/generated';
import { isApiError } from '@/lib/api-client';
import { formatDateTime, formatMoney, patientTimeZone } from '@/lib/format';
import { Link } from '@/lib/router';

import { useCancelAppointment, useRescheduleAppointment } from '../api/manage-appointment';
import { downloadIcs } from '../calendar';

const statusLabel: Record<AppointmentOutput['status'], string> = {
  pending_payment: 'Booked, waiting for payment',
  payment_processing: 'Payment received, under HSA/FSA review',
  confirmed: 'Confirmed and paid',
  cancelled: 'Cancelled',
  expired: 'Expired: the time was released because it was not paid',
};

const methodName = (appointment: AppointmentOutput) =>
  appointment.latest_payment_session?.provider === 'truemed' ? 'the HSA/FSA account you paid with' : 'the card you paid with';

/** The money side of a cancelled visit, from the latest payment session the server sent. */
function refundState(appointment: AppointmentOutput): string | null {
  const session = appointment.latest_payment_session;
  const amount = formatMoney(appointment.amount_cents, appointment.currency);
  if (session?.status === 'refunded') return `Refunded: ${amount} went back to ${methodName(appointment)}.`;
  if (session?.status === 'paid') return `A refund of ${amount} to ${methodName(appointment)} is on its way.`;
  return 'Nothing was charged.';
}

/** The visit can still change: not started, not cancelled or expired. */
function changeable(appointment: AppointmentOutput): boolean {
  const open = appointment.status === 'confirmed' || appointment.status === 'pending_payment';
  return open && new Date(appointment.appointment_time).getTime() > Date.now();
}

/**
 * A patient's own appointment, opened from the manage link (token in the URL fragment) or from this browser:
 * details and status, "Add to calendar", cancel (stating the refund first) and reschedule to another open slot.
 */
export function ManageView({ appointmentId, manageUrl }: { appointmentId: string; manageUrl: string }) {
  const query = useAppointment(appointmentId, { staleTime: 0 });
  if (query.isPending) return <Loading label="Loading your appointment…" />;
  if (query.isError) {
    if (isApiError(query.error) && query.error.code === 'not_found') {
      return (
        <div role="alert" className="alert alert-error">
          <p className="alert-title">This link does not open an appointment</p>
          <p>
            It may be incomplete, or it was made for another browser. Open the link from your confirmation email
            again, exactly as it is, or contact the clinic.
          </p>
        </div>
      );
    }
    return <ApiErrorAlert error={query.error} onRetry={() => void query.refetch()} />;
  }
  return <ManageDetails appointment={query.data} manageUrl={manageUrl} />;
}

function ManageDetails({ appointment, manageUrl }: { appointment: AppointmentOutput; manageUrl: string }) {
  const [mode, setMode] = useState<'view' | 'cancel' | 'reschedule'>('view');
  const canChange = changeable(appointment);
  // The server's terms (appointment.cancellation): when it says no, there is no cancel button, only its reason.
  const terms = appointment.cancellation;
  const cancelRefused = terms !== undefined && !terms.allowed;
  return (
    <>
      <div className={`notice ${appointment.status === 'confirmed' ? 'notice-success' : 'notice-info'}`} data-testid="manage-status">
        <h2>{statusLabel[appointment.status]}</h2>
        {appointment.status === 'cancelled' ? <p>{refundState(appointment)}</p> : null}
        {appointment.status === 'pending_payment' ? (
          <p>
            <Link to={paths.checkout.href(appointment.id)}>Pay for this appointment</Link>
          </p>
        ) : null}
      </div>
      <AppointmentSummary appointment={appointment} />
      {appointment.status === 'confirmed' ? (
        <p className="actions">
          <button
            type="button"
            className="button button-secondary"
            onClick={() => {
              downloadIcs(appointment, manageUrl);
            }}
          >
            Add to calendar
          </button>
          <Link className="button button-secondary" to={paths.receipt.href(appointment.id)}>
            Receipt (for HSA/FSA claims)
          </Link>
        </p>
      ) : null}
      {canChange && mode === 'view' ? (
        <>
          <p className="actions">
            <button type="button" className="button button-secondary" onClick={() => { setMode('reschedule'); }}>
              Change the time
            </button>
            {cancelRefused ? null : (
              <button type="button" className="button button-secondary" onClick={() => { setMode('cancel'); }}>
                Cancel appointment
              </button>
            )}
          </p>
          {cancelRefused ? (
            <p className="muted" data-testid="cancel-not-allowed">
              {terms.message}
            </p>
          ) : null}
        </>
      ) : null}
      {canChange && mode === 'cancel' ? (
        <CancelPanel appointment={appointment} onClose={() => { setMode('view'); }} />
      ) : null}
      {canChange && mode === 'reschedule' ? (
        <ReschedulePanel appointment={appointment} onClose={() => { setMode('view'); }} />
      ) : null}
    </>
  );
}

/** The refund a cancel now would make, in the server's terms (amount and cutoff as it sent them). */
function refundStatement(terms: CancellationTerms, appointment: AppointmentOutput): string {
  if (terms.refund_amount_cents <= 0) return terms.message;
  const amount = formatMoney(terms.refund_amount_cents, appointment.currency);
  const cutoff = terms.refund_cutoff_at ? ` Cancellations are refunded in full until ${formatDateTime(terms.refund_cutoff_at)}.` : '';
  return `If you cancel now, ${amount} is refunded in full to ${methodName(appointment)}.${cutoff} ${terms.message}`;
}

function CancelPanel({ appointment, onClose }: { appointment: AppointmentOutput; onClose: () => void }) {
  const cancel = useCancelAppointment(appointment.id);
  const terms = appointment.cancellation;
  // What a cancel now refunds: the server's figure when it sent its terms, else the amount of a paid visit.
  const refundCents = terms ? terms.refund_amount_cents : appointment.status === 'confirmed' ? appointment.amount_cents : 0;
  const paid = refundCents > 0;
  const amount = formatMoney(refundCents, appointment.currency);
  useAnnouncement(cancel.isPending ? 'Cancelling…' : null);
  // 409: the server's policy refuses (too close to the visit, or already started): its message says why.
  const refused = isApiError(cancel.error) && cancel.error.code === 'conflict' ? cancel.error : null;
  return (
    <section className="notice notice-warning" aria-labelledby="cancel-title">
      <h2 id="cancel-title">Cancel this appointment?</h2>
      <p data-testid="refund-statement">
        {terms ? refundStatement(terms, appointment) : paid
          ? `You paid ${amount}. If you cancel now, ${amount} is refunded in full to ${methodName(appointment)}, as long as the clinic's cancellation notice has not passed; if it has, nothing changes and we tell you so.`
          : 'Nothing has been charged, so there is nothing to refund. The time is released for other patients.'}
      </p>
      {refused ? (
        <div role="alert" className="alert alert-error">
          <p className="alert-title">This appointment can no longer be cancelled online</p>
          <p>{refused.message} Please contact the clinic; nothing was changed or refunded.</p>
        </div>
      ) : cancel.error ? (
        <ApiErrorAlert error={cancel.error} onRetry={() => { cancel.mutate(); }} />
      ) : null}
      <p className="actions">
        {refused ? null : (
          <button type="button" className="button button-primary" disabled={cancel.isPending} onClick={() => { cancel.mutate(); }}>
            {cancel.isPending ? 'Cancelling…' : paid ? `Cancel and refund ${amount}` : 'Cancel appointment'}
          </button>
        )}
        <button type="button" className="button button-secondary" disabled={cancel.isPending} onClick={onClose}>
          Keep my appointment
        </button>
      </p>
    </section>
  );
}

function ReschedulePanel({ appointment, onClose }: { appointment: AppointmentOutput; onClose: () => void }) {
  const config = useCheckoutConfig();
  const reschedule = useRescheduleAppointment(appointment.id);
  const refreshAvailability = useRefreshAvailability();
  const [day, setDay] = useState('');
  const [time, setTime] = useState('');
  const timeZone = patientTimeZone();
  useAnnouncement(reschedule.isSuccess ? `Your appointment was moved to ${formatSlot(appointment.appointment_time, timeZone)}.` : null);

  if (reschedule.isSuccess) {
    return (
      <div className="notice notice-success">
        <h2>Your appointment was moved</h2>
        <p>It is now {formatSlot(appointment.appointment_time, timeZone)}. The price is unchanged.</p>
        <p>
          <button type="button" className="button button-secondary" onClick={onClose}>
            Done
          </button>
        </p>
      </div>
    );
  }
  if (config.isPending) return <Loading label="Loading open times…" />;
  if (config.isError) return <ApiErrorAlert error={config.error} onRetry={() => void config.refetch()} />;

  const taken =
    isApiError(reschedule.error) && (reschedule.error.code === 'conflict' || reschedule.error.code === 'validation_error')
      ? reschedule.error
      : null;
  const move = () => {
    if (!time) return;
    reschedule.mutate(time, {
      onError: (error) => {
        if (isApiError(error) && (error.code === 'conflict' || error.code === 'validation_error')) {
          setTime('');
          void refreshAvailability();
        }
      },
    });
  };
  return (
    <section className="notice notice-info" aria-labelledby="reschedule-title">
      <h2 id="reschedule-title">Choose a new time</h2>
      <p className="muted">Same practitioner, service and price. Times are shown in your time zone.</p>
      <SlotPicker
        practitionerId={appointment.practitioner}
        serviceSlug={appointment.service}
        timeZone={timeZone}
        horizonDays={config.data.booking_horizon_days}
        day={day}
        appointmentTime={time}
        onDayChange={(next) => {
          setDay(next);
          setTime('');
        }}
        onTimeChange={setTime}
      />
      {taken ? (
        <div role="alert" className="alert alert-error">
          <p className="alert-title">That time is no longer open</p>
          <p>{taken.message} Please pick another time; the open times are up to date.</p>
        </div>
      ) : reschedule.error ? (
        <ApiErrorAlert error={reschedule.error} onRetry={move} />
      ) : null}
      <p className="actions">
        <button type="button" className="button button-primary" disabled={!time || reschedule.isPending} onClick={move}>
          {reschedule.isPending ? 'Moving…' : time ? `Move to ${formatSlot(time, timeZone)}` : 'Pick a new time'}
        </button>
        <button type="button" className="button button-secondary" disabled={reschedule.isPending} onClick={onClose}>
          Keep the current time
        </button>
      </p>
    </section>
  );
}
