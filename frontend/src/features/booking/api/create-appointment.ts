import { useMutation, useQueryClient } from '@tanstack/react-query';

import { appointmentQueryKey } from '@/api/get-appointment';
import type { AppointmentCreateData, AppointmentOutput } from '@/lib/api/generated';
import { zAppointmentCreateResponse } from '@/lib/api/generated/zod.gen';
import { apiPath, apiRequest } from '@/lib/api-client';

/** Sends the practitioner's display name as `practitioner` (`provider_name` is the deprecated alias). */
export function createAppointment(input: AppointmentCreateData['body']): Promise<AppointmentOutput> {
  return apiRequest(apiPath<AppointmentCreateData>('/api/appointments/'), {
    method: 'POST',
    body: input,
    schema: zAppointmentCreateResponse,
  });
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
