import { useRef, useState } from 'react';

import { useAnnouncement } from '@/components/announcer';
import { ApiErrorAlert } from '@/components/api-error-alert';
import { Loading } from '@/components/loading';

import { useAvailability } from '@/api/get-availability';
import {
  addDays,
  dayButtonParts,
  formatDateRange,
  formatLongDate,
  formatSlotTime,
  todayIn,
  WEEK_DAYS,
  WINDOW_DAYS,
} from './slot-dates';
import { DAY_INPUT, SLOT_PICKER_ID, TIME_INPUT } from './focus';
import './slot-picker.css';


export interface SlotPickerProps {
  practitionerId: string;
  serviceSlug: string;
  /** The patient's IANA zone: days are counted and times shown in it. */
  timeZone: string;
  /** The server's booking horizon: "Next week" stops there. */
  horizonDays: number;
  day: string;
  appointmentTime: string;
  onDayChange: (day: string) => void;
  onTimeChange: (appointmentTime: string) => void;
  /** The id of the error text for the time, when there is one. */
  errorId?: string | undefined;
}

/**
 * Days with open times in a 14-day window (one availability call), then that day's open times. Both are
 * native radio groups: Tab enters a group at its checked (or first) option and the arrow keys move within it.
 * Mount it with a `key` of practitioner and service, so a new choice starts again from today.
 */
export default function SlotPicker({
  practitionerId,
  serviceSlug,
  timeZone,
  horizonDays,
  day,
  appointmentTime,
  onDayChange,
  onTimeChange,
  errorId,
}: SlotPickerProps) {
  const [today] = useState(() => todayIn(timeZone));
  const [first, setFirst] = useState(today);
  const last = addDays(first, WINDOW_DAYS - 1);
  const lastBookable = addDays(today, horizonDays);
  const canGoBack = first > today;
  const canGoForward = addDays(first, WEEK_DAYS) <= lastBookable;
  const previousRef = useRef<HTMLButtonElement>(null);
  const nextRef = useRef<HTMLButtonElement>(null);

  const availability = useAvailability({ practitioner: practitionerId, service: serviceSlug, from: first, to: last, tz: timeZone });
  const openDays = availability.data?.days.filter((d) => d.slots.length > 0) ?? [];
  const shownZone = availability.data?.time_zone ?? timeZone;
  const chosenDay = openDays.find((d) => d.date === day);
  const range = formatDateRange(first, last);
  const invalid = errorId ? true : undefined;

  let announcement: string | null = null;
  if (availability.isSuccess) {
    announcement = openDays.length > 0 ? `Showing days with open times, ${range}.` : `No open times ${range}. See next week.`;
  }
  useAnnouncement(announcement);

  const move = (weeks: 1 | -1) => {
    const moved = addDays(first, weeks * WEEK_DAYS);
    const next = moved < today ? today : moved;
    setFirst(next);
    // A button that becomes disabled drops the focus to the page: hand it to the other one.
    const willGoBack = next > today;
    const willGoForward = addDays(next, WEEK_DAYS) <= lastBookable;
    if (weeks === -1 && !willGoBack) nextRef.current?.focus();
    if (weeks === 1 && !willGoForward) previousRef.current?.focus();
  };

  return (
    <div id={SLOT_PICKER_ID} className="slot-picker">
      <div className="slot-nav">
        <p id="slot-window" className="slot-window">
          {range}
        </p>
        <div className="slot-nav-buttons">
          <button
            ref={previousRef}
            type="button"
            className="button button-secondary button-compact"
            disabled={!canGoBack}
            onClick={() => {
              move(-1);
            }}
          >
            <span className="slot-nav-arrow" aria-hidden="true">←</span>Previous week
          </button>
          <button
            ref={nextRef}
            type="button"
            className="button button-secondary button-compact"
            disabled={!canGoForward}
            onClick={() => {
              move(1);
            }}
          >
            Next week<span className="slot-nav-arrow" aria-hidden="true">→</span>
          </button>
        </div>
      </div>

      {availability.isPending ? (
        <Loading label="Loading open times…" />
      ) : availability.isError ? (
        <ApiErrorAlert error={availability.error} onRetry={() => void availability.refetch()} />
      ) : openDays.length === 0 ? (
        <div className="notice notice-info slot-empty">
          <p>No open times {range}.</p>
          <p>{canGoForward ? 'See next week.' : 'Bookings open later; please check back soon.'}</p>
        </div>
      ) : (
        <fieldset
          className="fieldset slot-group"
          role="radiogroup"
          aria-invalid={invalid && !chosenDay ? true : undefined}
          aria-describedby={[`slot-window`, !chosenDay && errorId].filter(Boolean).join(' ')}
          aria-busy={availability.isFetching}
        >
          <legend className="slot-legend">Day</legend>
          <div className="slot-grid slot-grid-days">
            {openDays.map((option) => {
              const { weekday, date } = dayButtonParts(option.date);
              return (
                <label key={option.date} className="slot-option">
                  <input
                    type="radio"
                    name={DAY_INPUT}
                    value={option.date}
                    checked={option.date === day}
                    onChange={() => {
                      onDayChange(option.date);
                    }}
                  />
                  <span className="slot-chip">
                    <span className="slot-chip-weekday">{weekday}</span> <span>{date}</span>
                  </span>
                </label>
              );
            })}
          </div>
        </fieldset>
      )}

      {chosenDay && availability.isSuccess ? (
        <fieldset
          className="fieldset slot-group"
          role="radiogroup"
          aria-invalid={invalid}
          aria-describedby={errorId}
          aria-busy={availability.isFetching}
        >
          <legend className="slot-legend">Time on {formatLongDate(chosenDay.date)}</legend>
          <div className="slot-grid slot-grid-times">
            {chosenDay.slots.map((slot) => (
              <label key={slot} className="slot-option">
                <input
                  type="radio"
                  name={TIME_INPUT}
                  value={slot}
                  checked={slot === appointmentTime}
                  onChange={() => {
                    onTimeChange(slot);
                  }}
                />
                <span className="slot-chip">{formatSlotTime(slot, shownZone)}</span>
              </label>
            ))}
          </div>
        </fieldset>
      ) : openDays.length > 0 ? (
        <p className="muted">Choose a day to see its open times.</p>
      ) : null}
    </div>
  );
}
