/**
 * The API contract (docs/architecture.md) as zod schemas. Every response is parsed with these at runtime;
 * the TypeScript types are inferred from them, so the types cannot drift from what is checked.
 * JSON stays snake_case and money stays integer cents, end to end.
 */
import { z } from 'zod';

const isoDateTime = z.iso.datetime({ offset: true });
const cents = z.number().int().nonnegative();

export const paymentProviderSchema = z.enum(['stripe', 'truemed']);
export type PaymentProvider = z.infer<typeof paymentProviderSchema>;

export const appointmentStatusSchema = z.enum([
  'pending_payment',
  'payment_processing',
  'confirmed',
  'cancelled',
  'expired',
]);
export type AppointmentStatus = z.infer<typeof appointmentStatusSchema>;

export const paymentStatusSchema = z.enum([
  'creating',
  'open',
  'processing',
  'paid',
  'failed',
  'canceled',
  'expired',
  'refunded',
]);
export type PaymentStatus = z.infer<typeof paymentStatusSchema>;

/** Only http(s) redirect targets: a `javascript:` URL from a compromised response must never be followed. */
const redirectUrl = z.url({ protocol: /^https?$/ });

export const paymentSessionSchema = z.object({
  id: z.string().min(1),
  appointment_id: z.string().min(1),
  provider: paymentProviderSchema,
  provider_session_id: z.string().nullable(),
  status: paymentStatusSchema,
  provider_status: z.string().nullable(),
  redirect_url: redirectUrl.nullable(),
  amount_cents: cents,
  currency: z.string(),
  expires_at: isoDateTime.nullable(),
  created_at: isoDateTime,
  updated_at: isoDateTime,
});
export type PaymentSession = z.infer<typeof paymentSessionSchema>;

export const appointmentSchema = z.object({
  id: z.string().min(1),
  provider_name: z.string(),
  service: z.string(),
  service_name: z.string(),
  appointment_time: isoDateTime,
  client_name: z.string(),
  client_email: z.string(),
  client_state: z.string(),
  status: appointmentStatusSchema,
  amount_cents: cents,
  currency: z.string(),
  hold_expires_at: isoDateTime.nullable(),
  created_at: isoDateTime,
  latest_payment_session: paymentSessionSchema.nullable(),
});
export type Appointment = z.infer<typeof appointmentSchema>;

export const serviceSchema = z.object({ slug: z.string().min(1), name: z.string(), amount_cents: cents });
export type Service = z.infer<typeof serviceSchema>;

export const practitionerSchema = z.object({ name: z.string().min(1), services: z.array(serviceSchema) });
export type Practitioner = z.infer<typeof practitionerSchema>;

export const checkoutConfigSchema = z.object({
  currency: z.string(),
  payment_providers: z.array(z.string()),
  practitioners: z.array(practitionerSchema),
  booking_horizon_days: z.number().int().positive(),
  min_lead_minutes: z.number().int().nonnegative(),
  sandbox: z.boolean(),
});
export type CheckoutConfig = z.infer<typeof checkoutConfigSchema>;

export const errorEnvelopeSchema = z.object({
  code: z.string().min(1),
  message: z.string(),
  errors: z.record(z.string(), z.array(z.string())).optional().default({}),
});
export type ErrorEnvelope = z.infer<typeof errorEnvelopeSchema>;

export interface AppointmentCreateInput {
  provider_name: string;
  service: string;
  appointment_time: string;
  client_name: string;
  client_email: string;
  client_state: string;
}
