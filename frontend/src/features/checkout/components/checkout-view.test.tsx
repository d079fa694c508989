import { delay, http, HttpResponse } from 'msw';

import { loadPendingAppointmentId } from '@/lib/pending-appointment';
import { redirectTo } from '@/lib/redirect';
import { buildAppointment, buildPaymentSession, testConfig } from '@/testing/data';
import { db } from '@/testing/mocks/db';
import { api, errorResponse } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';
import { cleanup, renderApp, screen, waitFor } from '@/testing/test-utils';

vi.mock('@/lib/redirect', () => ({ redirectTo: vi.fn() }));

beforeEach(() => {
  vi.mocked(redirectTo).mockClear();
});

describe('Checkout page', () => {
  it('sends the access token the booking left in this browser; without it the appointment is not found', async () => {
    const mine = db.put(buildAppointment());
    const other = db.put(buildAppointment(), { inBrowser: false });
    renderApp(`/appointments/${other.id}/checkout`);
    expect(await screen.findByText('We could not find this appointment')).toBeInTheDocument();
    cleanup();
    renderApp(`/appointments/${mine.id}/checkout`);
    expect(await screen.findByRole('button', { name: 'Pay by card' })).toBeEnabled();
  });

  it('shows the summary, the server price and both ways to pay', async () => {
    const appointment = db.put(buildAppointment({ amount_cents: 12550 }));
    renderApp(`/appointments/${appointment.id}/checkout`);
    expect(await screen.findByText('$125.50')).toBeInTheDocument();
    expect(screen.getByText('Initial consultation (60 min)')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Pay by card' })).toBeEnabled();
    const hsa = screen.getByRole('button', { name: 'Pay with HSA / FSA' });
    expect(hsa).toHaveAccessibleDescription(/You may be able to pay with HSA\/FSA funds/);
    expect(hsa).toHaveAccessibleDescription(/not guaranteed/);
    expect(document.body).not.toHaveTextContent(/is HSA\/FSA eligible/i);
    expect(document.body).not.toHaveTextContent(/free/i);
  });

  it('shows only the payment buttons the server offers: config lists only "stripe" -> no HSA/FSA button', async () => {
    server.use(http.get(api('/api/config/'), () => HttpResponse.json({ ...testConfig, payment_providers: ['stripe'] })));
    const appointment = db.put(buildAppointment());
    renderApp(`/appointments/${appointment.id}/checkout`);
    expect(await screen.findByRole('button', { name: 'Pay by card' })).toBeEnabled();
    expect(screen.queryByRole('button', { name: 'Pay with HSA / FSA' })).not.toBeInTheDocument();
    expect(screen.queryByText(/You may be able to pay with HSA\/FSA funds/)).not.toBeInTheDocument();
  });

  it('shows no card button when the server offers only HSA/FSA, and ignores providers it has no button for', async () => {
    server.use(
      http.get(api('/api/config/'), () => HttpResponse.json({ ...testConfig, payment_providers: ['truemed', 'paypal'] })),
    );
    const appointment = db.put(buildAppointment());
    renderApp(`/appointments/${appointment.id}/checkout`);
    expect(await screen.findByRole('button', { name: 'Pay with HSA / FSA' })).toBeEnabled();
    expect(screen.queryByRole('button', { name: 'Pay by card' })).not.toBeInTheDocument();
    expect(screen.getAllByRole('button')).toHaveLength(1);
  });

  it('shows a Retry instead of the buttons when the payment options cannot be loaded', async () => {
    server.use(http.get(api('/api/config/'), () => HttpResponse.error()));
    const appointment = db.put(buildAppointment());
    const { user } = renderApp(`/appointments/${appointment.id}/checkout`);
    const retry = await screen.findByRole('button', { name: 'Retry' });
    expect(screen.getByText('$150.00')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Pay by card' })).not.toBeInTheDocument();
    server.use(http.get(api('/api/config/'), () => HttpResponse.json(testConfig)));
    await user.click(retry);
    expect(await screen.findByRole('button', { name: 'Pay by card' })).toBeEnabled();
    expect(screen.getByRole('button', { name: 'Pay with HSA / FSA' })).toBeEnabled();
  });

  it('disables both buttons while the session is created and redirects once on a double click', async () => {
    const appointment = db.put(buildAppointment());
    const bodies: unknown[] = [];
    server.use(
      http.post(api('/api/appointments/:id/payment-sessions/'), async ({ request }) => {
        bodies.push(await request.json());
        await delay(50);
        return HttpResponse.json(
          buildPaymentSession({ appointment_id: appointment.id, provider: 'truemed', redirect_url: 'https://truemed.example.test/s/1' }),
          { status: 201 },
        );
      }),
    );
    const { user } = renderApp(`/appointments/${appointment.id}/checkout`);
    const hsa = await screen.findByRole('button', { name: 'Pay with HSA / FSA' });
    await user.dblClick(hsa);

    expect(screen.getByRole('button', { name: /Opening the HSA\/FSA survey/ })).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Pay by card' })).toBeDisabled();
    await waitFor(() => {
      expect(redirectTo).toHaveBeenCalledTimes(1);
    });
    expect(redirectTo).toHaveBeenCalledWith('https://truemed.example.test/s/1');
    expect(bodies).toEqual([{ provider: 'truemed' }]);
    expect(loadPendingAppointmentId()).toBe(appointment.id);
    expect(screen.getByRole('button', { name: 'Pay by card' })).toBeDisabled();
  });

  it('makes the buttons usable again when Back restores the page from the browser cache', async () => {
    const appointment = db.put(buildAppointment());
    const { user } = renderApp(`/appointments/${appointment.id}/checkout`);
    await user.click(await screen.findByRole('button', { name: 'Pay by card' }));
    await waitFor(() => {
      expect(redirectTo).toHaveBeenCalledTimes(1);
    });
    expect(screen.getByRole('button', { name: 'Pay with HSA / FSA' })).toBeDisabled();

    window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
    expect(await screen.findByRole('button', { name: 'Pay with HSA / FSA' })).toBeEnabled();
    expect(screen.getByRole('button', { name: 'Pay by card' })).toBeEnabled();
  });

  it('shows provider_unavailable with a Retry that tries the same method again', async () => {
    const appointment = db.put(buildAppointment());
    server.use(
      http.post(
        api('/api/appointments/:id/payment-sessions/'),
        () => errorResponse(503, 'provider_unavailable', 'Stripe is not answering.'),
        { once: true },
      ),
    );
    const { user } = renderApp(`/appointments/${appointment.id}/checkout`);
    await user.click(await screen.findByRole('button', { name: 'Pay by card' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The payment service is not responding');
    expect(alert).toHaveTextContent('Nothing was charged');
    expect(screen.getByRole('button', { name: 'Pay by card' })).toBeEnabled();
    await user.click(screen.getByRole('button', { name: 'Retry' }));
    await waitFor(() => {
      expect(redirectTo).toHaveBeenCalledWith(`https://pay.example.test/stripe/${appointment.id}`);
    });
  });

  it('tells the patient to wait when throttled', async () => {
    const appointment = db.put(buildAppointment());
    server.use(
      http.post(api('/api/appointments/:id/payment-sessions/'), () =>
        HttpResponse.json({ code: 'throttled', message: 'Too many.', errors: {} }, { status: 429, headers: { 'Retry-After': '30' } }),
      ),
    );
    const { user } = renderApp(`/appointments/${appointment.id}/checkout`);
    await user.click(await screen.findByRole('button', { name: 'Pay by card' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Please wait about 30 seconds');
  });

  it.each([
    ['confirmed', 'This appointment is already paid and confirmed'],
    ['payment_processing', 'Payment received, under HSA/FSA review'],
    ['expired', 'This booking has expired'],
    ['cancelled', 'This appointment was cancelled'],
  ] as const)('shows the %s state instead of the pay buttons', async (status, text) => {
    const appointment = db.put(buildAppointment({ status }));
    renderApp(`/appointments/${appointment.id}/checkout`);
    expect(await screen.findByRole('heading', { name: text })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Pay by card' })).not.toBeInTheDocument();
    if (status === 'expired') expect(screen.getByRole('link', { name: 'Book again' })).toHaveAttribute('href', '/');
  });

  it('shows a not-found message for an unknown appointment', async () => {
    renderApp('/appointments/nope/checkout');
    expect(await screen.findByRole('alert')).toHaveTextContent('We could not find this appointment');
  });
});
