import { queryOptions, useQuery } from '@tanstack/react-query';

import { apiRequest } from '@/lib/api-client';
import { paymentSessionSchema, type PaymentSession } from '@/types/api';

/** Asks our server to re-fetch the session from the provider. Idempotent, so it is modelled as a query. */
export function syncPaymentSession(paymentSessionId: string, signal?: AbortSignal): Promise<PaymentSession> {
  return apiRequest(`/api/payment-sessions/${encodeURIComponent(paymentSessionId)}/sync/`, {
    method: 'POST',
    schema: paymentSessionSchema,
    ...(signal ? { signal } : {}),
  });
}

export const syncPaymentSessionQueryOptions = (paymentSessionId: string) =>
  queryOptions({
    queryKey: ['payment-sessions', paymentSessionId, 'sync'],
    queryFn: ({ signal }) => syncPaymentSession(paymentSessionId, signal),
    staleTime: Infinity,
    retry: false,
  });

export function useSyncPaymentSession(paymentSessionId: string | null) {
  return useQuery({
    ...syncPaymentSessionQueryOptions(paymentSessionId ?? ''),
    enabled: paymentSessionId !== null,
  });
}
