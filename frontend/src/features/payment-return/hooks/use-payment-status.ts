import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';

import { appointmentQueryKey, useAppointment } from '@/api/get-appointment';
import { polling } from '@/config/polling';
import { savePendingAppointmentId } from '@/lib/pending-appointment';

import { useSyncPaymentSession } from '../api/sync-payment-session';
import { deriveReturnState, nextPollDelay } from '../return-state';

/**
 * The payment's status as our server sees it, for the return page: syncs the session with the provider, then
 * polls the appointment with backoff until it settles (or we give up and offer "Check again").
 *
 * - With the session id in the URL it syncs first, so the first read already reflects the provider; without it
 *   (refresh, new tab) it reads the appointment first, then syncs its latest session and reads again.
 * - While the payment is undecided, every `polling.resyncEvery` polls it asks the server to re-check with the
 *   provider too, so a lost webhook still ends.
 * - It remembers the appointment (localStorage) only once the server knows it and its payment is in progress:
 *   an old or bogus link must not replace the payment this browser is making.
 */
export function usePaymentStatus(appointmentId: string, paymentSessionId: string | null) {
  const queryClient = useQueryClient();

  const syncFromUrl = useSyncPaymentSession(appointmentId, paymentSessionId);
  const appointment = useAppointment(appointmentId, {
    enabled: paymentSessionId === null || syncFromUrl.status !== 'pending',
    refetchInterval: (query) => nextPollDelay(query.state.data, query.state.dataUpdateCount - 1),
    refetchIntervalInBackground: true,
    staleTime: 0,
  });
  const latestSessionId = appointment.data?.latest_payment_session?.id ?? null;
  const syncFromLatest = useSyncPaymentSession(appointmentId, paymentSessionId === null ? latestSessionId : null);
  const sync = paymentSessionId === null ? syncFromLatest : syncFromUrl;

  // Read again once the latest session has been synced (with the id in the URL the first read waited for it).
  const syncedLatest = paymentSessionId === null && sync.isSuccess;
  useEffect(() => {
    if (syncedLatest) void queryClient.invalidateQueries({ queryKey: appointmentQueryKey(appointmentId) });
  }, [appointmentId, queryClient, syncedLatest]);

  const state = appointment.data ? deriveReturnState(appointment.data) : null;
  const updates = queryClient.getQueryState(appointmentQueryKey(appointmentId))?.dataUpdateCount ?? 0;
  // isFetching is read so that the render after the last poll (same data) still happens.
  const stoppedWaiting =
    !appointment.isFetching &&
    ((state?.kind === 'waiting' && updates > polling.maxOpenPolls) ||
      (state?.kind === 'review' && updates > polling.maxReviewPolls));

  const status = appointment.data?.status;
  useEffect(() => {
    if (status === 'pending_payment' || status === 'payment_processing') savePendingAppointmentId(appointmentId);
  }, [appointmentId, status]);

  const unsettled = state?.kind === 'waiting' || state?.kind === 'review';
  const canResync = (paymentSessionId ?? latestSessionId) !== null;
  const { refetch: resync, isFetching: resyncing } = sync;
  // Only a new poll result may trigger a re-check: the last one handled is remembered, so a re-render for any
  // other reason (the re-check itself finishing, say) does not ask the provider again.
  const handledUpdate = useRef<number | null>(null);
  useEffect(() => {
    if (updates === handledUpdate.current) return;
    handledUpdate.current = updates;
    if (unsettled && canResync && !resyncing && updates > 0 && updates % polling.resyncEvery === 0) void resync();
  }, [updates, unsettled, canResync, resyncing, resync]);

  /** "Check again": re-check with the provider, then read the appointment. */
  const checkAgain = async () => {
    if (canResync) await resync();
    await appointment.refetch();
  };

  return { appointment, sync, state, stoppedWaiting, checkAgain };
}
