import type { Appointment } from '@/types/api';

/** The msw handlers' in-memory state; reset after each test. */
export const db = {
  appointments: new Map<string, Appointment>(),
  reset() {
    this.appointments.clear();
  },
  put(appointment: Appointment): Appointment {
    this.appointments.set(appointment.id, appointment);
    return appointment;
  },
};
