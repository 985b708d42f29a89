// Calendar-date helpers on plain `YYYY-MM-DD` strings.
// Dates are converted to a day count with integer arithmetic (no Date parsing,
// no ICU, no host time zone), so results are identical on every machine.

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const SHANGHAI_OFFSET_MS = 8 * 60 * 60 * 1000; // Asia/Shanghai is UTC+8 with no DST since 1991
const MS_PER_DAY = 24 * 60 * 60 * 1000;

type Ymd = { y: number; m: number; d: number };

function isLeapYear(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return isLeapYear(y) ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

function parse(s: string): Ymd | undefined {
  const match = DATE_PATTERN.exec(s);
  if (!match) return undefined;
  const y = Number(match[1]);
  const m = Number(match[2]);
  const d = Number(match[3]);
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return undefined;
  return { y, m, d };
}

function parseOrThrow(s: string, name: string): Ymd {
  const ymd = parse(s);
  if (!ymd) throw new RangeError(`${name} must be a real date in YYYY-MM-DD form, got ${JSON.stringify(s)}`);
  return ymd;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function format({ y, m, d }: Ymd): string {
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil).
function toEpochDay({ y, m, d }: Ymd): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

// Inverse of toEpochDay (civil_from_days).
function fromEpochDay(days: number): Ymd {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

/** Today's date in Asia/Shanghai as YYYY-MM-DD (fixed UTC+8 offset). */
export function todayInShanghai(now: Date = new Date()): string {
  const ms = now.getTime();
  if (Number.isNaN(ms)) throw new RangeError('now must be a valid Date');
  return format(fromEpochDay(Math.floor((ms + SHANGHAI_OFFSET_MS) / MS_PER_DAY)));
}

/** True when `s` is exactly YYYY-MM-DD and names a real day (years 0001–9999). */
export function isCalendarDate(s: string): boolean {
  return parse(s) !== undefined;
}

/** `date` shifted by a whole number of days (negative goes back). Throws on invalid input. */
export function addDays(date: string, days: number): string {
  if (!Number.isInteger(days)) throw new RangeError(`days must be an integer, got ${days}`);
  const result = fromEpochDay(toEpochDay(parseOrThrow(date, 'date')) + days);
  if (result.y < 1 || result.y > 9999) throw new RangeError(`result of ${date} + ${days} days is outside years 0001–9999`);
  return format(result);
}

/** Signed number of days from `from` to `to` (positive when `to` is later). */
export function daysBetween(from: string, to: string): number {
  return toEpochDay(parseOrThrow(to, 'to')) - toEpochDay(parseOrThrow(from, 'from'));
}
