import { buildAppointment, buildPaymentSession } from '@/testing/data';

import { deriveReturnState, nextPollDelay } from './return-state';

describe('deriveReturnState', () => {
  it.each([
    ['confirmed', null, 'confirmed'],
    ['payment_processing', 'processing', 'review'],
    ['expired', null, 'expired'],
    ['cancelled', null, 'cancelled'],
    ['pending_payment', 'open', 'waiting'],
    ['pending_payment', 'failed', 'failed'],
    ['pending_payment', 'canceled', 'payment_cancelled'],
    ['pending_payment', 'expired', 'session_expired'],
    ['pending_payment', 'paid_unverified', 'unverified'],
  ] as const)('%s with session %s -> %s', (status, sessionStatus, kind) => {
    const appointment = buildAppointment({
      status,
      latest_payment_session: sessionStatus ? buildPaymentSession({ status: sessionStatus }) : null,
    });
    expect(deriveReturnState(appointment).kind).toBe(kind);
  });
});

describe('nextPollDelay', () => {
  it('backs off 1s, 1.5s, 2.25s and caps while waiting', () => {
    const waiting = buildAppointment({ latest_payment_session: buildPaymentSession({ status: 'open' }) });
    expect(nextPollDelay(waiting, 0)).toBe(1000);
    expect(nextPollDelay(waiting, 1)).toBe(1500);
    expect(nextPollDelay(waiting, 2)).toBe(2250);
    expect(nextPollDelay(waiting, 10)).toBe(8000);
  });

  it('polls slowly during HSA/FSA review and stops on a final state', () => {
    expect(nextPollDelay(buildAppointment({ status: 'payment_processing' }), 0)).toBe(3000);
    expect(nextPollDelay(buildAppointment({ status: 'confirmed' }), 0)).toBe(false);
    expect(nextPollDelay(buildAppointment({ status: 'expired' }), 0)).toBe(false);
    const unverified = buildPaymentSession({ status: 'paid_unverified' });
    expect(nextPollDelay(buildAppointment({ latest_payment_session: unverified }), 0)).toBe(false);
  });
});
