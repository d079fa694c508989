import { lazy, Suspense } from 'react';

import { Loading } from '@/components/loading';

import type { SlotPickerProps } from './slot-picker';

export { focusSlotPicker } from './focus';

const load = () => import('./slot-picker');
const LazySlotPicker = lazy(load);

/**
 * The slot picker (days, then times; used by booking and by reschedule). Its code is a chunk of its own, so
 * the booking page paints before it arrives (docs/frontend.md, "Bundle budget"); `preloadSlotPicker()` starts
 * fetching it once the page is up, so a patient who picks a service rarely sees the fallback.
 */
export function SlotPicker(props: SlotPickerProps) {
  return (
    <Suspense fallback={<Loading label="Loading open times…" />}>
      <LazySlotPicker {...props} />
    </Suspense>
  );
}

export function preloadSlotPicker(): void {
  void load();
}
