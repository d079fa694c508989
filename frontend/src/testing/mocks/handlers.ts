import { http, HttpResponse } from 'msw';

import { env } from '@/config/env';
import type { AppointmentCreateData, ProviderEnum } from '@/lib/api/generated';

import { buildAppointment, buildAvailabilityDays, buildPaymentSession, buildReceipt, testConfig } from '../data';
import { db, tokenFor } from './db';

export const api = (path: string) => `${env.apiBaseUrl}${path}`;

export function errorResponse(status: number, code: string, message: string, errors: Record<string, string[]> = {}) {
  return HttpResponse.json({ code, message, errors }, { status });
}

const notFound = () => errorResponse(404, 'not_found', 'Not found.');

/** One mock of our API, close to the contract in docs/architecture.md. Tests override single routes. */
export const handlers = [
  http.get(api('/api/config/'), () => HttpResponse.json(testConfig)),

  // Open slots per day in `tz`: weekdays at MOCK_SLOT_TIMES, minus taken and booked ones.
  http.get(api('/api/availability/'), ({ request }) => {
    const query = new URL(request.url).searchParams;
    const practitioner = testConfig.practitioners.find((p) => p.id === query.get('practitioner'));
    const service = practitioner?.services.find((s) => s.slug === query.get('service'));
    const from = query.get('from') ?? '';
    const to = query.get('to') ?? '';
    if (!practitioner) return errorResponse(400, 'validation_error', 'Invalid input.', { practitioner: ['Unknown practitioner.'] });
    if (!service) return errorResponse(400, 'validation_error', 'Invalid input.', { service: ['Not offered.'] });
    const timeZone = query.get('tz') ?? practitioner.time_zone;
    const days = buildAvailabilityDays(from, to, timeZone).map((day) => ({
      date: day.date,
      slots: day.slots.filter((slot) => !db.isTaken(slot)),
    }));
    return HttpResponse.json({
      practitioner: practitioner.id,
      service: service.slug,
      time_zone: timeZone,
      duration_minutes: service.duration_minutes,
      days,
    });
  }),

  http.post(api('/api/appointments/'), async ({ request }) => {
    const body = (await request.json()) as AppointmentCreateData['body'];
    const practitioner = testConfig.practitioners.find((p) => p.id === body.practitioner);
    const service = practitioner?.services.find((s) => s.slug === body.service);
    if (!practitioner || !service) {
      return errorResponse(400, 'validation_error', 'Invalid input.', { service: ['Unknown service.'] });
    }
    if (db.isTaken(body.appointment_time)) {
      return errorResponse(409, 'conflict', 'This time is already booked.', {
        appointment_time: ['This time is already booked.'],
      });
    }
    const appointment = db.put(
      buildAppointment({
        ...body,
        practitioner_name: practitioner.name,
        service_name: service.name,
        amount_cents: service.amount_cents,
        appointment_time: new Date(body.appointment_time).toISOString(),
      }),
      { inBrowser: false },
    );
    // The only answer with the access token; every per-appointment call below needs it.
    return HttpResponse.json({ ...appointment, access_token: tokenFor(appointment.id) }, { status: 201 });
  }),

  http.get(api('/api/appointments/:id/'), ({ params, request }) => {
    const appointment = db.authorized(String(params.id), request);
    return appointment ? HttpResponse.json(appointment) : notFound();
  }),

  // 200 only once paid (confirmed, with a paid session); 409 `not_paid` otherwise.
  http.get(api('/api/appointments/:id/receipt/'), ({ params, request }) => {
    const appointment = db.authorized(String(params.id), request);
    if (!appointment) return notFound();
    const paid = appointment.status === 'confirmed' && appointment.latest_payment_session?.status === 'paid';
    if (!paid) return errorResponse(409, 'not_paid', 'This appointment has not been paid.');
    return HttpResponse.json(buildReceipt(appointment));
  }),

  http.post(api('/api/appointments/:id/payment-sessions/'), async ({ params, request }) => {
    const appointment = db.authorized(String(params.id), request);
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

  http.post(api('/api/appointments/:id/cancel/'), ({ params, request }) => {
    const appointment = db.authorized(String(params.id), request);
    if (!appointment) return notFound();
    const session = appointment.latest_payment_session;
    const refunded = session?.status === 'paid' ? { ...session, status: 'refunded' as const } : session;
    return HttpResponse.json(db.put({ ...appointment, status: 'cancelled', latest_payment_session: refunded }));
  }),

  http.post(api('/api/appointments/:id/reschedule/'), async ({ params, request }) => {
    const appointment = db.authorized(String(params.id), request);
    if (!appointment) return notFound();
    const { appointment_time: time } = (await request.json()) as { appointment_time: string };
    if (db.isTaken(time)) return errorResponse(409, 'conflict', 'This time is already booked.');
    const start = new Date(time);
    const ends = new Date(start.getTime() + (new Date(appointment.ends_at).getTime() - new Date(appointment.appointment_time).getTime()));
    return HttpResponse.json(db.put({ ...appointment, appointment_time: start.toISOString(), ends_at: ends.toISOString() }));
  }),

  http.post(api('/api/payment-sessions/:id/sync/'), ({ params, request }) => {
    for (const appointment of db.appointments.values()) {
      if (appointment.latest_payment_session?.id === params.id && db.authorized(appointment.id, request)) {
        return HttpResponse.json(appointment.latest_payment_session);
      }
    }
    return notFound();
  }),
];
