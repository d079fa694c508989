import type { Appointment, CheckoutConfig, PaymentSession } from '@/types/api';

let counter = 0;
const nextId = (prefix: string) => {
  counter += 1;
  return `${prefix}-0000-4000-8000-${String(counter).padStart(12, '0')}`;
};

export const testConfig: CheckoutConfig = {
  currency: 'usd',
  payment_providers: ['stripe', 'truemed'],
  practitioners: [
    {
      name: 'Dr. Ana Reyes',
      services: [
        { slug: 'initial_consultation', name: 'Initial consultation (60 min)', amount_cents: 15000 },
        { slug: 'follow_up', name: 'Follow-up (30 min)', amount_cents: 9000 },
      ],
    },
    {
      name: 'Dr. Sam Lee',
      services: [{ slug: 'nutrition_plan', name: 'Nutrition plan (45 min)', amount_cents: 12550 }],
    },
  ],
  booking_horizon_days: 90,
  min_lead_minutes: 60,
  sandbox: true,
};

export function buildPaymentSession(overrides: Partial<PaymentSession> = {}): PaymentSession {
  const now = new Date().toISOString();
  return {
    id: nextId('ps000000'),
    appointment_id: 'unknown',
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

export function buildAppointment(overrides: Partial<Appointment> = {}): Appointment {
  const now = new Date();
  return {
    id: nextId('ap000000'),
    provider_name: 'Dr. Ana Reyes',
    service: 'initial_consultation',
    service_name: 'Initial consultation (60 min)',
    appointment_time: '2026-12-01T15:00:00Z',
    client_name: 'Jane Doe',
    client_email: 'jane@example.com',
    client_state: 'CA',
    status: 'pending_payment',
    amount_cents: 15000,
    currency: 'usd',
    hold_expires_at: new Date(now.getTime() + 3_600_000).toISOString(),
    created_at: now.toISOString(),
    latest_payment_session: null,
    ...overrides,
  };
}
