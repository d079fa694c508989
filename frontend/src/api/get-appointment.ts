import { queryOptions, useQuery, type UseQueryOptions } from '@tanstack/react-query';

import type { AppointmentGetData, AppointmentOutput } from '@/lib/api/generated';
import { zAppointmentGetResponse } from '@/lib/api/generated/zod.gen';
import { apiPath, apiRequest } from '@/lib/api-client';
import { loadAccessToken } from '@/lib/pending-appointment';

/** Shared by checkout and payment-return (features never import each other). */
export function getAppointment(appointmentId: string, signal?: AbortSignal): Promise<AppointmentOutput> {
  return apiRequest(apiPath<AppointmentGetData>('/api/appointments/{appointment_id}/', { appointment_id: appointmentId }), {
    schema: zAppointmentGetResponse,
    accessToken: loadAccessToken(appointmentId),
    ...(signal ? { signal } : {}),
  });
}

export const appointmentQueryKey = (appointmentId: string) => ['appointments', appointmentId] as const;

export function getAppointmentQueryOptions(appointmentId: string) {
  return queryOptions({
    queryKey: appointmentQueryKey(appointmentId),
    queryFn: ({ signal }) => getAppointment(appointmentId, signal),
  });
}

type UseAppointmentOptions = Omit<
  UseQueryOptions<AppointmentOutput, Error, AppointmentOutput, ReturnType<typeof appointmentQueryKey>>,
  'queryKey' | 'queryFn'
>;

export function useAppointment(appointmentId: string, options: UseAppointmentOptions = {}) {
  return useQuery({ ...getAppointmentQueryOptions(appointmentId), ...options });
}
