import { http, HttpResponse } from 'msw';

import type { AppointmentCreateData } from '@/lib/api/generated';
import { fillBookingForm as fillForm } from '@/testing/booking';
import { api, errorResponse } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';
import { renderApp, screen, waitFor, within } from '@/testing/test-utils';

// Whole-page tests (routing, queries, typing): slower than the default budget on a busy 2-core machine.
describe('Book page', { timeout: 30_000 }, () => {
  it('shows the practitioners, and the length and server price of the chosen service', async () => {
    const { user } = renderApp('/');
    expect(await screen.findByRole('heading', { level: 1, name: 'Book your appointment' })).toHaveFocus();
    await user.selectOptions(await screen.findByLabelText('Practitioner'), 'Dr. Sam Lee');
    const service = screen.getByLabelText('Service');
    expect(within(service).getByRole('option', { name: /Nutrition plan session \(45 min\) — \$125\.50/ })).toBeInTheDocument();
    await user.selectOptions(service, 'nutrition_plan');
    expect(screen.getByText('$125.50', { selector: 'strong' })).toBeInTheDocument();
    expect(screen.getByText('45 minutes', { selector: 'strong' })).toBeInTheDocument();
    expect(service).toHaveAccessibleDescription('Length: 45 minutes · Price: $125.50');
    expect(screen.getAllByRole('option', { name: /./ }).length).toBeGreaterThan(51);
  });

  it('shows required-field errors next to their fields, without calling the API', async () => {
    const { user } = renderApp('/');
    await user.click(await screen.findByRole('button', { name: 'Continue to payment' }));
    const name = screen.getByLabelText('Full name');
    expect(name).toHaveAttribute('aria-invalid', 'true');
    expect(name).toHaveAccessibleDescription('Enter your full name.');
    expect(screen.getByLabelText('Practitioner')).toHaveAccessibleDescription('Choose a practitioner.');
    expect(screen.getByRole('group', { name: 'Day and time' })).toHaveAccessibleDescription(/Choose a day and a time\./);
    await waitFor(() => {
      expect(screen.getByLabelText('Practitioner')).toHaveFocus();
    });
    expect(screen.getByTestId('live-region')).toHaveTextContent('Please correct the highlighted fields.');
  });

  it('shows API validation errors by field and keeps what was typed and picked', async () => {
    server.use(
      http.post(api('/api/appointments/'), () =>
        errorResponse(400, 'validation_error', 'Invalid input.', {
          client_email: ['Enter a valid email address.'],
          client_state: ['We do not serve this state yet.'],
        }),
      ),
    );
    const { user } = renderApp('/');
    const slot = await fillForm(user);
    await user.click(screen.getByRole('button', { name: 'Continue to payment' }));

    const email = screen.getByLabelText('Email');
    await waitFor(() => {
      expect(email).toHaveAttribute('aria-invalid', 'true');
    });
    expect(email).toHaveAccessibleDescription('Enter a valid email address.');
    expect(screen.getByLabelText('State')).toHaveAccessibleDescription('We do not serve this state yet.');
    expect(screen.getByLabelText('Full name')).not.toHaveAttribute('aria-invalid');
    expect(email).toHaveValue('jane@example.com');
    expect(screen.getByLabelText('Full name')).toHaveValue('Jane Doe');
    expect(screen.getByRole('radio', { checked: true, name: /\d:\d{2} [AP]M/ })).toHaveAttribute('value', slot);
  });

  it('sends the practitioner id and the offered slot as sent, then goes to checkout', async () => {
    let sent: AppointmentCreateData['body'] | undefined;
    server.use(
      http.post(api('/api/appointments/'), async ({ request }) => {
        sent = (await request.clone().json()) as AppointmentCreateData['body'];
        return undefined;
      }),
    );
    const { user, history } = renderApp('/');
    const slot = await fillForm(user);
    await user.click(screen.getByRole('button', { name: 'Continue to payment' }));

    expect(await screen.findByRole('heading', { level: 1, name: 'Review and pay' })).toHaveFocus();
    expect(history.location().pathname).toMatch(/^\/appointments\/.+\/checkout$/);
    // The 201's access token was kept: the checkout's read of the appointment (token required) succeeds.
    expect(await screen.findByRole('button', { name: 'Pay by card' })).toBeEnabled();
    expect(sent).toMatchObject({
      practitioner: 'ana-reyes',
      service: 'initial_consultation',
      appointment_time: slot,
      client_name: 'Jane Doe',
      client_email: 'jane@example.com',
      client_state: 'CA',
    });
    expect(slot).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00[+-]\d{2}:\d{2}$/);
    expect(sent).not.toHaveProperty('amount_cents');
    // `provider_name` is the deprecated alias of `practitioner`: the SPA no longer sends it.
    expect(sent).not.toHaveProperty('provider_name');
    expect(await screen.findByText('$150.00')).toBeInTheDocument();
    // The summary names the practitioner (the appointment's `practitioner` is now the id).
    expect(screen.getByText('Dr. Ana Reyes')).toBeInTheDocument();
  });

  it('offers Retry when the server cannot be reached', async () => {
    let calls = 0;
    server.use(
      http.post(api('/api/appointments/'), () => {
        calls += 1;
        return calls === 1 ? HttpResponse.error() : undefined;
      }),
    );
    const { user } = renderApp('/');
    await fillForm(user);
    await user.click(screen.getByRole('button', { name: 'Continue to payment' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('We could not reach the server');
    await user.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Review and pay' })).toBeInTheDocument();
  });

  it('shows a Retry when the practitioners cannot be loaded', async () => {
    server.use(http.get(api('/api/config/'), () => HttpResponse.error(), { once: true }));
    const { user } = renderApp('/');
    await user.click(await screen.findByRole('button', { name: 'Retry' }));
    expect(await screen.findByLabelText('Practitioner')).toBeInTheDocument();
  });
});
