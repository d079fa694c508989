/**
 * Calendar dates ("YYYY-MM-DD") and slot times for the slot picker. Dates are plain calendar days in the
 * patient's zone (as the availability API counts them); times are the server's ISO strings with offsets, only
 * ever formatted here, never built.
 */

/** Days fetched per availability call; "Next week" / "Previous week" move the window by WEEK_DAYS. */
export const WINDOW_DAYS = 14;
export const WEEK_DAYS = 7;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Intl puts thin and narrow no-break spaces around dashes and before AM/PM: plain spaces read and match the same. */
function plainSpaces(text: string): string {
  return text.replace(/[\u2009\u202f]/g, ' ');
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** A calendar date as a UTC midnight, so formatting it in UTC shows that same date everywhere. */
function dateAtUtcMidnight(isoDate: string): Date {
  const match = ISO_DATE.exec(isoDate);
  if (!match) throw new Error(`Not a YYYY-MM-DD date: ${isoDate}`);
  return new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
}

/** Today's date in `timeZone`. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

export function addDays(isoDate: string, days: number): string {
  const date = dateAtUtcMidnight(isoDate);
  date.setUTCDate(date.getUTCDate() + days);
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

/** "Mon" and "Dec 1", shown on a day button. */
export function dayButtonParts(isoDate: string): { weekday: string; date: string } {
  const date = dateAtUtcMidnight(isoDate);
  return {
    weekday: new Intl.DateTimeFormat('en-US', { weekday: 'short', timeZone: 'UTC' }).format(date),
    date: new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' }).format(date),
  };
}

/** "Monday, December 1". */
export function formatLongDate(isoDate: string): string {
  return new Intl.DateTimeFormat('en-US', { weekday: 'long', month: 'long', day: 'numeric', timeZone: 'UTC' }).format(
    dateAtUtcMidnight(isoDate),
  );
}

/** "Dec 1 – 14" or "Nov 24 – Dec 7". */
export function formatDateRange(first: string, last: string): string {
  return plainSpaces(
    new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' }).formatRange(
      dateAtUtcMidnight(first),
      dateAtUtcMidnight(last),
    ),
  );
}

/** A slot's start as "9:00 AM" in `timeZone`. */
export function formatSlotTime(iso: string, timeZone: string): string {
  return plainSpaces(new Intl.DateTimeFormat('en-US', { hour: 'numeric', minute: '2-digit', timeZone }).format(new Date(iso)));
}

/** "Monday, December 1, 9:00 AM EST": the chosen slot, with its zone's short name. */
export function formatSlot(iso: string, timeZone: string): string {
  return plainSpaces(
    new Intl.DateTimeFormat('en-US', {
      weekday: 'long',
      month: 'long',
      day: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
      timeZoneName: 'short',
      timeZone,
    }).format(new Date(iso)),
  );
}

/** "Eastern Time (America/New_York)"; just the IANA name when the browser has no readable name for it. */
export function describeTimeZone(timeZone: string, now: Date = new Date()): string {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longGeneric' })
    .formatToParts(now)
    .find((part) => part.type === 'timeZoneName')?.value;
  return name && name !== timeZone && !name.startsWith('GMT') ? `${name} (${timeZone})` : timeZone;
}
