import { describe, it, expect } from 'vitest';
import { addDays, daysBetween, isCalendarDate, todayInShanghai } from '../../src/domain/dates.js';

describe('todayInShanghai', () => {
  it('is the UTC date shifted by +8 hours', () => {
    expect(todayInShanghai(new Date('2024-03-10T15:59:59.999Z'))).toBe('2024-03-10');
    expect(todayInShanghai(new Date('2024-03-10T16:00:00.000Z'))).toBe('2024-03-11');
  });

  it('rolls over the year and leap day in Shanghai time', () => {
    expect(todayInShanghai(new Date('2023-12-31T16:00:00Z'))).toBe('2024-01-01');
    expect(todayInShanghai(new Date('2024-02-28T16:30:00Z'))).toBe('2024-02-29');
  });

  it('defaults to now and returns a calendar date', () => {
    expect(isCalendarDate(todayInShanghai())).toBe(true);
  });

  it('rejects an invalid Date', () => {
    expect(() => todayInShanghai(new Date('nope'))).toThrow(RangeError);
  });
});

describe('isCalendarDate', () => {
  it('accepts real dates including leap days', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2000-02-29')).toBe(true);
    expect(isCalendarDate('1949-10-01')).toBe(true);
  });

  it('rejects impossible dates', () => {
    expect(isCalendarDate('2023-02-29')).toBe(false);
    expect(isCalendarDate('1900-02-29')).toBe(false);
    expect(isCalendarDate('2024-04-31')).toBe(false);
    expect(isCalendarDate('2024-13-01')).toBe(false);
    expect(isCalendarDate('2024-00-10')).toBe(false);
    expect(isCalendarDate('0000-01-01')).toBe(false);
  });

  it('rejects anything but strict YYYY-MM-DD', () => {
    expect(isCalendarDate('2024-1-05')).toBe(false);
    expect(isCalendarDate('20240105')).toBe(false);
    expect(isCalendarDate('2024-01-05T00:00:00Z')).toBe(false);
    expect(isCalendarDate(' 2024-01-05')).toBe(false);
    expect(isCalendarDate('')).toBe(false);
  });
});

describe('addDays', () => {
  it('crosses month, year and leap-day boundaries', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2023-02-28', 1)).toBe('2023-03-01');
    expect(addDays('2024-12-31', 1)).toBe('2025-01-01');
    expect(addDays('2025-01-01', -1)).toBe('2024-12-31');
    expect(addDays('2024-01-15', 0)).toBe('2024-01-15');
    expect(addDays('2021-07-15', 365)).toBe('2022-07-15');
  });

  it('handles early years without the Date two-digit-year trap', () => {
    expect(addDays('0050-03-01', -1)).toBe('0050-02-28');
  });

  it('throws on bad input', () => {
    expect(() => addDays('2024-02-30', 1)).toThrow(RangeError);
    expect(() => addDays('2024-02-01', 1.5)).toThrow(RangeError);
    expect(() => addDays('9999-12-31', 1)).toThrow(RangeError);
  });
});

describe('daysBetween', () => {
  it('is signed and inverse to addDays', () => {
    expect(daysBetween('2024-01-01', '2025-01-01')).toBe(366);
    expect(daysBetween('2025-01-01', '2024-01-01')).toBe(-366);
    expect(daysBetween('2024-03-10', '2024-03-10')).toBe(0);
    expect(daysBetween('1970-01-01', '2000-01-01')).toBe(10957);
    expect(daysBetween('1990-05-17', addDays('1990-05-17', 12345))).toBe(12345);
  });

  it('throws on bad input', () => {
    expect(() => daysBetween('2024-01-01', '2024-02-30')).toThrow(RangeError);
  });
});
