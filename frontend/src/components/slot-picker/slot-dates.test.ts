import { addDays, describeTimeZone, formatDateRange, formatSlot, formatSlotTime, todayIn } from './slot-dates';

describe('slot dates', () => {
  it('counts calendar days across months, years and DST changes', () => {
    expect(addDays('2026-11-30', 1)).toBe('2026-12-01');
    expect(addDays('2026-12-28', 7)).toBe('2027-01-04');
    expect(addDays('2027-03-13', 1)).toBe('2027-03-14');
    expect(addDays('2026-12-07', -7)).toBe('2026-11-30');
  });

  it('knows today in the patient\'s zone, not the UTC date', () => {
    const lateEvening = new Date('2026-12-01T03:30:00Z');
    expect(todayIn('America/Los_Angeles', lateEvening)).toBe('2026-11-30');
    expect(todayIn('Europe/Berlin', lateEvening)).toBe('2026-12-01');
  });

  it('shows a slot in the patient\'s zone whatever offset the server wrote', () => {
    expect(formatSlotTime('2026-12-01T09:00:00-05:00', 'America/New_York')).toBe('9:00 AM');
    expect(formatSlotTime('2026-12-01T09:00:00-05:00', 'America/Los_Angeles')).toBe('6:00 AM');
    expect(formatSlot('2026-12-01T14:00:00Z', 'America/Chicago')).toBe('Tuesday, December 1 at 8:00 AM CST');
  });

  it('names ranges and zones for people', () => {
    expect(formatDateRange('2026-11-30', '2026-12-13')).toBe('Nov 30 – Dec 13');
    expect(formatDateRange('2026-12-07', '2026-12-20')).toBe('Dec 7 – 20');
    expect(describeTimeZone('America/New_York')).toBe('Eastern Time (America/New_York)');
    expect(describeTimeZone('UTC')).toMatch(/UTC/);
  });
});
