import { queryOptions, skipToken, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';

import type { Availability, AvailabilityGetData } from '@/lib/api/generated';
import { zAvailabilityGetResponse } from '@/lib/api/generated/zod.gen';
import { apiPath, apiRequest } from '@/lib/api-client';

/** `practitioner` (id), `service` (slug), `from`/`to` (YYYY-MM-DD, inclusive, at most 31 days) and `tz` (IANA). */
export type AvailabilityQuery = AvailabilityGetData['query'];

/**
 * Open slot starts per day for one practitioner and service. Days are counted in `tz` and every start carries
 * that zone's offset, so the SPA formats them and never computes a time itself.
 */
export function getAvailability(query: AvailabilityQuery, signal?: AbortSignal): Promise<Availability> {
  const params = new URLSearchParams({ practitioner: query.practitioner, service: query.service, from: query.from, to: query.to });
  if (query.tz) params.set('tz', query.tz);
  return apiRequest(`${apiPath<AvailabilityGetData>('/api/availability/')}?${params.toString()}`, {
    schema: zAvailabilityGetResponse,
    ...(signal ? { signal } : {}),
  });
}

export const availabilityQueryKeys = {
  all: ['availability'] as const,
  one: (query: AvailabilityQuery) => ['availability', query] as const,
};

/** Slots go stale quickly (other patients book them): a short stale time, and a refetch after a conflict. */
export function getAvailabilityQueryOptions(query: AvailabilityQuery | null) {
  return queryOptions({
    queryKey: query ? availabilityQueryKeys.one(query) : availabilityQueryKeys.all,
    queryFn: query ? ({ signal }) => getAvailability(query, signal) : skipToken,
    staleTime: 30_000,
  });
}

/** `null` until a practitioner and a service are chosen (nothing is fetched). */
export function useAvailability(query: AvailabilityQuery | null) {
  return useQuery(getAvailabilityQueryOptions(query));
}

/** Refetches the slots on screen (after a 409 the taken one disappears); resolves when they are fresh. */
export function useRefreshAvailability(): () => Promise<void> {
  const queryClient = useQueryClient();
  return useCallback(() => queryClient.invalidateQueries({ queryKey: availabilityQueryKeys.all }), [queryClient]);
}
