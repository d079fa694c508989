import { queryOptions, useQuery } from '@tanstack/react-query';

import type { PaymentSessionOutput, PaymentSessionSyncData } from '@/lib/api/generated';
import { zPaymentSessionSyncResponse } from '@/lib/api/generated/zod.gen';
import { apiPath, apiRequest } from '@/lib/api-client';

/** Asks our server to re-fetch the session from the provider. Idempotent, so it is modelled as a query. */
export function syncPaymentSession(paymentSessionId: string, signal?: AbortSignal): Promise<PaymentSessionOutput> {
  const path = apiPath<PaymentSessionSyncData>('/api/payment-sessions/{payment_session_id}/sync/', {
    payment_session_id: paymentSessionId,
  });
  return apiRequest(path, {
    method: 'POST',
    schema: zPaymentSessionSyncResponse,
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
