import { z } from 'zod';
import { describeCodes, GENDER, GENDER_CODES } from '../domain/code-tables.js';
import { checkIdCardNumber, sexFromIdCard, type IdCardCheck } from '../domain/id-card.js';
import { ruleViolation } from '../errors.js';
import type { Candidate, CollectionDefinition, UniqueRule } from '../records/definition.js';
import { CalendarDate } from '../records/schemas.js';

// What every kind of person on record (officers now, assistants later) shares: identity fields and their rules.

const ID_CHECK_FAILURES: Record<Extract<IdCardCheck, { ok: false }>['reason'], string> = {
  format: 'format check failed',
  province: 'province check failed',
  birth_date: 'birth date check failed',
  check_digit: 'check digit wrong',
};

/** 居民身份号码 (GB 11643): a trailing lowercase x is taken as X; the refusal names the check that failed. */
export const IdCardNumber = z
  .string()
  .trim()
  .toUpperCase()
  .superRefine((value, ctx) => {
    const check = checkIdCardNumber(value);
    if (!check.ok) ctx.addIssue({ code: 'custom', message: `${ID_CHECK_FAILURES[check.reason]}: ${check.message}` });
  })
  .describe(
    'ID card number 居民身份号码 (GB 11643, 18 characters; address code, birth date and check digit verified; a trailing x is stored as X)',
  );

/** Mainland mobile (11 digits) or landline with its area code (e.g. 0371-12345678). */
export const PHONE_PATTERN = /^(?:1[3-9]\d{9}|0\d{2,3}-\d{7,8})$/;

export const Phone = z
  .string()
  .trim()
  .regex(PHONE_PATTERN, 'must be a mainland mobile number (13812345678) or a landline with area code (0371-12345678)')
  .describe('Phone 联系电话: mobile 13812345678 or landline 0371-12345678');

export const Gender = z.enum(GENDER).describe(`Gender 性别 (GB/T 2261.1): ${describeCodes(GENDER_CODES)}`);

export const BirthDate = CalendarDate.describe('Birth date 出生日期 (YYYY-MM-DD); must equal the one in the ID number');

/**
 * The ID number agrees with the rest of the identity: its birth date is `birthDate`, and its sequence
 * digit is odd for men and even for women (codes 0 and 9 say nothing about sex, so they pass).
 */
export function checkIdentity(person: { idCardNumber: unknown; gender: unknown; birthDate: unknown }) {
  const idCardNumber = String(person.idCardNumber);
  const check = checkIdCardNumber(idCardNumber);
  if (!check.ok) throw ruleViolation('/idCardNumber', `The ID number is invalid (${ID_CHECK_FAILURES[check.reason]}).`);
  if (person.birthDate !== check.birthDate) {
    throw ruleViolation(
      '/birthDate',
      `birthDate ${String(person.birthDate)} differs from the birth date in the ID number; correct whichever is wrong.`,
    );
  }
  const sex = sexFromIdCard(idCardNumber);
  if ((person.gender === '1' && sex !== 'male') || (person.gender === '2' && sex !== 'female')) {
    throw ruleViolation(
      '/gender',
      `gender ${String(person.gender)} (${person.gender === '1' ? '男' : '女'}) disagrees with the ID number, whose sequence digit is ${
        sex === 'male' ? 'odd (男)' : 'even (女)'
      }; correct the gender or the ID number.`,
    );
  }
}

/**
 * The personal fields every kind of person has: encrypted, masked without pii:read, unmasked reads audited.
 * The birth date is shown only with pii:read too: beside the masked number it would narrow the number down.
 */
export const PERSON_PII: NonNullable<CollectionDefinition['pii']> = [
  { field: 'idCardNumber', kind: 'id_card' },
  { field: 'phone', kind: 'phone' },
  { field: 'birthDate', kind: 'birth_date', tiedTo: 'idCardNumber' },
];

/** The claim namespace every kind of person shares: one active record per ID number. */
export const PERSON_ID_CLAIM = 'person_id_card';

/**
 * ID numbers are unique among active people — officers and assistants alike (a person is active in one
 * role at a time; a transferred or retired officer's old record may share the number). Enforced by a
 * claim on the keyed hash, so the message never repeats the number nor says who or where the holder is.
 */
export function activeIdCardNumberUnique<F extends { idCardNumber: string }>(options: {
  isActive(candidate: Candidate<F>): boolean;
}): UniqueRule<F> {
  return {
    key: (candidate, ctx) => (options.isActive(candidate) ? ctx.blindIndex(String(candidate.idCardNumber)) : null),
    claim: PERSON_ID_CLAIM,
    path: '/idCardNumber',
    message: () =>
      'Another active person (an officer or an assistant) already has this ID number; a person can be active only once. End the other record (e.g. employmentStatus transferred) or correct the number.',
  };
}
