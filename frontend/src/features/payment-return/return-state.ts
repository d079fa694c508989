import { backoffDelay, polling } from '@/config/polling';
import type { AppointmentOutput, PaymentSessionOutput } from '@/lib/api/generated';

/** What the return page shows, derived only from what our server says (never from the URL). */
export type ReturnState =
  | { kind: 'waiting' }
  | { kind: 'confirmed' }
  | { kind: 'review' }
  | { kind: 'failed'; provider: PaymentSessionOutput['provider'] }
  | { kind: 'unverified' }
  | { kind: 'payment_cancelled' }
  | { kind: 'session_expired' }
  | { kind: 'expired' }
  | { kind: 'cancelled' };

export function deriveReturnState(appointment: AppointmentOutput): ReturnState {
  switch (appointment.status) {
    case 'confirmed':
      return { kind: 'confirmed' };
    case 'payment_processing':
      return { kind: 'review' };
    case 'expired':
      return { kind: 'expired' };
    case 'cancelled':
      return { kind: 'cancelled' };
    case 'pending_payment':
      break;
  }
  const session = appointment.latest_payment_session;
  switch (session?.status) {
    case 'failed':
      return { kind: 'failed', provider: session.provider };
    case 'canceled':
      return { kind: 'payment_cancelled' };
    case 'expired':
      return { kind: 'session_expired' };
    case 'processing':
      return { kind: 'review' };
    case 'paid_unverified':
      // Money of the wrong amount confirms nothing: the server refunds it and the patient may pay again.
      return { kind: 'unverified' };
    default:
      // open / creating / paid-but-not-yet-applied: the webhook or the sync is on its way.
      return { kind: 'waiting' };
  }
}

/** The next poll in ms, or false when the state is final (react-query `refetchInterval`). */
export function nextPollDelay(appointment: AppointmentOutput | undefined, attempt: number): number | false {
  if (!appointment) return false;
  const state = deriveReturnState(appointment);
  if (state.kind === 'review') {
    return attempt >= polling.maxReviewPolls ? false : backoffDelay(attempt, polling.reviewBaseMs, polling.reviewCapMs);
  }
  if (state.kind === 'waiting') {
    return attempt >= polling.maxOpenPolls ? false : backoffDelay(attempt, polling.pendingBaseMs, polling.pendingCapMs);
  }
  return false;
}
