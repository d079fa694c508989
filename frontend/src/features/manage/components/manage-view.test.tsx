import { http } from 'msw';

import { formatDateTime } from '@/lib/format';
import { loadAccessToken } from '@/lib/pending-appointment';
import { pickSlot } from '@/testing/booking';
import { buildAppointment, buildPaymentSession } from '@/testing/data';
import { db, tokenFor } from '@/testing/mocks/db';
import { api, errorResponse } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';
import { renderApp, screen, within } from '@/testing/test-utils';

import { buildIcs } from '../calendar';

const inAWeek = () => new Date(Date.now() + 7 * 86_400_000).toISOString();

function paidAppointment() {
  const appointment = buildAppointment({ status: 'confirmed', appointment_time: inAWeek() });
  return buildAppointment({
    ...appointment,
    id: appointment.id,
    latest_payment_session: buildPaymentSession({ appointment_id: appointment.id, status: 'paid', amount_cents: 15000 }),
  });
}

describe('Manage page', () => {
  it('takes the token from the link fragment (another device), keeps it and strips it from the address bar', async () => {
    const appointment = db.put(paidAppointment(), { inBrowser: false });
    window.history.replaceState(null, '', `/appointments/${appointment.id}/manage#token=${tokenFor(appointment.id)}`);
    renderApp(`/appointments/${appointment.id}/manage`);
    expect(await screen.findByText('Confirmed and paid')).toBeInTheDocument();
    expect(loadAccessToken(appointment.id)).toBe(tokenFor(appointment.id));
    expect(window.location.hash).toBe('');
    expect(window.location.pathname).toBe(`/appointments/${appointment.id}/manage`);
    expect(screen.getByRole('button', { name: 'Add to calendar' })).toBeEnabled();
  });

  it('says the link does not work without the right token', async () => {
    const appointment = db.put(paidAppointment(), { inBrowser: false });
    window.history.replaceState(null, '', `/appointments/${appointment.id}/manage#token=wrong`);
    renderApp(`/appointments/${appointment.id}/manage`);
    expect(await screen.findByText('This link does not open an appointment')).toBeInTheDocument();
  });

  it('states the refund before cancelling, then shows the appointment cancelled and refunded', async () => {
    const appointment = db.put(paidAppointment());
    const { user } = renderApp(`/appointments/${appointment.id}/manage`);
    await user.click(await screen.findByRole('button', { name: 'Cancel appointment' }));
    expect(screen.getByTestId('refund-statement')).toHaveTextContent('$150.00 is refunded in full to the card you paid with');
    await user.click(screen.getByRole('button', { name: 'Cancel and refund $150.00' }));
    const status = await screen.findByTestId('manage-status');
    expect(await within(status).findByText('Cancelled')).toBeInTheDocument();
    expect(status).toHaveTextContent('Refunded: $150.00 went back to the card you paid with.');
    expect(screen.queryByRole('button', { name: 'Cancel appointment' })).not.toBeInTheDocument();
  });

  it("states the server's refund and cutoff before cancelling", async () => {
    const base = paidAppointment();
    const cutoff = new Date(Date.now() + 6 * 86_400_000).toISOString();
    const appointment = db.put({
      ...base,
      cancellation: {
        allowed: true,
        code: 'full_refund',
        message: 'Cancel now and the full amount is refunded to the card or HSA/FSA account that paid.',
        refund_amount_cents: 12000,
        refund_cutoff_at: cutoff,
      },
    });
    const { user } = renderApp(`/appointments/${appointment.id}/manage`);
    await user.click(await screen.findByRole('button', { name: 'Cancel appointment' }));
    const statement = screen.getByTestId('refund-statement');
    expect(statement).toHaveTextContent('If you cancel now, $120.00 is refunded in full to the card you paid with.');
    expect(statement).toHaveTextContent(`refunded in full until ${formatDateTime(cutoff)}`);
    expect(screen.getByRole('button', { name: 'Cancel and refund $120.00' })).toBeEnabled();
  });

  it('shows the server\'s reason and no cancel button when cancelling is not allowed', async () => {
    const appointment = db.put({
      ...paidAppointment(),
      cancellation: {
        allowed: false,
        code: 'cancellation_window_closed',
        message: 'A paid appointment can be cancelled online until 24 hours before it starts. Please contact the clinic.',
        refund_amount_cents: 0,
        refund_cutoff_at: new Date(Date.now() - 3_600_000).toISOString(),
      },
    });
    renderApp(`/appointments/${appointment.id}/manage`);
    expect(await screen.findByTestId('cancel-not-allowed')).toHaveTextContent(
      'can be cancelled online until 24 hours before it starts. Please contact the clinic.',
    );
    expect(screen.queryByRole('button', { name: 'Cancel appointment' })).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Change the time' })).toBeEnabled();
  });

  it('explains a refused cancel (inside the cutoff) and changes nothing', async () => {
    server.use(
      http.post(api('/api/appointments/:id/cancel/'), () =>
        errorResponse(409, 'conflict', 'The free cancellation window has closed.'),
      ),
    );
    const appointment = db.put(paidAppointment());
    const { user } = renderApp(`/appointments/${appointment.id}/manage`);
    await user.click(await screen.findByRole('button', { name: 'Cancel appointment' }));
    await user.click(screen.getByRole('button', { name: 'Cancel and refund $150.00' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('can no longer be cancelled online');
    expect(alert).toHaveTextContent('The free cancellation window has closed. Please contact the clinic');
    expect(screen.getByText('Confirmed and paid')).toBeInTheDocument();
  });

  it('moves the visit to another open slot with the same price', async () => {
    const appointment = db.put(paidAppointment());
    const { user } = renderApp(`/appointments/${appointment.id}/manage`);
    await user.click(await screen.findByRole('button', { name: 'Change the time' }));
    const slot = await pickSlot(user);
    await user.click(screen.getByRole('button', { name: /^Move to / }));
    expect(await screen.findByRole('heading', { name: 'Your appointment was moved' })).toBeInTheDocument();
    expect(db.appointments.get(appointment.id)?.appointment_time).toBe(new Date(slot).toISOString());
    expect(screen.getByText('$150.00')).toBeInTheDocument();
  });
});

describe('calendar file', () => {
  it('is an iCalendar event in UTC with escaped text and no token', () => {
    const appointment = buildAppointment({
      appointment_time: '2026-12-01T10:00:00-05:00',
      ends_at: '2026-12-01T11:00:00-05:00',
      service_name: 'Check-up, long; new',
    });
    const ics = buildIcs(appointment, 'https://checkout.example.test/appointments/x/manage', new Date('2026-11-29T08:00:00Z'));
    expect(ics).toContain('DTSTART:20261201T150000Z\r\n');
    expect(ics).toContain('DTEND:20261201T160000Z\r\n');
    expect(ics).toContain('DTSTAMP:20261129T080000Z\r\n');
    expect(ics).toContain('SUMMARY:Check-up\\, long\\; new with Dr. Ana Reyes\r\n');
    expect(ics).toMatch(/^BEGIN:VCALENDAR\r\n[\s\S]*END:VCALENDAR\r\n$/);
    expect(ics).not.toContain('token');
  });
});
