import { http, HttpResponse } from 'msw';

import { polling } from '@/config/polling';
import type { AppointmentOutput, PaymentStatusEnum } from '@/lib/api/generated';
import { loadPendingAppointmentId, savePendingAppointmentId } from '@/lib/pending-appointment';
import { redirectTo } from '@/lib/redirect';
import { buildAppointment, buildPaymentSession, testConfig } from '@/testing/data';
import { db } from '@/testing/mocks/db';
import { api } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';
import { renderApp, screen, waitFor } from '@/testing/test-utils';

vi.mock('@/lib/redirect', () => ({ redirectTo: vi.fn() }));

const original = { ...polling };
beforeEach(() => {
  vi.mocked(redirectTo).mockClear();
  Object.assign(polling, {
    pendingBaseMs: 20,
    pendingCapMs: 40,
    reviewBaseMs: 30,
    reviewCapMs: 60,
    maxOpenPolls: 5,
    maxReviewPolls: 5,
    resyncEvery: 100,
  });
});
afterEach(() => {
  Object.assign(polling, original);
});

function seed(status: AppointmentOutput['status'], sessionStatus: PaymentStatusEnum, provider: 'stripe' | 'truemed' = 'stripe') {
  const appointment = buildAppointment({ status });
  const session = buildPaymentSession({ appointment_id: appointment.id, provider, status: sessionStatus });
  return db.put({ ...appointment, latest_payment_session: session });
}

const returnUrl = (appointment: AppointmentOutput) =>
  `/checkout/return?appointment_id=${appointment.id}&payment_session_id=${appointment.latest_payment_session?.id ?? ''}&provider=stripe&session_id=cs_test_123`;

/** Counts sync calls and lets a test change the appointment on the N-th GET. */
function trackApi(onGet?: (count: number) => void) {
  const calls = { sync: [] as string[], get: 0 };
  server.use(
    http.post(api('/api/payment-sessions/:id/sync/'), ({ params }) => {
      calls.sync.push(String(params.id));
      return undefined;
    }),
    http.get(api('/api/appointments/:id/'), () => {
      calls.get += 1;
      onGet?.(calls.get);
      return undefined;
    }),
  );
  return calls;
}

describe('Return page', () => {
  it('syncs the session, then shows a confirmed appointment', async () => {
    const appointment = seed('confirmed', 'paid');
    const calls = trackApi();
    renderApp(returnUrl(appointment));
    expect(await screen.findByRole('heading', { level: 1, name: 'Your appointment is confirmed' })).toBeInTheDocument();
    expect(calls.sync).toEqual([appointment.latest_payment_session?.id]);
    expect(screen.getByTestId('live-region')).toHaveTextContent('Your appointment is confirmed');
    expect(screen.getByText('$150.00')).toBeInTheDocument();
  });

  it('shows "under HSA/FSA review" and keeps polling until Truemed captures', async () => {
    const appointment = seed('payment_processing', 'processing', 'truemed');
    trackApi((count) => {
      if (count === 3) {
        const current = db.appointments.get(appointment.id);
        if (current?.latest_payment_session) {
          db.put({ ...current, status: 'confirmed', latest_payment_session: { ...current.latest_payment_session, status: 'paid' } });
        }
      }
    });
    renderApp(returnUrl(appointment));
    expect(await screen.findByRole('heading', { level: 1, name: 'Payment received, under HSA/FSA review' })).toBeInTheDocument();
    expect(await screen.findByRole('heading', { level: 1, name: 'Your appointment is confirmed' }, { timeout: 3000 })).toBeInTheDocument();
    expect(screen.getByTestId('live-region')).toHaveTextContent('Your appointment is confirmed');
  });

  it('polls a just-paid card session until the webhook confirms it', async () => {
    const appointment = seed('pending_payment', 'open');
    trackApi((count) => {
      if (count === 2) db.put({ ...appointment, status: 'confirmed' });
    });
    renderApp(returnUrl(appointment));
    expect(await screen.findByRole('heading', { level: 1, name: 'Your appointment is confirmed' }, { timeout: 3000 })).toBeInTheDocument();
  });

  it('offers "Pay by card instead" after an HSA/FSA rejection', async () => {
    const appointment = seed('pending_payment', 'failed', 'truemed');
    const bodies: unknown[] = [];
    server.use(
      http.post(api('/api/appointments/:id/payment-sessions/'), async ({ request }) => {
        bodies.push(await request.clone().json());
        return undefined;
      }),
    );
    const { user } = renderApp(returnUrl(appointment));
    expect(await screen.findByRole('heading', { level: 1, name: 'Your HSA/FSA payment was not approved' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Pay with HSA / FSA' })).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Pay by card instead' }));
    await waitFor(() => {
      expect(redirectTo).toHaveBeenCalledWith(`https://pay.example.test/stripe/${appointment.id}`);
    });
    expect(bodies).toEqual([{ provider: 'stripe' }]);
  });

  it('says a payment of the wrong amount confirms nothing, is refunded, and offers to pay again', async () => {
    const appointment = seed('pending_payment', 'paid_unverified');
    renderApp(returnUrl(appointment));
    expect(await screen.findByRole('heading', { level: 1, name: 'We could not confirm your payment' })).toBeInTheDocument();
    expect(screen.getByText(/will be refunded in full/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Pay by card' })).toBeEnabled();
    expect(screen.getByRole('button', { name: 'Pay with HSA / FSA' })).toBeEnabled();
  });

  it('offers to book again when the hold expired', async () => {
    const appointment = seed('expired', 'open');
    renderApp(returnUrl(appointment));
    expect(await screen.findByRole('heading', { level: 1, name: 'This booking has expired' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Book again' })).toHaveAttribute('href', '/');
  });

  it('without parameters, uses the stored appointment and syncs its latest session', async () => {
    const appointment = seed('confirmed', 'paid');
    savePendingAppointmentId(appointment.id);
    const calls = trackApi();
    renderApp('/checkout/return');
    expect(await screen.findByRole('heading', { level: 1, name: 'Your appointment is confirmed' })).toBeInTheDocument();
    await waitFor(() => {
      expect(calls.sync).toEqual([appointment.latest_payment_session?.id]);
    });
  });

  it('without parameters or a stored appointment, offers to book', async () => {
    renderApp('/checkout/return');
    expect(await screen.findByRole('heading', { level: 1, name: 'We could not find a payment to check' })).toHaveFocus();
    expect(screen.getByRole('link', { name: 'Book an appointment' })).toBeInTheDocument();
  });

  it('stops polling after a while and offers "Check again"', async () => {
    const appointment = seed('pending_payment', 'open');
    const calls = trackApi();
    const { user } = renderApp(returnUrl(appointment));
    const checkAgain = await screen.findByRole('button', { name: 'Check again' }, { timeout: 3000 });
    const before = { get: calls.get, sync: calls.sync.length };
    db.put({ ...appointment, status: 'confirmed' });
    await user.click(checkAgain);
    expect(await screen.findByRole('heading', { level: 1, name: 'Your appointment is confirmed' })).toBeInTheDocument();
    // "Check again" asks the server to re-check with the provider, then reads the appointment.
    expect(calls.sync.length).toBe(before.sync + 1);
    expect(calls.get).toBe(before.get + 1);
  });

  it('stops polling a long HSA/FSA review after a while and offers "Check again"', async () => {
    const appointment = seed('payment_processing', 'processing', 'truemed');
    const calls = trackApi();
    renderApp(returnUrl(appointment));
    expect(await screen.findByRole('button', { name: 'Check again' }, { timeout: 3000 })).toBeInTheDocument();
    const stoppedAt = calls.get;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(calls.get).toBe(stoppedAt);
  });

  it('while undecided, re-checks with the provider every few polls (a lost webhook still ends)', async () => {
    polling.resyncEvery = 2;
    const appointment = seed('pending_payment', 'open');
    const calls = trackApi();
    renderApp(returnUrl(appointment));
    await screen.findByRole('button', { name: 'Check again' }, { timeout: 3000 });
    // The first sync, then one every second poll.
    expect(calls.sync.length).toBeGreaterThanOrEqual(3);
    expect(new Set(calls.sync)).toEqual(new Set([appointment.latest_payment_session?.id]));
  });

  it('a link to an unknown appointment does not replace the payment this browser is making', async () => {
    const appointment = seed('pending_payment', 'open');
    savePendingAppointmentId(appointment.id);
    renderApp('/checkout/return?appointment_id=00000000-0000-4000-8000-000000000000');
    expect(await screen.findByText('We could not find this appointment')).toBeInTheDocument();
    expect(loadPendingAppointmentId()).toBe(appointment.id);
  });

  it('shows a Retry when the server cannot be reached', async () => {
    const appointment = seed('confirmed', 'paid');
    server.use(http.get(api('/api/appointments/:id/'), () => HttpResponse.error(), { once: true }));
    const { user } = renderApp(returnUrl(appointment));
    await user.click(await screen.findByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Your appointment is confirmed' })).toBeInTheDocument();
  });
});

describe('Cancelled page', () => {
  it('says nothing was charged and offers both methods again', async () => {
    const appointment = seed('pending_payment', 'open');
    const { user } = renderApp(`/checkout/cancelled?appointment_id=${appointment.id}&payment_session_id=x&provider=stripe`);
    expect(await screen.findByRole('heading', { level: 1, name: 'Payment cancelled' })).toHaveFocus();
    expect(await screen.findByText('Nothing was charged.')).toBeInTheDocument();
    expect(await screen.findByRole('button', { name: 'Pay with HSA / FSA' })).toBeEnabled();
    expect(screen.getByRole('link', { name: 'Back to checkout' })).toHaveAttribute(
      'href',
      `/appointments/${appointment.id}/checkout`,
    );
    await user.click(screen.getByRole('button', { name: 'Pay by card' }));
    await waitFor(() => {
      expect(redirectTo).toHaveBeenCalledTimes(1);
    });
  });

  it('offers only the methods the server lists', async () => {
    server.use(http.get(api('/api/config/'), () => HttpResponse.json({ ...testConfig, payment_providers: ['stripe'] })));
    const appointment = seed('pending_payment', 'open');
    renderApp(`/checkout/cancelled?appointment_id=${appointment.id}`);
    expect(await screen.findByRole('button', { name: 'Pay by card' })).toBeEnabled();
    expect(screen.queryByRole('button', { name: 'Pay with HSA / FSA' })).not.toBeInTheDocument();
  });

  it('after Back from a page that was paid, says so instead of "nothing was charged"', async () => {
    const appointment = seed('confirmed', 'paid');
    renderApp(`/checkout/cancelled?appointment_id=${appointment.id}`);
    expect(await screen.findByText('This appointment is already paid and confirmed.')).toBeInTheDocument();
    expect(screen.queryByText('Nothing was charged.')).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Pay by card' })).not.toBeInTheDocument();
  });
});
