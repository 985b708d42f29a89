import { addDays } from '../domain/dates.js';

/** A reporting period: calendar dates in Asia/Shanghai (the stored dates are local dates already). */
export interface Period {
  kind: 'quarter' | 'year';
  year: number;
  quarter: number | null;
  /** First and last day, inclusive. */
  from: string;
  to: string;
  /** The day stock figures are taken on: the period's last day, or today while the period runs. */
  asOf: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

function lastDayOfMonth(year: number, month: number): string {
  const next = month === 12 ? `${year + 1}-01-01` : `${year}-${pad(month + 1)}-01`;
  return addDays(next, -1);
}

export function quarterPeriod(year: number, quarter: number, today: string): Period {
  const firstMonth = (quarter - 1) * 3 + 1;
  const from = `${year}-${pad(firstMonth)}-01`;
  const to = lastDayOfMonth(year, firstMonth + 2);
  return { kind: 'quarter', year, quarter, from, to, asOf: to < today ? to : today };
}

export function yearPeriod(year: number, today: string): Period {
  const from = `${year}-01-01`;
  const to = `${year}-12-31`;
  return { kind: 'year', year, quarter: null, from, to, asOf: to < today ? to : today };
}
