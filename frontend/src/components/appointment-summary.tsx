import { formatDateTime, formatMoney } from '@/lib/format';
import type { AppointmentOutput } from '@/lib/api/generated';

/** What is being paid for, with the server's price (formatted, never computed). */
export function AppointmentSummary({ appointment }: { appointment: AppointmentOutput }) {
  return (
    <dl className="summary">
      <div>
        <dt>Practitioner</dt>
        <dd>{appointment.practitioner_name}</dd>
      </div>
      <div>
        <dt>Service</dt>
        <dd>{appointment.service_name}</dd>
      </div>
      <div>
        <dt>When</dt>
        <dd>{formatDateTime(appointment.appointment_time)}</dd>
      </div>
      <div>
        <dt>Patient</dt>
        <dd>
          {appointment.client_name}
          <br />
          <span className="muted">{appointment.client_email}</span>
        </dd>
      </div>
      <div className="summary-total">
        <dt>Total</dt>
        <dd>{formatMoney(appointment.amount_cents, appointment.currency)}</dd>
      </div>
    </dl>
  );
}
