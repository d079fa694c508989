import { describe, expect, it } from 'vitest';

import { buildAppointment, buildPaymentSession } from '@/testing/data';

import { zAppointmentOutput, zErrorEnvelope } from './generated/zod.gen';

/** The generated schemas, with what the generator config adds to the OpenAPI schema (openapi-ts.config.ts). */
describe('generated zAppointmentOutput', () => {
  it('accepts an appointment whose last attempt has no provider page yet (provider down, still creating)', () => {
    const appointment = buildAppointment({
      latest_payment_session: buildPaymentSession({ status: 'creating', provider_session_id: null, redirect_url: null }),
    });
    expect(zAppointmentOutput.parse(appointment).latest_payment_session?.redirect_url).toBeNull();
  });

  it('refuses a redirect that is not http(s)', () => {
    const appointment = buildAppointment({
      latest_payment_session: buildPaymentSession({ redirect_url: 'javascript:alert(1)' }),
    });
    expect(zAppointmentOutput.safeParse(appointment).success).toBe(false);
  });

  it('accepts times with a UTC offset, not naive ones', () => {
    expect(zAppointmentOutput.safeParse(buildAppointment({ appointment_time: '2026-12-01T10:00:00-05:00' })).success).toBe(true);
    expect(zAppointmentOutput.safeParse(buildAppointment({ appointment_time: '2026-12-01T10:00:00' })).success).toBe(false);
  });

  it('leaves deciding what an email address is to the server', () => {
    // Django accepts it; zod's own email rule would not, and the booking would look failed.
    expect(zAppointmentOutput.safeParse(buildAppointment({ client_email: 'jane#doe@example.com' })).success).toBe(true);
  });
});

describe('generated zErrorEnvelope', () => {
  it('reads the one error shape', () => {
    expect(zErrorEnvelope.parse({ code: 'conflict', message: 'Taken.', errors: {} }).code).toBe('conflict');
  });
});
