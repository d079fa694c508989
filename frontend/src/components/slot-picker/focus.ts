/**
 * Kept apart from the picker itself, which is loaded lazily (its own chunk): the booking form needs these
 * before the picker's code has arrived.
 */
export const SLOT_PICKER_ID = 'slot-picker';
export const DAY_INPUT = 'slot_day';
export const TIME_INPUT = 'slot_time';

/**
 * Where the keyboard should land when the time needs attention: the chosen (or first) time, else the chosen
 * (or first) day, else the first usable week button. Returns false when there is nothing to focus.
 */
export function focusSlotPicker(): boolean {
  const root = document.getElementById(SLOT_PICKER_ID);
  if (!root) return false;
  const target =
    root.querySelector<HTMLElement>(`input[name="${TIME_INPUT}"]:checked`) ??
    root.querySelector<HTMLElement>(`input[name="${TIME_INPUT}"]`) ??
    root.querySelector<HTMLElement>(`input[name="${DAY_INPUT}"]:checked`) ??
    root.querySelector<HTMLElement>(`input[name="${DAY_INPUT}"]`) ??
    root.querySelector<HTMLElement>('button:not(:disabled)');
  target?.focus();
  return target !== null;
}
