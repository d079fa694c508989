/**
 * How often the return page asks our server about an appointment while the payment settles.
 * Backoff 1 s, 1.5 s, 2.25 s ... capped; slower while Truemed reviews (it can take a while).
 */
export const polling = {
  pendingBaseMs: 1000,
  pendingCapMs: 8000,
  reviewBaseMs: 3000,
  reviewCapMs: 15000,
  factor: 1.5,
  /** After this many polls with the provider session still open we stop and offer "Check again". */
  maxOpenPolls: 15,
  /** A review can take long: after this many polls (about 15 minutes) we stop and offer "Check again". */
  maxReviewPolls: 60,
  /** Every this many polls, also ask the server to re-check with the provider (a lost webhook still ends). */
  resyncEvery: 5,
};

export function backoffDelay(attempt: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, Math.round(baseMs * polling.factor ** Math.max(0, attempt)));
}
