import { act } from '@testing-library/react';
import { http, HttpResponse } from 'msw';

import { redirectTo } from '@/lib/redirect';
import { buildAppointment, buildPaymentSession } from '@/testing/data';
import { db } from '@/testing/mocks/db';
import { api } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';
import { renderApp, screen } from '@/testing/test-utils';

vi.mock('@/lib/redirect', () => ({ redirectTo: vi.fn() }));

/** 503 provider_busy, as the backend answers when its provider token bucket is empty (issue 15). */
function busy(retryAfter: string) {
  return HttpResponse.json(
    { code: 'provider_busy', message: 'The payment provider is busy. Please try again shortly.', errors: {} },
    { status: 503, headers: { 'Retry-After': retryAfter } },
  );
}

/** Answers each create from `answers` in turn and records every request body. */
function sessionCreates(answers: (() => Response)[]) {
  const bodies: unknown[] = [];
  server.use(
    http.post(api('/api/appointments/:id/payment-sessions/'), async ({ request }) => {
      bodies.push(await request.json());
      const answer = answers[bodies.length - 1];
      return answer ? answer() : busy('1');
    }),
  );
  return bodies;
}

const paid = () =>
  HttpResponse.json(buildPaymentSession({ redirect_url: 'https://checkout.example.test/pay/cs_busy' }), { status: 201 });

/** One second per act(): each tick renders and arms the next one before time moves on. */
async function advance(seconds: number) {
  for (let second = 0; second < seconds; second += 1) {
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1000);
    });
  }
}

describe('Pay buttons when the payment provider is busy (503 provider_busy)', () => {
  beforeEach(() => {
    vi.mocked(redirectTo).mockClear();
    vi.useFakeTimers({ shouldAdvanceTime: true });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('counts down Retry-After, then sends the same create again and goes to the payment page', async () => {
    const bodies = sessionCreates([() => busy('3'), paid]);
    const appointment = db.put(buildAppointment());
    const { user } = renderApp(`/appointments/${appointment.id}/checkout`);
    await user.click(await screen.findByRole('button', { name: 'Pay by card' }));

    const notice = await screen.findByTestId('provider-busy');
    expect(notice).toHaveTextContent('The payment service is busy, retrying in 3 s');
    expect(notice).toHaveTextContent('Attempt 1 of 3');
    expect(screen.getByRole('button', { name: /card/i })).toBeDisabled();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();

    await advance(1);
    expect(notice).toHaveTextContent('retrying in 2 s');
    expect(bodies).toHaveLength(1);
    await advance(2);
    await vi.waitFor(() => {
      expect(redirectTo).toHaveBeenCalledWith('https://checkout.example.test/pay/cs_busy');
    });
    expect(bodies).toEqual([{ provider: 'stripe' }, { provider: 'stripe' }]);
  });

  it('retries three times by itself, then offers a Retry button (never a dead end)', async () => {
    const bodies = sessionCreates([() => busy('2'), () => busy('2'), () => busy('2'), () => busy('2'), paid]);
    const appointment = db.put(buildAppointment());
    const { user } = renderApp(`/appointments/${appointment.id}/checkout`);
    await user.click(await screen.findByRole('button', { name: 'Pay with HSA / FSA' }));

    for (const attempt of [1, 2, 3]) {
      expect(await screen.findByText(`Attempt ${attempt} of 3; you stay on this page.`, { exact: false })).toBeInTheDocument();
      await advance(2);
    }
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The payment service is busy');
    expect(screen.queryByTestId('provider-busy')).not.toBeInTheDocument();
    expect(bodies).toHaveLength(4);

    await user.click(screen.getByRole('button', { name: 'Retry' }));
    await vi.waitFor(() => {
      expect(redirectTo).toHaveBeenCalledTimes(1);
    });
    expect(bodies).toHaveLength(5);
    expect(new Set(bodies.map((body) => JSON.stringify(body)))).toEqual(new Set(['{"provider":"truemed"}']));
  });

  it('caps a long Retry-After and waits 2 s when the header is missing', async () => {
    sessionCreates([() => busy('600'), () => busy('')]);
    const appointment = db.put(buildAppointment());
    const { user } = renderApp(`/appointments/${appointment.id}/checkout`);
    await user.click(await screen.findByRole('button', { name: 'Pay by card' }));
    expect(await screen.findByTestId('provider-busy')).toHaveTextContent('retrying in 30 s');
    await advance(30);
    expect(await screen.findByTestId('provider-busy')).toHaveTextContent('retrying in 2 s');
  });
});
