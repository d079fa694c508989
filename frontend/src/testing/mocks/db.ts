import type { AppointmentOutput } from '@/lib/api/generated';
import { saveAccessToken } from '@/lib/pending-appointment';

/** The mock server's access token for an appointment (the real one is random; issue 12). */
export const tokenFor = (appointmentId: string) => `token-${appointmentId}`;

/** The msw handlers' in-memory state; reset after each test. */
export const db = {
  appointments: new Map<string, AppointmentOutput>(),
  /** Slot starts (as instants, ms) some other patient took: no longer offered, and a booking of one is a 409. */
  takenSlots: new Set<number>(),
  reset() {
    this.appointments.clear();
    this.takenSlots.clear();
  },
  /**
   * Stores an appointment. `inBrowser` (default): this browser booked it, so its access token is in
   * localStorage as the booking left it; `false` for a browser that only knows the id.
   */
  put(appointment: AppointmentOutput, { inBrowser = true }: { inBrowser?: boolean } = {}): AppointmentOutput {
    this.appointments.set(appointment.id, appointment);
    if (inBrowser) saveAccessToken(appointment.id, tokenFor(appointment.id));
    return appointment;
  },
  /** The appointment, only for the right `Authorization: Bearer` header (else null: the server's 404). */
  authorized(appointmentId: string, request: Request): AppointmentOutput | null {
    const appointment = this.appointments.get(appointmentId);
    if (!appointment) return null;
    return request.headers.get('Authorization') === `Bearer ${tokenFor(appointmentId)}` ? appointment : null;
  },
  /** Another patient books `slot` meanwhile. */
  take(slot: string): void {
    this.takenSlots.add(new Date(slot).getTime());
  },
  isTaken(slot: string): boolean {
    const at = new Date(slot).getTime();
    if (this.takenSlots.has(at)) return true;
    return [...this.appointments.values()].some((a) => new Date(a.appointment_time).getTime() === at);
  },
};
