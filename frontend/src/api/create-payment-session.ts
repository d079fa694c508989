import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';

import { appointmentQueryKey } from '@/api/get-appointment';
import type { PaymentSessionOutput, PaymentSessionStartData, ProviderEnum } from '@/lib/api/generated';
import { zPaymentSessionStartResponse } from '@/lib/api/generated/zod.gen';
import { ApiError, apiPath, apiRequest } from '@/lib/api-client';
import { savePendingAppointmentId } from '@/lib/pending-appointment';
import { redirectTo } from '@/lib/redirect';

/**
 * Starts (or reuses) a payment session. Never sends an amount: the server owns the price.
 * Shared by checkout and payment-return ("Pay by card instead").
 */
export function createPaymentSession(appointmentId: string, provider: ProviderEnum): Promise<PaymentSessionOutput> {
  const body: PaymentSessionStartData['body'] = { provider };
  return apiRequest(
    apiPath<PaymentSessionStartData>('/api/appointments/{appointment_id}/payment-sessions/', { appointment_id: appointmentId }),
    { method: 'POST', body, schema: zPaymentSessionStartResponse },
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

/**
 * Creates the session, remembers the appointment, then sends the browser to the provider's hosted page.
 * A ref guards against a second click landing before React re-renders the disabled buttons, so a double
 * click never asks for two sessions. After success the page is leaving: `isBusy` stays true.
 */
export function useStartPayment(appointmentId: string) {
  const queryClient = useQueryClient();
  const inFlight = useRef(false);
  const mutation = useMutation({
    ...createPaymentSessionMutationOptions(appointmentId),
    onSuccess: (session) => {
      savePendingAppointmentId(appointmentId);
      redirectTo(session.redirect_url);
    },
    onError: (error) => {
      inFlight.current = false;
      // A 409 means the appointment moved on (paid, in review, expired): show its current state.
      if (error instanceof ApiError && error.code === 'conflict') {
        void queryClient.invalidateQueries({ queryKey: appointmentQueryKey(appointmentId) });
      }
    },
  });

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

  const start = (provider: ProviderEnum) => {
    if (inFlight.current) return;
    inFlight.current = true;
    mutation.mutate(provider);
  };

  return {
    start,
    isBusy: mutation.isPending || mutation.isSuccess,
    pendingProvider: mutation.isPending || mutation.isSuccess ? mutation.variables : undefined,
    error: mutation.error,
    reset: mutation.reset,
  };
}
