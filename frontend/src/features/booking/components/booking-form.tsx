import { useState, type ReactNode, type SyntheticEvent } from 'react';

import { useCheckoutConfig } from '@/api/get-config';
import { useAnnouncement } from '@/components/announcer';
import { ApiErrorAlert } from '@/components/api-error-alert';
import { Loading } from '@/components/loading';
import type { AppointmentOutput, CheckoutConfig } from '@/lib/api/generated';
import { isApiError } from '@/lib/api-client';
import { formatMoney, patientTimeZone, toDateInputValue } from '@/lib/format';

import { useCreateAppointment } from '../api/create-appointment';
import {
  bookingFields,
  parseBookingForm,
  type BookingField,
  type BookingFieldErrors,
  type BookingFormValues,
} from '../booking-schema';
import { US_STATES } from '../us-states';

const emptyValues: BookingFormValues = {
  practitioner: '',
  service: '',
  date: '',
  time: '',
  client_name: '',
  client_email: '',
  client_state: '',
};

/** The DOM id of the control that shows each API field's errors (the first one gets focus). */
const fieldControlId: Record<BookingField, string> = {
  practitioner: 'practitioner',
  service: 'service',
  appointment_time: 'appointment_date',
  client_name: 'client_name',
  client_email: 'client_email',
  client_state: 'client_state',
};
const SLOT_TAKEN = 'That time was just taken. Please choose another time.';

function focusFirstError(errors: BookingFieldErrors): void {
  const first = bookingFields.find((name) => errors[name]?.length);
  if (first) {
    // Wait for the error text to render so the screen reader reads it with the field.
    setTimeout(() => document.getElementById(fieldControlId[first])?.focus(), 0);
  }
}

function errorId(name: BookingField): string {
  return `${name}-error`;
}

function describedBy(...ids: (string | false | undefined)[]): string | undefined {
  const joined = ids.filter(Boolean).join(' ');
  return joined || undefined;
}

function FieldError({ name, errors }: { name: BookingField; errors: BookingFieldErrors }) {
  const messages = errors[name];
  if (!messages?.length) return null;
  return (
    <p id={errorId(name)} className="field-error">
      {messages.join(' ')}
    </p>
  );
}

function Field({ label, htmlFor, children, hint }: { label: string; htmlFor: string; children: ReactNode; hint?: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={htmlFor}>{label}</label>
      {hint}
      {children}
    </div>
  );
}

function bookingWindow(config: CheckoutConfig): { min: string; max: string } {
  const now = Date.now();
  return {
    min: toDateInputValue(new Date(now + config.min_lead_minutes * 60_000)),
    max: toDateInputValue(new Date(now + config.booking_horizon_days * 86_400_000)),
  };
}

export function BookingForm({ onBooked }: { onBooked: (appointment: AppointmentOutput) => void }) {
  const configQuery = useCheckoutConfig();

  if (configQuery.isPending) return <Loading label="Loading practitioners…" />;
  if (configQuery.isError) {
    return <ApiErrorAlert error={configQuery.error} onRetry={() => void configQuery.refetch()} />;
  }
  return <BookingFormFields config={configQuery.data} onBooked={onBooked} />;
}

function BookingFormFields({ config, onBooked }: { config: CheckoutConfig; onBooked: (appointment: AppointmentOutput) => void }) {
  const [values, setValues] = useState<BookingFormValues>(emptyValues);
  const [errors, setErrors] = useState<BookingFieldErrors>({});
  const [announcement, setAnnouncement] = useState('');
  const createAppointment = useCreateAppointment({ onSuccess: onBooked });
  useAnnouncement(announcement);

  const practitioner = config.practitioners.find((p) => p.name === values.practitioner);
  const service = practitioner?.services.find((s) => s.slug === values.service);
  const dateWindow = bookingWindow(config);
  const timeZone = patientTimeZone();
  const busy = createAppointment.isPending || createAppointment.isSuccess;

  const set = (name: keyof BookingFormValues) => (event: { target: { value: string } }) => {
    const value = event.target.value;
    setValues((current) => {
      const next = { ...current, [name]: value };
      // A service belongs to one practitioner: changing practitioner clears a service it does not offer.
      if (name === 'practitioner') {
        const chosen = config.practitioners.find((p) => p.name === value);
        if (!chosen?.services.some((s) => s.slug === current.service)) next.service = '';
      }
      return next;
    });
  };

  const showErrors = (next: BookingFieldErrors, summary: string) => {
    setErrors(next);
    setAnnouncement(summary);
    focusFirstError(next);
  };

  const submit = () => {
    if (busy) return;
    const parsed = parseBookingForm(values);
    if (!parsed.success) {
      showErrors(parsed.errors, 'Please correct the highlighted fields.');
      return;
    }
    setErrors({});
    setAnnouncement('Booking your appointment…');
    createAppointment.mutate(parsed.data, {
      onError: (error) => {
        if (!isApiError(error)) return;
        if (error.code === 'conflict') {
          showErrors({ appointment_time: [SLOT_TAKEN] }, SLOT_TAKEN);
        } else if (error.code === 'validation_error' && Object.keys(error.errors).length > 0) {
          const known: BookingFieldErrors = {};
          for (const name of bookingFields) {
            const messages = error.errors[name];
            if (messages?.length) known[name] = messages;
          }
          showErrors(known, 'Please correct the highlighted fields.');
        } else {
          setAnnouncement('');
        }
      },
    });
  };

  const onSubmit = (event: SyntheticEvent<HTMLFormElement>) => {
    event.preventDefault();
    submit();
  };

  const serverError = isApiError(createAppointment.error) ? createAppointment.error : null;
  // Field errors are shown by their fields; errors for fields this form does not have are listed below.
  const otherServerErrors = serverError
    ? Object.entries(serverError.errors)
        .filter(([name]) => !bookingFields.includes(name as BookingField))
        .flatMap(([, messages]) => messages)
    : [];
  const handledByFields =
    serverError !== null &&
    (serverError.code === 'conflict' ||
      (serverError.code === 'validation_error' && Object.keys(serverError.errors).length > 0));
  const showGeneralError = createAppointment.isError && !handledByFields;

  const invalid = (name: BookingField) => (errors[name]?.length ? true : undefined);
  // What every control shares: its value, change handler, and the error it is described by.
  const control = (key: keyof BookingFormValues, field: BookingField, ...notes: string[]) => ({
    value: values[key],
    onChange: set(key),
    'aria-invalid': invalid(field),
    'aria-describedby': describedBy(...notes, invalid(field) && errorId(field)),
  });

  return (
    <form className="form" noValidate onSubmit={onSubmit} aria-describedby="booking-note">
      <p id="booking-note" className="muted">
        All fields are required.
      </p>

      <Field label="Practitioner" htmlFor="practitioner">
        <select
          id="practitioner"
          name="practitioner"
          {...control('practitioner', 'practitioner')}
        >
          <option value="">Choose a practitioner</option>
          {config.practitioners.map((p) => (
            <option key={p.name} value={p.name}>
              {p.name}
            </option>
          ))}
        </select>
        <FieldError name="practitioner" errors={errors} />
      </Field>

      <Field label="Service" htmlFor="service">
        <select
          id="service"
          name="service"
          disabled={!practitioner}
          {...control('service', 'service', 'service-price')}
        >
          <option value="">{practitioner ? 'Choose a service' : 'Choose a practitioner first'}</option>
          {practitioner?.services.map((s) => (
            <option key={s.slug} value={s.slug}>
              {s.name} — {formatMoney(s.amount_cents, config.currency)}
            </option>
          ))}
        </select>
        <p id="service-price" className="price-line">
          {service ? (
            <>
              Price: <strong>{formatMoney(service.amount_cents, config.currency)}</strong>
            </>
          ) : (
            'The price is shown once you choose a service.'
          )}
        </p>
        <FieldError name="service" errors={errors} />
      </Field>

      <fieldset className="fieldset" aria-describedby={describedBy('time-zone-note', invalid('appointment_time') && errorId('appointment_time'))}>
        <legend>Date and time</legend>
        <p id="time-zone-note" className="muted">
          Times are in your time zone ({timeZone}).
        </p>
        <div className="row">
          <Field label="Date" htmlFor="appointment_date">
            <input
              id="appointment_date"
              name="appointment_date"
              type="date"
              min={dateWindow.min}
              max={dateWindow.max}
              {...control('date', 'appointment_time')}
            />
          </Field>
          <Field label="Time" htmlFor="appointment_clock">
            <input
              id="appointment_clock"
              name="appointment_clock"
              type="time"
              {...control('time', 'appointment_time')}
            />
          </Field>
        </div>
        <FieldError name="appointment_time" errors={errors} />
      </fieldset>

      <Field label="Full name" htmlFor="client_name">
        <input
          id="client_name"
          name="client_name"
          type="text"
          autoComplete="name"
          {...control('client_name', 'client_name')}
        />
        <FieldError name="client_name" errors={errors} />
      </Field>

      <Field label="Email" htmlFor="client_email">
        <input
          id="client_email"
          name="client_email"
          type="email"
          autoComplete="email"
          inputMode="email"
          {...control('client_email', 'client_email')}
        />
        <FieldError name="client_email" errors={errors} />
      </Field>

      <Field label="State" htmlFor="client_state">
        <select
          id="client_state"
          name="client_state"
          autoComplete="address-level1"
          {...control('client_state', 'client_state')}
        >
          <option value="">Choose your state</option>
          {US_STATES.map((s) => (
            <option key={s.code} value={s.code}>
              {s.name}
            </option>
          ))}
        </select>
        <FieldError name="client_state" errors={errors} />
      </Field>

      {showGeneralError ? (
        <ApiErrorAlert error={createAppointment.error} onRetry={submit} />
      ) : null}
      {otherServerErrors.length > 0 ? (
        <div role="alert" className="alert alert-error">
          {otherServerErrors.map((message) => (
            <p key={message}>{message}</p>
          ))}
        </div>
      ) : null}

      <button type="submit" className="button button-primary button-block" disabled={busy}>
        {busy ? 'Booking…' : 'Continue to payment'}
      </button>
    </form>
  );
}
