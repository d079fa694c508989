import { queryOptions, useQuery } from '@tanstack/react-query';

import { apiRequest } from '@/lib/api-client';
import { checkoutConfigSchema, type CheckoutConfig } from '@/types/api';

export function getCheckoutConfig(signal?: AbortSignal): Promise<CheckoutConfig> {
  return apiRequest('/api/config/', { schema: checkoutConfigSchema, ...(signal ? { signal } : {}) });
}

export const getCheckoutConfigQueryOptions = () =>
  queryOptions({
    queryKey: ['config'],
    queryFn: ({ signal }) => getCheckoutConfig(signal),
    staleTime: 5 * 60_000,
  });

export function useCheckoutConfig() {
  return useQuery(getCheckoutConfigQueryOptions());
}
