import * as z from 'zod/mini';

import type { AppointmentCreateData } from '@/lib/api/generated';

/**
 * What the booking form holds. `practitioner` is the id `/api/config/` lists; `day` is the day chosen in the
 * slot picker and `appointment_time` one of its open slots, exactly as the availability API sent it (ISO 8601
 * with the patient's offset), so the time sent is always one the server offered.
 */
export interface BookingFormValues {
  practitioner: string;
  service: string;
  day: string;
  appointment_time: string;
  client_name: string;
  client_email: string;
  client_state: string;
}

export type BookingInput = AppointmentCreateData['body'];

/** The API's fields (without the deprecated alias): client and server errors are both shown by these. */
export type BookingField = Exclude<keyof BookingInput, 'provider_name'>;
export type BookingFieldErrors = Partial<Record<BookingField, string[]>>;

/** The order of the fields on the page: the first one with an error gets focus. */
export const bookingFields: readonly BookingField[] = [
  'practitioner',
  'service',
  'appointment_time',
  'client_name',
  'client_email',
  'client_state',
];

// A plausibility check only: the server decides what a valid address is.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * The form's rules, checked before anything is sent; every field's problem is reported at once (zod keeps
 * checking after a failed rule, and the object-level rules run while single fields fail). Parsing yields
 * the request body.
 */
export const bookingFormSchema = z.pipe(
  z
    .object({
      practitioner: z.string().check(z.minLength(1, 'Choose a practitioner.')),
      service: z.string(),
      day: z.string(),
      appointment_time: z.string(),
      client_name: z.string().check(z.trim(), z.minLength(1, 'Enter your full name.')),
      client_email: z
        .string()
        .check(
          z.trim(),
          z.minLength(1, 'Enter your email address.'),
          z.refine((email) => email === '' || EMAIL.test(email), 'Enter an email address like name@example.com.'),
        ),
      client_state: z.string().check(z.minLength(1, 'Choose your state.')),
    })
    .check(
      z.superRefine((values, ctx) => {
        // Asked for only once a practitioner is chosen: until then the service list is empty.
        if (values.practitioner && !values.service) {
          ctx.addIssue({ code: 'custom', path: ['service'], message: 'Choose a service.' });
        }
        if (!values.appointment_time) {
          const message = values.day ? 'Choose a time.' : 'Choose a day and a time.';
          ctx.addIssue({ code: 'custom', path: ['appointment_time'], message });
        }
      }),
    ),
  z.transform(
    (values: BookingFormValues): BookingInput => ({
      practitioner: values.practitioner,
      service: values.service,
      appointment_time: values.appointment_time,
      client_name: values.client_name,
      client_email: values.client_email,
      client_state: values.client_state,
    }),
  ),
);

/** The body to send, or the message(s) for each field that is not right yet. */
export function parseBookingForm(
  values: BookingFormValues,
): { success: true; data: BookingInput } | { success: false; errors: BookingFieldErrors } {
  const result = bookingFormSchema.safeParse(values);
  if (result.success) return { success: true, data: result.data };
  const errors: BookingFieldErrors = {};
  for (const issue of result.error.issues) {
    const field = bookingFields.find((name) => name === issue.path[0]);
    if (field) (errors[field] ??= []).push(issue.message);
  }
  return { success: false, errors };
}
