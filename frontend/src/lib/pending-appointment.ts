/**
 * What this browser keeps about appointments, in localStorage:
 * - the appointment a payment is pending for, kept across the trip to the provider's hosted page, so that a
 *   refresh, a new tab or a return without query parameters still finds it (only an id: nothing trusted);
 * - each appointment's **access token** (issue 12): the server answers per-appointment calls only with
 *   `Authorization: Bearer <token>`. It comes once, in the 201 of the booking, or in the manage link's URL
 *   fragment (never sent to a server). It is sent nowhere but that header.
 */
const PENDING_KEY = 'sofia-checkout:pending-appointment-id';
const TOKENS_KEY = 'sofia-checkout:appointment-access-tokens';
/** Enough for a patient's own recent bookings; the oldest are dropped first. */
const MAX_TOKENS = 20;

function read(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string | null): void {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch {
    // Storage can be full or disabled (private mode); the URL parameters and the manage link still work.
  }
}

export function savePendingAppointmentId(appointmentId: string): void {
  write(PENDING_KEY, appointmentId);
}

export function loadPendingAppointmentId(): string | null {
  return read(PENDING_KEY);
}

export function clearPendingAppointmentId(): void {
  write(PENDING_KEY, null);
}

/** [appointmentId, token] pairs, oldest first. Anything unreadable counts as empty. */
function readTokens(): [string, string][] {
  try {
    const parsed: unknown = JSON.parse(read(TOKENS_KEY) ?? '[]');
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (pair): pair is [string, string] =>
        Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && typeof pair[1] === 'string',
    );
  } catch {
    return [];
  }
}

export function saveAccessToken(appointmentId: string, token: string): void {
  const others = readTokens().filter(([id]) => id !== appointmentId);
  write(TOKENS_KEY, JSON.stringify([...others, [appointmentId, token]].slice(-MAX_TOKENS)));
}

export function loadAccessToken(appointmentId: string): string | null {
  return readTokens().find(([id]) => id === appointmentId)?.[1] ?? null;
}
