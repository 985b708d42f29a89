// 居民身份号码, GB 11643-1999: 6-digit address code (GB/T 2260), birth date
// YYYYMMDD, 3-digit sequence (odd = male, even = female) and an ISO 7064
// MOD 11-2 check character. See domain-notes §3.5.
import { isCalendarDate, todayInShanghai } from './dates.js';

export type IdCardCheck =
  | { ok: true; birthDate: string /* YYYY-MM-DD */; sex: 'male' | 'female'; addressCode: string }
  | { ok: false; reason: 'format' | 'province' | 'birth_date' | 'check_digit'; message: string };

/** 17 digits then a digit or an uppercase X (lowercase x is rejected so stored values stay canonical). */
export const ID_CARD_PATTERN = /^\d{17}[\dX]$/;

/** First two digits of the address code: provinces, autonomous regions, municipalities, Taiwan, Hong Kong, Macao. */
export const PROVINCE_PREFIXES: ReadonlySet<string> = new Set([
  '11', '12', '13', '14', '15',
  '21', '22', '23',
  '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46',
  '50', '51', '52', '53', '54',
  '61', '62', '63', '64', '65',
  '71', '81', '82',
]);

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARS = '10X98765432'; // indexed by (Σ digit × weight) mod 11
const EARLIEST_BIRTH_DATE = '1900-01-01';

/** Check character (0–9 or X) for the first 17 digits of an ID number. */
export function idCardCheckChar(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new RangeError(`expected 17 digits, got ${JSON.stringify(first17)}`);
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]!;
  return CHECK_CHARS[sum % 11]!;
}

function formatMessage(value: string): string {
  if (value.length !== 18) return `must be 18 characters, got ${value.length}`;
  if (/^\d{17}x$/.test(value)) return 'check character must be an uppercase X, not a lowercase x';
  return 'must be 17 digits followed by a digit or an uppercase X';
}

function birthDateOf(value: string): string {
  return `${value.slice(6, 10)}-${value.slice(10, 12)}-${value.slice(12, 14)}`;
}

function sexOfSequence(value: string): 'male' | 'female' {
  return Number(value[16]) % 2 === 1 ? 'male' : 'female';
}

/**
 * Validates an 18-character ID number. Checks run in a fixed order (format,
 * province, birth date, check digit) so the reported reason is the first problem.
 * `today` (YYYY-MM-DD) bounds the birth date; it defaults to today in Asia/Shanghai.
 */
export function checkIdCardNumber(value: string, today: string = todayInShanghai()): IdCardCheck {
  if (!isCalendarDate(today)) throw new RangeError(`today must be a real date in YYYY-MM-DD form, got ${JSON.stringify(today)}`);
  if (!ID_CARD_PATTERN.test(value)) return { ok: false, reason: 'format', message: formatMessage(value) };

  const addressCode = value.slice(0, 6);
  const province = value.slice(0, 2);
  if (!PROVINCE_PREFIXES.has(province)) {
    return {
      ok: false,
      reason: 'province',
      message: `address code ${addressCode} starts with ${province}, which is not a province code`,
    };
  }

  const birthDate = birthDateOf(value);
  const rawBirth = value.slice(6, 14);
  if (!isCalendarDate(birthDate)) {
    return { ok: false, reason: 'birth_date', message: `birth date ${rawBirth} (digits 7–14) is not a real calendar date` };
  }
  if (birthDate < EARLIEST_BIRTH_DATE) {
    return { ok: false, reason: 'birth_date', message: `birth date ${birthDate} is before ${EARLIEST_BIRTH_DATE}` };
  }
  if (birthDate > today) {
    return { ok: false, reason: 'birth_date', message: `birth date ${birthDate} is in the future (today is ${today})` };
  }

  const expected = idCardCheckChar(value.slice(0, 17));
  const actual = value[17]!;
  if (actual !== expected) {
    return {
      ok: false,
      reason: 'check_digit',
      message: `check digit is ${actual} but the first 17 digits require ${expected}`,
    };
  }

  return { ok: true, birthDate, sex: sexOfSequence(value), addressCode };
}

/**
 * Builds a valid ID number for seed data, benchmarks and tests.
 * Sequence parity sets the sex: odd = male, even = female.
 */
export function makeIdCardNumber(opts: { addressCode: string; birthDate: string; sequence: number }): string {
  const { addressCode, birthDate, sequence } = opts;
  if (!/^\d{6}$/.test(addressCode)) throw new RangeError(`addressCode must be 6 digits, got ${JSON.stringify(addressCode)}`);
  if (!PROVINCE_PREFIXES.has(addressCode.slice(0, 2))) {
    throw new RangeError(`addressCode ${addressCode} does not start with a province code`);
  }
  if (!isCalendarDate(birthDate) || birthDate < EARLIEST_BIRTH_DATE) {
    throw new RangeError(`birthDate must be a real date on or after ${EARLIEST_BIRTH_DATE}, got ${JSON.stringify(birthDate)}`);
  }
  if (!Number.isInteger(sequence) || sequence < 0 || sequence > 999) {
    throw new RangeError(`sequence must be an integer 0..999, got ${sequence}`);
  }
  const first17 = addressCode + birthDate.replaceAll('-', '') + String(sequence).padStart(3, '0');
  return first17 + idCardCheckChar(first17);
}

/** Sex encoded by the sequence digit (17th character). Throws if `value` is not ID-number shaped. */
export function sexFromIdCard(value: string): 'male' | 'female' {
  if (!ID_CARD_PATTERN.test(value)) throw new RangeError(`not an 18-character ID number: ${formatMessage(value)}`);
  return sexOfSequence(value);
}
