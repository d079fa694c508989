import { queryOptions, useQuery } from '@tanstack/react-query';

import type { CheckoutConfig, ConfigData, ProviderEnum } from '@/lib/api/generated';
import { zConfigResponse, zProviderEnum } from '@/lib/api/generated/zod.gen';
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

/**
 * The providers the server lists in `payment_providers` that this SPA has a button for, in the SPA's order
 * (card first). A provider the server does not list gets no button; one the SPA does not know is ignored.
 */
export function offeredProviders(config: CheckoutConfig): ProviderEnum[] {
  return zProviderEnum.options.filter((provider) => config.payment_providers.includes(provider));
}

/**
 * `retryOnMount: false` is for a component inside a page that already waits for the config: mounting it after
 * a failure must show that failure (with Retry), not start a fetch that would put the page back to loading.
 */
export function useOfferedProviders(options: { retryOnMount?: boolean } = {}) {
  return useQuery({ ...getCheckoutConfigQueryOptions(), select: offeredProviders, ...options });
}
