import { describe, expect, it } from 'vitest';

import { buildAppointment, buildPaymentSession } from '@/testing/data';

import { appointmentSchema } from './api';

describe('appointmentSchema', () => {
  it('accepts an appointment whose last attempt has no provider page yet (provider down, still creating)', () => {
    const appointment = buildAppointment({
      latest_payment_session: buildPaymentSession({ status: 'creating', provider_session_id: null, redirect_url: null }),
    });
    expect(appointmentSchema.parse(appointment).latest_payment_session?.redirect_url).toBeNull();
  });

  it('refuses a redirect that is not http(s)', () => {
    const appointment = buildAppointment({
      latest_payment_session: buildPaymentSession({ redirect_url: 'javascript:alert(1)' }),
    });
    expect(appointmentSchema.safeParse(appointment).success).toBe(false);
  });
});
