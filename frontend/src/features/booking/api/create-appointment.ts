import { useMutation, useQueryClient } from '@tanstack/react-query';

import { appointmentQueryKey } from '@/api/get-appointment';
import { apiRequest } from '@/lib/api-client';
import { appointmentSchema, type Appointment, type AppointmentCreateInput } from '@/types/api';

export function createAppointment(input: AppointmentCreateInput): Promise<Appointment> {
  return apiRequest('/api/appointments/', { method: 'POST', body: input, schema: appointmentSchema });
}

export function useCreateAppointment(options: { onSuccess?: (appointment: Appointment) => void } = {}) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: createAppointment,
    onSuccess: (appointment) => {
      queryClient.setQueryData(appointmentQueryKey(appointment.id), appointment);
      options.onSuccess?.(appointment);
    },
  });
}
