import { queryOptions, useQuery } from '@tanstack/react-query';

import type { AppointmentReceiptData, Receipt } from '@/lib/api/generated';
import { zAppointmentReceiptResponse } from '@/lib/api/generated/zod.gen';
import { apiPath, apiRequest } from '@/lib/api-client';
import { loadAccessToken } from '@/lib/pending-appointment';

/** The itemized receipt of a paid appointment (200), or 409 `not_paid` while the payment is not confirmed. */
export function getReceipt(appointmentId: string, signal?: AbortSignal): Promise<Receipt> {
  return apiRequest(apiPath<AppointmentReceiptData>('/api/appointments/{appointment_id}/receipt/', { appointment_id: appointmentId }), {
    schema: zAppointmentReceiptResponse,
    accessToken: loadAccessToken(appointmentId),
    ...(signal ? { signal } : {}),
  });
}

export const receiptQueryKey = (appointmentId: string) => ['appointments', appointmentId, 'receipt'] as const;

export function getReceiptQueryOptions(appointmentId: string) {
  return queryOptions({
    queryKey: receiptQueryKey(appointmentId),
    queryFn: ({ signal }) => getReceipt(appointmentId, signal),
  });
}

export function useReceipt(appointmentId: string) {
  return useQuery(getReceiptQueryOptions(appointmentId));
}
