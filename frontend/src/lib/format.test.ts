import { formatMoney, toIsoWithOffset } from '@/lib/format';

describe('formatMoney', () => {
  it('formats integer cents as USD', () => {
    expect(formatMoney(15000)).toBe('$150.00');
    expect(formatMoney(12550, 'usd')).toBe('$125.50');
    expect(formatMoney(5)).toBe('$0.05');
  });
});

describe('toIsoWithOffset', () => {
  it('keeps the local wall time and adds the local offset', () => {
    const iso = toIsoWithOffset('2026-12-01', '15:00');
    expect(iso).toMatch(/^2026-12-01T15:00:00[+-]\d{2}:\d{2}$/);
    expect(new Date(iso ?? '').getTime()).toBe(new Date(2026, 11, 1, 15, 0).getTime());
  });

  it('refuses impossible dates', () => {
    expect(toIsoWithOffset('2026-02-31', '10:00')).toBeNull();
    expect(toIsoWithOffset('', '10:00')).toBeNull();
    expect(toIsoWithOffset('2026-02-01', '')).toBeNull();
  });
});
