import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import type { officers } from '../db/schema/index.js';
import { describeCodes, GENDER, GENDER_CODES } from '../domain/code-tables.js';
import { checkIdCardNumber, sexFromIdCard, type IdCardCheck } from '../domain/id-card.js';
import { ruleViolation } from '../errors.js';
import type { Candidate, RecordTable, UniqueRule } from '../records/definition.js';
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
 * ID numbers are unique among active people (a transferred or retired officer's old record may share
 * one). Checked through the blind index, so the message never repeats the number. Like every `unique`
 * rule it is a check, not a constraint: two transactions writing the same number at the same instant can
 * both pass; a shared identity table with a partial unique index closes that once assistants exist.
 * `who` names the kind of person (officer by default) and `activeWhen` which stored rows count as active.
 */
export function activeIdCardNumberUnique(
  table: { idCardNumberHash: PgColumn },
  kind: { who: string; statusField: string; statusColumn: PgColumn; active: readonly string[] } = {
    who: 'officer',
    statusField: 'employmentStatus',
    statusColumn: (table as typeof officers).employmentStatus,
    active: ['active'],
  },
): UniqueRule {
  return {
    key: (candidate, ctx) =>
      kind.active.includes(String(candidate[kind.statusField])) ? ctx.blindIndex(String(candidate['idCardNumber'])) : null,
    column: table.idCardNumberHash,
    appliesTo: () => inArray(kind.statusColumn, [...kind.active]),
    path: '/idCardNumber',
    message: (holder) =>
      holder
        ? `Another active ${kind.who} already has this ID number; a person can be active only once. End the other record (e.g. ${kind.statusField} ${kind.who === 'officer' ? 'transferred' : 'dismissed'}) or correct the number.`
        : `An earlier record in this batch is an active ${kind.who} with the same ID number; a person can be active only once.`,
  };
}

/**
 * The other half of the one ID-number namespace (DESIGN §6: a person is active in one role at a time):
 * an active officer may not share the number of an active assistant, and the other way round. `table`
 * is the *other* kind's table. Reads only through the blind index and never says where the holder is.
 */
export async function assertNotActiveElsewhere(
  tx: Db,
  candidate: Candidate,
  other: { table: PersonTable; statusColumn: PgColumn; active: readonly string[]; who: string },
  blindIndex: (value: string) => string,
) {
  const hash = blindIndex(String(candidate['idCardNumber']));
  const [hit] = await tx
    .select({ id: other.table.id })
    .from(other.table)
    .where(and(eq(other.table.idCardNumberHash, hash), isNull(other.table.deletedAt), inArray(other.statusColumn, [...other.active])))
    .limit(1)
    .for('share');
  if (hit) {
    throw ruleViolation(
      '/idCardNumber',
      `This ID number belongs to an active ${other.who}; a person is active in one role at a time (officer or assistant). End the other role first or correct the number.`,
    );
  }
}

type PersonTable = RecordTable & { idCardNumberHash: PgColumn };
