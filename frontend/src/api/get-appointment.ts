import { queryOptions, useQuery, type UseQueryOptions } from '@tanstack/react-query';

import { apiRequest } from '@/lib/api-client';
import { appointmentSchema, type Appointment } from '@/types/api';

/** Shared by checkout and payment-return (features never import each other). */
export function getAppointment(appointmentId: string, signal?: AbortSignal): Promise<Appointment> {
  return apiRequest(`/api/appointments/${encodeURIComponent(appointmentId)}/`, {
    schema: appointmentSchema,
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
  UseQueryOptions<Appointment, Error, Appointment, ReturnType<typeof appointmentQueryKey>>,
  'queryKey' | 'queryFn'
>;

export function useAppointment(appointmentId: string, options: UseAppointmentOptions = {}) {
  return useQuery({ ...getAppointmentQueryOptions(appointmentId), ...options });
}
