import { queryOptions, useQuery } from '@tanstack/react-query';

import type { CheckoutConfig, ConfigData } from '@/lib/api/generated';
import { zConfigResponse } from '@/lib/api/generated/zod.gen';
import { apiPath, apiRequest } from '@/lib/api-client';

/** Practitioners, services and prices, and the payment providers this server offers. Shared by booking and the pay buttons. */
export function getCheckoutConfig(signal?: AbortSignal): Promise<CheckoutConfig> {
  return apiRequest(apiPath<ConfigData>('/api/config/'), { schema: zConfigResponse, ...(signal ? { signal } : {}) });
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
