import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';

import { appointmentQueryKey } from '@/api/get-appointment';
import type { PaymentSessionOutput, PaymentSessionStartData, ProviderEnum } from '@/lib/api/generated';
import { zPaymentSessionStartResponse } from '@/lib/api/generated/zod.gen';
import { ApiError, apiPath, apiRequest } from '@/lib/api-client';
import { loadAccessToken, savePendingAppointmentId } from '@/lib/pending-appointment';
import { redirectTo } from '@/lib/redirect';

/**
 * Starts (or reuses) a payment session. Never sends an amount: the server owns the price.
 * Shared by checkout and payment-return ("Pay by card instead").
 */
export function createPaymentSession(appointmentId: string, provider: ProviderEnum): Promise<PaymentSessionOutput> {
  const body: PaymentSessionStartData['body'] = { provider };
  return apiRequest(
    apiPath<PaymentSessionStartData>('/api/appointments/{appointment_id}/payment-sessions/', { appointment_id: appointmentId }),
    { method: 'POST', body, schema: zPaymentSessionStartResponse, accessToken: loadAccessToken(appointmentId) },
  );
}

/** A session without a redirect URL (still `creating`) cannot be paid yet: treat it as a failed attempt. */
async function createRedirectableSession(appointmentId: string, provider: ProviderEnum) {
  const session = await createPaymentSession(appointmentId, provider);
  if (!session.redirect_url) {
    throw new ApiError({
      status: 200,
      code: 'provider_unavailable',
      message: 'The payment page is not ready yet. Please try again.',
    });
  }
  return { ...session, redirect_url: session.redirect_url };
}

export const createPaymentSessionMutationOptions = (appointmentId: string) => ({
  mutationKey: ['appointments', appointmentId, 'payment-sessions'] as const,
  mutationFn: (provider: ProviderEnum) => createRedirectableSession(appointmentId, provider),
});

/** Automatic retries after `provider_busy` before the patient is handed a Retry button. */
export const BUSY_AUTO_RETRIES = 3;
/** Waits longer than this are shortened: the patient is watching a countdown. */
const BUSY_MAX_WAIT_SECONDS = 30;
const BUSY_DEFAULT_WAIT_SECONDS = 2;

export function isProviderBusy(error: unknown): error is ApiError {
  return error instanceof ApiError && error.code === 'provider_busy';
}

/** The countdown shown while a `provider_busy` answer is waited out. */
export interface BusyRetry {
  provider: ProviderEnum;
  secondsLeft: number;
  /** 1-based: which automatic retry this countdown leads to. */
  attempt: number;
}

/**
 * Creates the session, remembers the appointment, then sends the browser to the provider's hosted page.
 * A ref guards against a second click landing before React re-renders the disabled buttons, so a double
 * click never asks for two sessions. After success the page is leaving: `isBusy` stays true.
 *
 * A 503 `provider_busy` (the provider's rate limit, issue 15) is waited out: a countdown of `Retry-After`
 * seconds, then the same create again (the server reuses its stored idempotency key, so no second provider
 * session), up to BUSY_AUTO_RETRIES times; after that the error stays with a Retry button.
 */
export function useStartPayment(appointmentId: string) {
  const queryClient = useQueryClient();
  const inFlight = useRef(false);
  const autoRetries = useRef(0);
  const [busyRetry, setBusyRetry] = useState<BusyRetry | null>(null);
  const mutation = useMutation({
    ...createPaymentSessionMutationOptions(appointmentId),
    onSuccess: (session) => {
      savePendingAppointmentId(appointmentId);
      redirectTo(session.redirect_url);
    },
    onError: (error, provider) => {
      inFlight.current = false;
      if (isProviderBusy(error) && autoRetries.current < BUSY_AUTO_RETRIES) {
        autoRetries.current += 1;
        const wait = Math.min(error.retryAfter ?? BUSY_DEFAULT_WAIT_SECONDS, BUSY_MAX_WAIT_SECONDS);
        setBusyRetry({ provider, secondsLeft: Math.max(wait, 1), attempt: autoRetries.current });
        return;
      }
      // A 409 means the appointment moved on (paid, in review, expired): show its current state.
      if (error instanceof ApiError && error.code === 'conflict') {
        void queryClient.invalidateQueries({ queryKey: appointmentQueryKey(appointmentId) });
      }
    },
  });

  // One tick a second; at zero the same create is sent again.
  const { mutate } = mutation;
  useEffect(() => {
    if (!busyRetry) return;
    const timer = setTimeout(() => {
      if (busyRetry.secondsLeft > 1) {
        setBusyRetry({ ...busyRetry, secondsLeft: busyRetry.secondsLeft - 1 });
        return;
      }
      setBusyRetry(null);
      inFlight.current = true;
      mutate(busyRetry.provider);
    }, 1000);
    return () => {
      clearTimeout(timer);
    };
  }, [busyRetry, mutate]);

  // Back from the provider's page can restore this page from the back/forward cache, as it was when it
  // left: busy. Make the buttons usable again and re-read the appointment (it may have moved on).
  const { reset } = mutation;
  useEffect(() => {
    const onPageShow = (event: PageTransitionEvent) => {
      if (!event.persisted) return;
      inFlight.current = false;
      reset();
      void queryClient.invalidateQueries({ queryKey: appointmentQueryKey(appointmentId) });
    };
    window.addEventListener('pageshow', onPageShow);
    return () => {
      window.removeEventListener('pageshow', onPageShow);
    };
  }, [appointmentId, queryClient, reset]);

  /** A click (not an automatic retry): the patient starts again with a fresh allowance of retries. */
  const start = (provider: ProviderEnum) => {
    if (inFlight.current || busyRetry) return;
    inFlight.current = true;
    autoRetries.current = 0;
    mutation.mutate(provider);
  };

  const leaving = mutation.isPending || mutation.isSuccess;
  return {
    start,
    isBusy: leaving || busyRetry !== null,
    pendingProvider: leaving ? mutation.variables : busyRetry?.provider,
    busyRetry,
    error: busyRetry ? null : mutation.error,
    reset: mutation.reset,
  };
}
