import { http, HttpResponse } from 'msw';
import * as z from 'zod/mini';

import { getAppointment } from '@/api/get-appointment';
import type { AppointmentGetData, ConfigData } from '@/lib/api/generated';
import { ApiError, apiPath, apiRequest } from '@/lib/api-client';
import { buildAppointment, buildPaymentSession } from '@/testing/data';
import { api, errorResponse } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';

async function catchError(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('apiRequest', () => {
  it('sends Accept and JSON, never credentials, and parses the answer', async () => {
    let seen: Request | undefined;
    server.use(
      http.post(api('/api/echo/'), async ({ request }) => {
        seen = request.clone();
        return HttpResponse.json({ ok: true, got: await request.json() });
      }),
    );
    const data = await apiRequest('/api/echo/', {
      method: 'POST',
      body: { provider: 'stripe' },
      schema: z.object({ ok: z.boolean(), got: z.object({ provider: z.string() }) }),
    });
    expect(data).toEqual({ ok: true, got: { provider: 'stripe' } });
    expect(seen?.headers.get('accept')).toBe('application/json');
    expect(seen?.headers.get('content-type')).toBe('application/json');
    expect(seen?.credentials).not.toBe('include');
  });

  it('turns the error envelope into a typed ApiError', async () => {
    server.use(
      http.get(api('/api/appointments/x/'), () =>
        errorResponse(400, 'validation_error', 'Invalid input.', { client_email: ['Enter a valid email address.'] }),
      ),
    );
    const error = await catchError(getAppointment('x'));
    expect(error).toMatchObject({
      status: 400,
      code: 'validation_error',
      message: 'Invalid input.',
      errors: { client_email: ['Enter a valid email address.'] },
    });
  });

  it('reads Retry-After on 429', async () => {
    server.use(
      http.get(api('/api/appointments/x/'), () =>
        HttpResponse.json({ code: 'throttled', message: 'Slow down.', errors: {} }, { status: 429, headers: { 'Retry-After': '7' } }),
      ),
    );
    const error = await catchError(getAppointment('x'));
    expect(error.code).toBe('throttled');
    expect(error.retryAfter).toBe(7);
  });

  it('gives a code to a non-JSON error page', async () => {
    server.use(http.get(api('/api/appointments/x/'), () => new HttpResponse('<html>Bad gateway</html>', { status: 502 })));
    const error = await catchError(getAppointment('x'));
    expect(error).toMatchObject({ status: 502, code: 'provider_error' });
  });

  it('reports a network failure as network_error', async () => {
    server.use(http.get(api('/api/appointments/x/'), () => HttpResponse.error()));
    const error = await catchError(getAppointment('x'));
    expect(error).toMatchObject({ status: 0, code: 'network_error' });
  });

  it('rejects a response that does not match the contract (zod)', async () => {
    const malformed = { ...buildAppointment(), amount_cents: '150.00' };
    server.use(http.get(api('/api/appointments/x/'), () => HttpResponse.json(malformed)));
    const error = await catchError(getAppointment('x'));
    expect(error).toMatchObject({ status: 200, code: 'invalid_response' });
  });

  it('rejects a redirect_url that is not http(s)', async () => {
    const appointment = buildAppointment();
    // Valid in every other way, so only the redirect can be what is refused.
    const session = buildPaymentSession({ appointment_id: appointment.id, redirect_url: 'javascript:alert(1)' });
    server.use(http.get(api('/api/appointments/x/'), () => HttpResponse.json({ ...appointment, latest_payment_session: session })));
    const error = await catchError(getAppointment('x'));
    expect(error.code).toBe('invalid_response');
  });

  it("keeps the server's message when an error answer has no field errors", async () => {
    server.use(http.get(api('/api/appointments/x/'), () => HttpResponse.json({ code: 'not_found', message: 'No such appointment.' }, { status: 404 })));
    const error = await catchError(getAppointment('x'));
    expect(error).toMatchObject({ status: 404, code: 'not_found', message: 'No such appointment.', errors: {} });
  });
});

describe('apiPath', () => {
  it("fills a generated operation's URL template, encoding each parameter", () => {
    expect(
      apiPath<AppointmentGetData>('/api/appointments/{appointment_id}/', { appointment_id: 'a/b?c' }),
    ).toBe('/api/appointments/a%2Fb%3Fc/');
    expect(apiPath<ConfigData>('/api/config/')).toBe('/api/config/');
  });
});
