import { useMutation, useQueryClient } from '@tanstack/react-query';

import { appointmentQueryKey } from '@/api/get-appointment';
import type { AppointmentCancelData, AppointmentOutput, AppointmentRescheduleData } from '@/lib/api/generated';
import { zAppointmentCancelResponse, zAppointmentRescheduleResponse } from '@/lib/api/generated/zod.gen';
import { apiPath, apiRequest } from '@/lib/api-client';
import { loadAccessToken } from '@/lib/pending-appointment';

/** Cancels; the server refunds a paid visit when its policy allows, or answers 409 (window closed). */
export function cancelAppointment(appointmentId: string): Promise<AppointmentOutput> {
  return apiRequest(apiPath<AppointmentCancelData>('/api/appointments/{appointment_id}/cancel/', { appointment_id: appointmentId }), {
    method: 'POST',
    schema: zAppointmentCancelResponse,
    accessToken: loadAccessToken(appointmentId),
  });
}

/** Moves the visit to another open slot (sent exactly as the availability API offered it), same price. */
export function rescheduleAppointment(appointmentId: string, appointmentTime: string): Promise<AppointmentOutput> {
  const body: AppointmentRescheduleData['body'] = { appointment_time: appointmentTime };
  return apiRequest(
    apiPath<AppointmentRescheduleData>('/api/appointments/{appointment_id}/reschedule/', { appointment_id: appointmentId }),
    { method: 'POST', body, schema: zAppointmentRescheduleResponse, accessToken: loadAccessToken(appointmentId) },
  );
}

/** Both answer the updated appointment: it replaces the cached one. */
export function useCancelAppointment(appointmentId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => cancelAppointment(appointmentId),
    onSuccess: (appointment) => {
      queryClient.setQueryData(appointmentQueryKey(appointmentId), appointment);
    },
  });
}

export function useRescheduleAppointment(appointmentId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (appointmentTime: string) => rescheduleAppointment(appointmentId, appointmentTime),
    onSuccess: (appointment) => {
      queryClient.setQueryData(appointmentQueryKey(appointmentId), appointment);
    },
  });
}
