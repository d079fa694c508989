/**
 * The appointment a payment is pending for, kept across the trip to the provider's hosted page, so that a
 * refresh, a new tab or a return without query parameters still finds it. Only an id: nothing trusted.
 */
const KEY = 'sofia-checkout:pending-appointment-id';

export function savePendingAppointmentId(appointmentId: string): void {
  try {
    window.localStorage.setItem(KEY, appointmentId);
  } catch {
    // Storage can be full or disabled (private mode); the URL parameters still work.
  }
}

export function loadPendingAppointmentId(): string | null {
  try {
    return window.localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function clearPendingAppointmentId(): void {
  try {
    window.localStorage.removeItem(KEY);
  } catch {
    // see savePendingAppointmentId
  }
}

