import { useMutation, useQueryClient } from '@tanstack/react-query';

import { appointmentQueryKey } from '@/api/get-appointment';
import type { AppointmentCreateData, AppointmentOutput } from '@/lib/api/generated';
import { zAppointmentCreateResponse } from '@/lib/api/generated/zod.gen';
import { apiPath, apiRequest } from '@/lib/api-client';
import { saveAccessToken } from '@/lib/pending-appointment';

/**
 * Books. The 201 is the only answer that carries the appointment's access token (issue 12): it goes to
 * localStorage at once (every later call for this appointment sends it) and is not kept anywhere else.
 */
export async function createAppointment(input: AppointmentCreateData['body']): Promise<AppointmentOutput> {
  const { access_token: accessToken, ...appointment } = await apiRequest(apiPath<AppointmentCreateData>('/api/appointments/'), {
    method: 'POST',
    body: input,
    schema: zAppointmentCreateResponse,
  });
  if (accessToken) saveAccessToken(appointment.id, accessToken);
  return appointment;
}

export function useCreateAppointment(options: { onSuccess?: (appointment: AppointmentOutput) => void } = {}) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: createAppointment,
    onSuccess: (appointment) => {
      queryClient.setQueryData(appointmentQueryKey(appointment.id), appointment);
      options.onSuccess?.(appointment);
    },
  });
}
