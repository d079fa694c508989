import type { AppointmentOutput } from '@/lib/api/generated';

/** RFC 5545 text: backslash, semicolon, comma and newlines escaped. */
function icsText(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r?\n/g, '\\n');
}

/** An instant as UTC `YYYYMMDDTHHMMSSZ` (the server's times carry offsets; no zone table needed). */
function icsTime(iso: string): string {
  return new Date(iso).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/**
 * The visit as an iCalendar file, built here from the appointment the server sent. `manageUrl` is the page
 * without its token: a calendar entry may be shared, the access token must not be.
 */
export function buildIcs(appointment: AppointmentOutput, manageUrl: string, now = new Date()): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Sofia Health//Checkout//EN',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    'BEGIN:VEVENT',
    `UID:${appointment.id}@sofia-health`,
    `DTSTAMP:${icsTime(now.toISOString())}`,
    `DTSTART:${icsTime(appointment.appointment_time)}`,
    `DTEND:${icsTime(appointment.ends_at)}`,
    `SUMMARY:${icsText(`${appointment.service_name} with ${appointment.practitioner_name}`)}`,
    `DESCRIPTION:${icsText(`Sofia Health appointment for ${appointment.client_name}. Manage it: ${manageUrl}`)}`,
    `URL:${manageUrl}`,
    'STATUS:CONFIRMED',
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** Saves the file through a Blob link (no server round trip). */
export function downloadIcs(appointment: AppointmentOutput, manageUrl: string): void {
  const blob = new Blob([buildIcs(appointment, manageUrl)], { type: 'text/calendar;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = 'sofia-health-appointment.ics';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => {
    URL.revokeObjectURL(url);
  }, 0);
}
