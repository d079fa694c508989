import { buildAppointment, buildPaymentSession } from '@/testing/data';
import { db } from '@/testing/mocks/db';
import { renderApp, screen, within } from '@/testing/test-utils';

function paidAppointment() {
  const appointment = buildAppointment({ status: 'confirmed', amount_cents: 15000 });
  return buildAppointment({
    ...appointment,
    latest_payment_session: buildPaymentSession({ appointment_id: appointment.id, status: 'paid', amount_cents: 15000 }),
  });
}

describe('Receipt page', () => {
  it('shows the itemized receipt of a paid visit and prints it', async () => {
    const appointment = db.put(paidAppointment());
    const print = vi.spyOn(window, 'print').mockImplementation(() => undefined);
    const { user } = renderApp(`/appointments/${appointment.id}/receipt`);
    const receipt = await screen.findByTestId('receipt');
    expect(within(receipt).getByRole('heading', { name: 'Sofia Health Clinic' })).toBeInTheDocument();
    expect(screen.getByTestId('receipt-number')).toHaveTextContent('SH-2026-000042');
    expect(receipt).toHaveTextContent('Jane Doe');
    expect(receipt).toHaveTextContent('Dr. Ana Reyes');
    expect(receipt).toHaveTextContent('Initial consultation (60 min)');
    expect(receipt).toHaveTextContent('Card');
    expect(receipt).toHaveTextContent('pi_test_123');
    const rows = within(receipt).getAllByRole('row');
    expect(rows[1]).toHaveTextContent('Initial consultation (60 min)1$150.00');
    expect(screen.getByTestId('receipt-total')).toHaveTextContent('$150.00');
    await user.click(screen.getByRole('button', { name: 'Print receipt' }));
    expect(print).toHaveBeenCalledOnce();
  });

  it('says a receipt comes once the payment is confirmed (409 not_paid)', async () => {
    const appointment = db.put(buildAppointment({ status: 'payment_processing' }));
    renderApp(`/appointments/${appointment.id}/receipt`);
    expect(await screen.findByTestId('receipt-not-paid')).toHaveTextContent(
      'A receipt is available once the payment is confirmed',
    );
    expect(screen.queryByRole('button', { name: 'Print receipt' })).not.toBeInTheDocument();
  });

  it('says the link does not work for an unknown appointment or without its token (404)', async () => {
    const appointment = db.put(paidAppointment(), { inBrowser: false });
    renderApp(`/appointments/${appointment.id}/receipt`);
    expect(await screen.findByText('This link does not open a receipt')).toBeInTheDocument();
    expect(screen.queryByTestId('receipt')).not.toBeInTheDocument();
  });

  it('is linked from the manage page of a confirmed appointment', async () => {
    const appointment = db.put(paidAppointment());
    const { user, history } = renderApp(`/appointments/${appointment.id}/manage`);
    await user.click(await screen.findByRole('link', { name: 'Receipt (for HSA/FSA claims)' }));
    expect(history.location().pathname).toBe(`/appointments/${appointment.id}/receipt`);
    expect(await screen.findByTestId('receipt')).toBeInTheDocument();
  });
});
