import { delay, http, HttpResponse } from 'msw';

import { patientTimeZone } from '@/lib/format';
import { chooseService, fillPatient, pickSlot } from '@/testing/booking';
import { buildAvailabilityDays } from '@/testing/data';
import { db } from '@/testing/mocks/db';
import { api, errorResponse } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';
import { renderApp, screen, waitFor, within } from '@/testing/test-utils';

/** Every availability request the SPA makes, as its query parameters. */
function recordAvailabilityCalls(): URLSearchParams[] {
  const calls: URLSearchParams[] = [];
  server.events.on('request:start', ({ request }) => {
    const url = new URL(request.url);
    if (url.pathname === '/api/availability/') calls.push(url.searchParams);
  });
  return calls;
}

function first(elements: HTMLElement[]): HTMLElement {
  const [element] = elements;
  if (!element) throw new Error('expected at least one element');
  return element;
}

const dayGroup = () => screen.getByRole('radiogroup', { name: 'Day' });
const timeGroup = () => screen.getByRole('radiogroup', { name: /^Time on / });

// Whole-page tests (routing, queries, typing): slower than the default budget on a busy 2-core machine.
describe('Slot picker', { timeout: 30_000 }, () => {
  beforeEach(() => {
    // Monday 30 November 2026, midday UTC: still Monday in every zone from UTC-12 to UTC+11.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-30T12:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
    server.events.removeAllListeners();
  });

  it('asks for practitioner and service first, then loads 14 days in the patient\'s zone and says which', async () => {
    const calls = recordAvailabilityCalls();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    server.use(
      http.get(api('/api/availability/'), async () => {
        await held;
        return undefined;
      }, { once: true }),
    );
    const { user } = renderApp('/');
    expect(await screen.findByText('Choose a practitioner and a service to see the open times.')).toBeInTheDocument();
    const zone = patientTimeZone();
    expect(screen.getByText(new RegExp(`Times are shown in your time zone: .*${zone.replace('/', '\\/')}`))).toBeInTheDocument();

    await chooseService(user);
    expect(await screen.findByText('Loading open times…')).toBeInTheDocument();
    release();

    const days = within(await screen.findByRole('radiogroup', { name: 'Day' })).getAllByRole('radio');
    // Weekdays only (the mock's hours), from today: Mon 30 Nov to Fri 11 Dec.
    expect(days.map((d) => d.getAttribute('value'))).toEqual([
      '2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04',
      '2026-12-07', '2026-12-08', '2026-12-09', '2026-12-10', '2026-12-11',
    ]);
    expect(days[1]).toHaveAccessibleName('Tue Dec 1');
    expect(screen.getByText('Nov 30 – Dec 13')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Previous week' })).toBeDisabled();
    expect(screen.getByText('Choose a day to see its open times.')).toBeInTheDocument();
    expect(calls).toHaveLength(1);
    expect(Object.fromEntries(calls[0] ?? [])).toEqual({
      practitioner: 'ana-reyes',
      service: 'initial_consultation',
      from: '2026-11-30',
      to: '2026-12-13',
      tz: zone,
    });
  });

  it('picks a day and a time with the keyboard, and shows the chosen visit', async () => {
    const { user } = renderApp('/');
    await chooseService(user);
    await screen.findByRole('radiogroup', { name: 'Day' });

    // Tab into the day group lands on the first day; the arrow keys move (and choose) within it.
    screen.getByRole('button', { name: 'Next week' }).focus();
    await user.tab();
    const firstDay = within(dayGroup()).getByRole('radio', { name: 'Mon Nov 30' });
    expect(firstDay).toHaveFocus();
    await user.keyboard('{ArrowRight}');
    const secondDay = within(dayGroup()).getByRole('radio', { name: 'Tue Dec 1' });
    expect(secondDay).toHaveFocus();
    expect(secondDay).toBeChecked();

    const times = within(screen.getByRole('radiogroup', { name: 'Time on Tuesday, December 1' })).getAllByRole('radio');
    expect(times.map((t) => t.getAttribute('aria-checked') ?? (t as HTMLInputElement).checked)).not.toContain(true);
    expect(times.map((t) => t.closest('label')?.textContent)).toEqual(['9:00 AM', '9:30 AM', '10:00 AM', '1:00 PM', '3:30 PM']);
    await user.tab();
    expect(times[0]).toHaveFocus();
    await user.keyboard('{ArrowRight}{ArrowRight}');
    expect(times[2]).toBeChecked();
    expect(screen.getByText(/Your visit:/)).toHaveTextContent(/Tuesday, December 1.*10:00 AM.*\(60 minutes\)/);

    // Another day drops the time (a time belongs to its day).
    await user.click(within(dayGroup()).getByRole('radio', { name: 'Wed Dec 2' }));
    expect(screen.queryByText(/Your visit:/)).not.toBeInTheDocument();
    expect(within(timeGroup()).getAllByRole('radio').filter((t) => (t as HTMLInputElement).checked)).toEqual([]);
  });

  it('starts again when the service changes', async () => {
    const { user } = renderApp('/');
    await chooseService(user);
    await pickSlot(user, { day: 2, time: 1 });
    expect(screen.getByText(/Your visit:/)).toBeInTheDocument();
    await user.selectOptions(screen.getByLabelText('Service'), 'follow_up');
    expect(screen.queryByText(/Your visit:/)).not.toBeInTheDocument();
    await screen.findByRole('radiogroup', { name: 'Day' });
    expect(within(dayGroup()).getAllByRole('radio').filter((d) => (d as HTMLInputElement).checked)).toEqual([]);
  });

  it('says when a window has no open times, and "Next week" shows the next one', async () => {
    const calls = recordAvailabilityCalls();
    server.use(
      http.get(api('/api/availability/'), ({ request }) => {
        const query = new URL(request.url).searchParams;
        if (query.get('from') !== '2026-11-30') return undefined;
        const days = buildAvailabilityDays('2026-11-30', '2026-12-13', 'UTC').map((d) => ({ ...d, slots: [] }));
        return HttpResponse.json({ practitioner: 'ana-reyes', service: 'initial_consultation', time_zone: query.get('tz'), duration_minutes: 60, days });
      }),
    );
    const { user } = renderApp('/');
    await chooseService(user);

    expect(await screen.findByText('No open times Nov 30 – Dec 13.')).toBeInTheDocument();
    expect(screen.getByText('See next week.')).toBeInTheDocument();
    expect(screen.queryByRole('radiogroup', { name: 'Day' })).not.toBeInTheDocument();
    await waitFor(() => {
      expect(screen.getByTestId('live-region')).toHaveTextContent('No open times Nov 30 – Dec 13. See next week.');
    });

    const next = screen.getByRole('button', { name: 'Next week' });
    await user.click(next);
    const days = within(await screen.findByRole('radiogroup', { name: 'Day' })).getAllByRole('radio');
    expect(days[0]).toHaveAccessibleName('Mon Dec 7');
    expect(screen.getByText('Dec 7 – 20')).toBeInTheDocument();
    expect(calls.map((q) => [q.get('from'), q.get('to')])).toEqual([
      ['2026-11-30', '2026-12-13'],
      ['2026-12-07', '2026-12-20'],
    ]);

    // Back to the first week: "Previous week" is disabled there, so the focus moves to "Next week".
    const previous = screen.getByRole('button', { name: 'Previous week' });
    await user.click(previous);
    expect(previous).toBeDisabled();
    expect(next).toHaveFocus();
    expect(await screen.findByText('No open times Nov 30 – Dec 13.')).toBeInTheDocument();
  });

  it('on 409 refetches the slots, asks for another time, keeps what was typed, and books the next pick', async () => {
    const calls = recordAvailabilityCalls();
    const { user } = renderApp('/');
    await chooseService(user);
    const taken = await pickSlot(user, { day: 1, time: 0 });
    await fillPatient(user);
    // Someone else books that time while the patient types.
    db.take(taken);
    await user.click(screen.getByRole('button', { name: 'Continue to payment' }));

    const message = 'That time was just taken. Please pick another time; the open times are up to date.';
    expect(await screen.findByText(message, { selector: '.field-error' })).toBeInTheDocument();
    expect(screen.getByTestId('live-region')).toHaveTextContent(message);
    await waitFor(() => {
      expect(calls).toHaveLength(2);
    });
    // The taken time is gone from the (refetched) list; the day stays chosen; the keyboard is on the times.
    const times = await waitFor(() => {
      const radios = within(screen.getByRole('radiogroup', { name: 'Time on Tuesday, December 1' })).getAllByRole('radio');
      expect(radios).toHaveLength(4);
      return radios;
    });
    expect(times.map((t) => (t as HTMLInputElement).value)).not.toContain(taken);
    await waitFor(() => {
      expect(times[0]).toHaveFocus();
    });
    expect(timeGroup()).toHaveAttribute('aria-invalid', 'true');
    expect(timeGroup()).toHaveAccessibleDescription(message);
    expect(screen.queryByText(/Your visit:/)).not.toBeInTheDocument();
    expect(screen.getByLabelText('Full name')).toHaveValue('Jane Doe');
    expect(screen.getByLabelText('Email')).toHaveValue('jane@example.com');
    expect(screen.getByLabelText('State')).toHaveValue('CA');

    // A new pick clears the message; booking it goes through.
    await user.click(first(times));
    expect(screen.queryByText(message, { selector: '.field-error' })).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Continue to payment' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Review and pay' })).toBeInTheDocument();
  });

  it('shows every field error of one 400 together, refreshing the times when the time is at fault', async () => {
    const calls = recordAvailabilityCalls();
    server.use(
      http.post(api('/api/appointments/'), () =>
        errorResponse(400, 'validation_error', 'Invalid input.', {
          appointment_time: ['This time is too soon to book.'],
          client_email: ['Enter a valid email address.'],
          client_state: ['We do not serve this state yet.'],
        }),
      ),
    );
    const { user } = renderApp('/');
    await chooseService(user);
    await pickSlot(user, { day: 0, time: 0 });
    await fillPatient(user);
    await user.click(screen.getByRole('button', { name: 'Continue to payment' }));

    expect(await screen.findByText('This time is too soon to book.', { selector: '.field-error' })).toBeInTheDocument();
    expect(screen.getByLabelText('Email')).toHaveAccessibleDescription('Enter a valid email address.');
    expect(screen.getByLabelText('State')).toHaveAccessibleDescription('We do not serve this state yet.');
    expect(timeGroup()).toHaveAccessibleDescription('This time is too soon to book.');
    expect(screen.getByLabelText('Full name')).not.toHaveAttribute('aria-invalid');
    await waitFor(() => {
      expect(calls).toHaveLength(2);
    });
    // The time is the first field at fault: focus goes there (to the first open time of the chosen day).
    await waitFor(() => {
      expect(within(timeGroup()).getAllByRole('radio')[0]).toHaveFocus();
    });
    expect(screen.getByTestId('live-region')).toHaveTextContent('Please correct the highlighted fields.');
  });

  it('asks for a time when only a day is chosen, with focus on the times', async () => {
    const { user } = renderApp('/');
    await chooseService(user);
    await user.click(first(within(await screen.findByRole('radiogroup', { name: 'Day' })).getAllByRole('radio')));
    await fillPatient(user);
    await user.click(screen.getByRole('button', { name: 'Continue to payment' }));
    expect(await screen.findByText('Choose a time.', { selector: '.field-error' })).toBeInTheDocument();
    await waitFor(() => {
      expect(within(timeGroup()).getAllByRole('radio')[0]).toHaveFocus();
    });
  });

  it('offers Retry when the open times cannot be loaded', async () => {
    server.use(
      http.get(api('/api/availability/'), async () => {
        await delay(10);
        return HttpResponse.error();
      }, { once: true }),
    );
    const { user } = renderApp('/');
    await chooseService(user);
    expect(await screen.findByText(/We could not reach the server/)).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('radiogroup', { name: 'Day' })).toBeInTheDocument();
  });
});
