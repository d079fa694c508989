import { useEffect, useState, type ReactNode, type SyntheticEvent } from 'react';

import { useRefreshAvailability } from '@/api/get-availability';
import { useCheckoutConfig } from '@/api/get-config';
import { useAnnouncement } from '@/components/announcer';
import { ApiErrorAlert } from '@/components/api-error-alert';
import { Loading } from '@/components/loading';
import { focusSlotPicker, preloadSlotPicker, SlotPicker } from '@/components/slot-picker';
import { describeTimeZone, formatSlot } from '@/components/slot-picker/slot-dates';
import type { AppointmentOutput, CheckoutConfig } from '@/lib/api/generated';
import { isApiError } from '@/lib/api-client';
import { formatMoney, patientTimeZone } from '@/lib/format';

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
  day: '',
  appointment_time: '',
  client_name: '',
  client_email: '',
  client_state: '',
};

/** The DOM id of the control that shows each API field's errors (the time is the slot picker's business). */
const fieldControlId: Record<Exclude<BookingField, 'appointment_time'>, string> = {
  practitioner: 'practitioner',
  service: 'service',
  client_name: 'client_name',
  client_email: 'client_email',
  client_state: 'client_state',
};
const SLOT_TAKEN = 'That time was just taken. Please pick another time; the open times are up to date.';
const CORRECT_FIELDS = 'Please correct the highlighted fields.';

function focusField(field: BookingField): void {
  if (field === 'appointment_time') {
    if (!focusSlotPicker()) document.getElementById('slot-fieldset')?.focus();
  } else {
    document.getElementById(fieldControlId[field])?.focus();
  }
}

function focusFirstError(errors: BookingFieldErrors): void {
  const first = bookingFields.find((name) => errors[name]?.length);
  if (first) {
    // Wait for the error text to render so the screen reader reads it with the field.
    setTimeout(() => {
      focusField(first);
    }, 0);
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

function formatLength(minutes: number): string {
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

export function BookingForm({ onBooked }: { onBooked: (appointment: AppointmentOutput) => void }) {
  const configQuery = useCheckoutConfig();
  // The picker's chunk loads while the practitioners load, off the path to the first paint.
  useEffect(preloadSlotPicker, []);

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
  const [timeZone] = useState(patientTimeZone);
  const createAppointment = useCreateAppointment({ onSuccess: onBooked });
  const refreshAvailability = useRefreshAvailability();
  useAnnouncement(announcement);

  const practitioner = config.practitioners.find((p) => p.id === values.practitioner);
  const service = practitioner?.services.find((s) => s.slug === values.service);
  const busy = createAppointment.isPending || createAppointment.isSuccess;

  const set = (name: keyof BookingFormValues) => (event: { target: { value: string } }) => {
    const value = event.target.value;
    setValues((current) => {
      const next = { ...current, [name]: value };
      // A service belongs to one practitioner: changing practitioner clears a service it does not offer.
      if (name === 'practitioner') {
        const chosen = config.practitioners.find((p) => p.id === value);
        if (!chosen?.services.some((s) => s.slug === current.service)) next.service = '';
      }
      // Open times belong to one practitioner and one service (its length): a new choice starts again.
      if ((name === 'practitioner' || name === 'service') && next[name] !== current[name]) {
        next.day = '';
        next.appointment_time = '';
      }
      return next;
    });
  };

  const chooseDay = (day: string) => {
    // A time belongs to its day.
    setValues((current) => (current.day === day ? current : { ...current, day, appointment_time: '' }));
  };
  const chooseTime = (appointmentTime: string) => {
    setValues((current) => ({ ...current, appointment_time: appointmentTime }));
    // A new pick answers "choose a time" and "that time was just taken".
    setErrors((current) => {
      if (!current.appointment_time) return current;
      const rest = { ...current };
      delete rest.appointment_time;
      return rest;
    });
  };

  /** The chosen time is no longer open: refetch the slots, drop the time, then bring the keyboard back to them. */
  const offerOtherTimes = (next: BookingFieldErrors, summary: string) => {
    setValues((current) => ({ ...current, appointment_time: '' }));
    setErrors(next);
    setAnnouncement(summary);
    void refreshAvailability().finally(() => {
      focusFirstError(next);
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
      showErrors(parsed.errors, CORRECT_FIELDS);
      return;
    }
    setErrors({});
    setAnnouncement('Booking your appointment…');
    createAppointment.mutate(parsed.data, {
      onError: (error) => {
        if (!isApiError(error)) return;
        if (error.code === 'conflict') {
          offerOtherTimes({ appointment_time: [SLOT_TAKEN] }, SLOT_TAKEN);
        } else if (error.code === 'validation_error' && Object.keys(error.errors).length > 0) {
          // Every field at fault comes in one answer: all are shown together.
          const known: BookingFieldErrors = {};
          for (const name of bookingFields) {
            const messages = error.errors[name];
            if (messages?.length) known[name] = messages;
          }
          // A time the server no longer offers (too soon by now, hours changed): show the current open times.
          if (known.appointment_time) offerOtherTimes(known, CORRECT_FIELDS);
          else showErrors(known, CORRECT_FIELDS);
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
            <option key={p.id} value={p.id}>
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
          {...control('service', 'service', 'service-details')}
        >
          <option value="">{practitioner ? 'Choose a service' : 'Choose a practitioner first'}</option>
          {practitioner?.services.map((s) => (
            <option key={s.slug} value={s.slug}>
              {s.name} — {formatMoney(s.amount_cents, config.currency)}
            </option>
          ))}
        </select>
        <p id="service-details" className="price-line">
          {service ? (
            <>
              Length: <strong>{formatLength(service.duration_minutes)}</strong> · Price:{' '}
              <strong>{formatMoney(service.amount_cents, config.currency)}</strong>
            </>
          ) : (
            'The length and price are shown once you choose a service.'
          )}
        </p>
        <FieldError name="service" errors={errors} />
      </Field>

      <fieldset
        id="slot-fieldset"
        className="fieldset"
        tabIndex={-1}
        aria-describedby={describedBy('time-zone-note', invalid('appointment_time') && errorId('appointment_time'))}
      >
        <legend>Day and time</legend>
        <p id="time-zone-note" className="muted">
          Times are shown in your time zone: {describeTimeZone(timeZone)}.
        </p>
        {practitioner && service ? (
          <SlotPicker
            key={`${practitioner.id}/${service.slug}`}
            practitionerId={practitioner.id}
            serviceSlug={service.slug}
            timeZone={timeZone}
            horizonDays={config.booking_horizon_days}
            day={values.day}
            appointmentTime={values.appointment_time}
            onDayChange={chooseDay}
            onTimeChange={chooseTime}
            errorId={invalid('appointment_time') && errorId('appointment_time')}
          />
        ) : (
          <p className="muted">Choose a practitioner and a service to see the open times.</p>
        )}
        {values.appointment_time && service ? (
          <p className="chosen-slot">
            Your visit: <strong>{formatSlot(values.appointment_time, timeZone)}</strong> ({formatLength(service.duration_minutes)})
          </p>
        ) : null}
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
