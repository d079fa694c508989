import type { AppointmentOutput } from '@/lib/api/generated';

/** The msw handlers' in-memory state; reset after each test. */
export const db = {
  appointments: new Map<string, AppointmentOutput>(),
  /** Slot starts (as instants, ms) some other patient took: no longer offered, and a booking of one is a 409. */
  takenSlots: new Set<number>(),
  reset() {
    this.appointments.clear();
    this.takenSlots.clear();
  },
  put(appointment: AppointmentOutput): AppointmentOutput {
    this.appointments.set(appointment.id, appointment);
    return appointment;
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
