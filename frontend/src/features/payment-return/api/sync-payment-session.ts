import { queryOptions, useQuery } from '@tanstack/react-query';

import type { PaymentSessionOutput, PaymentSessionSyncData } from '@/lib/api/generated';
import { zPaymentSessionSyncResponse } from '@/lib/api/generated/zod.gen';
import { apiPath, apiRequest } from '@/lib/api-client';
import { loadAccessToken } from '@/lib/pending-appointment';

/**
 * Asks our server to re-fetch the session from the provider. Idempotent, so it is modelled as a query. The
 * session's appointment names the access token to send.
 */
export function syncPaymentSession(
  appointmentId: string,
  paymentSessionId: string,
  signal?: AbortSignal,
): Promise<PaymentSessionOutput> {
  const path = apiPath<PaymentSessionSyncData>('/api/payment-sessions/{payment_session_id}/sync/', {
    payment_session_id: paymentSessionId,
  });
  return apiRequest(path, {
    method: 'POST',
    schema: zPaymentSessionSyncResponse,
    accessToken: loadAccessToken(appointmentId),
    ...(signal ? { signal } : {}),
  });
}

export const syncPaymentSessionQueryOptions = (appointmentId: string, paymentSessionId: string) =>
  queryOptions({
    queryKey: ['payment-sessions', paymentSessionId, 'sync'],
    queryFn: ({ signal }) => syncPaymentSession(appointmentId, paymentSessionId, signal),
    staleTime: Infinity,
    retry: false,
  });

export function useSyncPaymentSession(appointmentId: string, paymentSessionId: string | null) {
  return useQuery({
    ...syncPaymentSessionQueryOptions(appointmentId, paymentSessionId ?? ''),
    enabled: paymentSessionId !== null,
  });
}
