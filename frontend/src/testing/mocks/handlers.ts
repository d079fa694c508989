import { http, HttpResponse } from 'msw';

import { env } from '@/config/env';
import type { AppointmentCreateData, ProviderEnum } from '@/lib/api/generated';

import { buildAppointment, buildPaymentSession, testConfig } from '../data';
import { db } from './db';

export const api = (path: string) => `${env.apiBaseUrl}${path}`;

export function errorResponse(status: number, code: string, message: string, errors: Record<string, string[]> = {}) {
  return HttpResponse.json({ code, message, errors }, { status });
}

const notFound = () => errorResponse(404, 'not_found', 'Not found.');

/** One mock of our API, close to the contract in docs/architecture.md. Tests override single routes. */
export const handlers = [
  http.get(api('/api/config/'), () => HttpResponse.json(testConfig)),

  http.post(api('/api/appointments/'), async ({ request }) => {
    const body = (await request.json()) as AppointmentCreateData['body'];
    const name = body.practitioner;
    const practitioner = testConfig.practitioners.find((p) => p.name === name);
    const service = practitioner?.services.find((s) => s.slug === body.service);
    if (!service) return errorResponse(400, 'validation_error', 'Invalid input.', { service: ['Unknown service.'] });
    const appointment = db.put(
      buildAppointment({
        ...body,
        service_name: service.name,
        amount_cents: service.amount_cents,
        appointment_time: new Date(body.appointment_time).toISOString(),
      }),
    );
    return HttpResponse.json(appointment, { status: 201 });
  }),

  http.get(api('/api/appointments/:id/'), ({ params }) => {
    const appointment = db.appointments.get(String(params.id));
    return appointment ? HttpResponse.json(appointment) : notFound();
  }),

  http.post(api('/api/appointments/:id/payment-sessions/'), async ({ params, request }) => {
    const appointment = db.appointments.get(String(params.id));
    if (!appointment) return notFound();
    const { provider } = (await request.json()) as { provider: ProviderEnum };
    const session = buildPaymentSession({
      appointment_id: appointment.id,
      provider,
      amount_cents: appointment.amount_cents,
      redirect_url: `https://pay.example.test/${provider}/${appointment.id}`,
    });
    db.put({ ...appointment, latest_payment_session: session });
    return HttpResponse.json(session, { status: 201 });
  }),

  http.post(api('/api/payment-sessions/:id/sync/'), ({ params }) => {
    for (const appointment of db.appointments.values()) {
      if (appointment.latest_payment_session?.id === params.id) {
        return HttpResponse.json(appointment.latest_payment_session);
      }
    }
    return notFound();
  }),
];
