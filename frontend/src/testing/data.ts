import type { AppointmentOutput, CheckoutConfig, PaymentSessionOutput, Receipt } from '@/lib/api/generated';

let counter = 0;
/** A valid UUID (v4 layout, as the server's), distinct per call; the prefix tells appointments from sessions. */
const nextId = (prefix: 'a' | 'b') => {
  counter += 1;
  return `${prefix.repeat(8)}-0000-4000-8000-${String(counter).padStart(12, '0')}`;
};

export const testConfig: CheckoutConfig = {
  currency: 'usd',
  payment_providers: ['stripe', 'truemed'],
  payment_methods: [
    { provider: 'stripe', display_name: 'Card' },
    { provider: 'truemed', display_name: 'HSA/FSA' },
  ],
  practitioners: [
    {
      id: 'ana-reyes',
      name: 'Dr. Ana Reyes',
      time_zone: 'America/New_York',
      services: [
        { slug: 'initial_consultation', name: 'Initial consultation (60 min)', duration_minutes: 60, buffer_minutes: 15, amount_cents: 15000 },
        { slug: 'follow_up', name: 'Follow-up visit (30 min)', duration_minutes: 30, buffer_minutes: 10, amount_cents: 9000 },
      ],
    },
    {
      id: 'sam-lee',
      name: 'Dr. Sam Lee',
      time_zone: 'America/Chicago',
      services: [
        { slug: 'nutrition_plan', name: 'Nutrition plan session (45 min)', duration_minutes: 45, buffer_minutes: 15, amount_cents: 12550 },
      ],
    },
  ],
  booking_horizon_days: 90,
  min_lead_minutes: 60,
  sandbox: true,
};

export function buildPaymentSession(overrides: Partial<PaymentSessionOutput> = {}): PaymentSessionOutput {
  const now = new Date().toISOString();
  return {
    id: nextId('b'),
    appointment_id: '00000000-0000-4000-8000-000000000000',
    provider: 'stripe',
    provider_session_id: 'cs_test_123',
    status: 'open',
    provider_status: 'open',
    redirect_url: 'https://checkout.example.test/pay/cs_test_123',
    amount_cents: 15000,
    currency: 'usd',
    expires_at: new Date(Date.now() + 3_600_000).toISOString(),
    created_at: now,
    updated_at: now,
    ...overrides,
  };
}

/**
 * An appointment as the server sends it: `practitioner` is the id, `practitioner_name` the name, and the
 * deprecated `provider_name` alias repeats the name. `ends_at` follows the service's length unless given.
 */
export function buildAppointment(overrides: Partial<Omit<AppointmentOutput, 'provider_name'>> = {}): AppointmentOutput {
  const now = new Date();
  const practitioner = testConfig.practitioners.find((p) => p.id === (overrides.practitioner ?? 'ana-reyes'));
  const service = practitioner?.services.find((s) => s.slug === (overrides.service ?? 'initial_consultation'));
  const start = overrides.appointment_time ?? '2026-12-01T15:00:00Z';
  const appointment = {
    id: nextId('a'),
    practitioner: practitioner?.id ?? 'ana-reyes',
    practitioner_name: practitioner?.name ?? 'Dr. Ana Reyes',
    service: service?.slug ?? 'initial_consultation',
    service_name: service?.name ?? 'Initial consultation (60 min)',
    appointment_time: start,
    ends_at: new Date(new Date(start).getTime() + (service?.duration_minutes ?? 60) * 60_000).toISOString(),
    client_name: 'Jane Doe',
    client_email: 'jane@example.com',
    client_state: 'CA',
    status: 'pending_payment' as const,
    amount_cents: 15000,
    currency: 'usd',
    hold_expires_at: new Date(now.getTime() + 3_600_000).toISOString(),
    created_at: now.toISOString(),
    latest_payment_session: null,
    ...overrides,
  };
  return Object.assign(appointment, { provider_name: appointment.practitioner_name });
}

/** The receipt the server issues for a paid appointment (payments/receipts.py): one line, the server's price. */
export function buildReceipt(appointment: AppointmentOutput, overrides: Partial<Receipt> = {}): Receipt {
  const session = appointment.latest_payment_session;
  return {
    receipt_number: 'SH-2026-000042',
    clinic_name: 'Sofia Health Clinic',
    appointment_id: appointment.id,
    patient_name: appointment.client_name,
    patient_email: appointment.client_email,
    practitioner_name: appointment.practitioner_name,
    service_name: appointment.service_name,
    date_of_service: appointment.appointment_time,
    items: [{ description: appointment.service_name, quantity: 1, amount_cents: appointment.amount_cents }],
    amount_cents: appointment.amount_cents,
    currency: appointment.currency,
    payment_method: session?.provider === 'truemed' ? 'HSA/FSA' : 'Card',
    provider: session?.provider ?? 'stripe',
    provider_reference: 'pi_test_123',
    paid_at: session?.updated_at ?? appointment.created_at,
    ...overrides,
  };
}

/** The demo hours of the msw mock: every weekday (Mon-Fri) at these wall-clock times, in the asked zone. */
export const MOCK_SLOT_TIMES = ['09:00', '09:30', '10:00', '13:00', '15:30'] as const;

function offsetIn(timeZone: string, at: Date): string {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    .formatToParts(at)
    .find((part) => part.type === 'timeZoneName')?.value;
  const offset = name?.replace('GMT', '') ?? '';
  return offset === '' ? '+00:00' : offset;
}

/** "2026-12-01" + "09:00" in `timeZone` -> "2026-12-01T09:00:00-05:00", as the availability API writes a slot. */
export function slotAt(date: string, time: string, timeZone: string): string {
  const naive = `${date}T${time}:00`;
  // The offset at the wall time read as UTC, then at the instant that gives (right except within a DST jump).
  const first = offsetIn(timeZone, new Date(`${naive}Z`));
  return `${naive}${offsetIn(timeZone, new Date(`${naive}${first}`))}`;
}

/** The mock's open days from `from` to `to` (inclusive): weekdays have MOCK_SLOT_TIMES, weekends nothing. */
export function buildAvailabilityDays(from: string, to: string, timeZone: string): { date: string; slots: string[] }[] {
  const days: { date: string; slots: string[] }[] = [];
  for (let day = new Date(`${from}T00:00:00Z`); day <= new Date(`${to}T00:00:00Z`); day.setUTCDate(day.getUTCDate() + 1)) {
    const date = day.toISOString().slice(0, 10);
    const weekday = day.getUTCDay();
    const slots = weekday === 0 || weekday === 6 ? [] : MOCK_SLOT_TIMES.map((time) => slotAt(date, time, timeZone));
    days.push({ date, slots });
  }
  return days;
}
