import type { AppointmentOutput } from '@/lib/api/generated';

/** The msw handlers' in-memory state; reset after each test. */
export const db = {
  appointments: new Map<string, AppointmentOutput>(),
  reset() {
    this.appointments.clear();
  },
  put(appointment: AppointmentOutput): AppointmentOutput {
    this.appointments.set(appointment.id, appointment);
    return appointment;
  },
};
