import { sql } from 'drizzle-orm';
import { date, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { recordColumns } from './columns.js';
import { orgUnits } from './org-units.js';

/**
 * 执法人员. Personal fields are stored only as AES-GCM ciphertext (`…Cipher`) and an HMAC blind index
 * (`…Hash`), with the masked form shown to callers without pii:read (`…Masked`); the record machinery
 * encrypts, masks and audits them.
 */
export const officers = pgTable(
  'officers',
  {
    ...recordColumns(),
    name: text('name').notNull(),
    gender: text('gender').notNull(),
    idCardNumberCipher: text('id_card_number_cipher').notNull(),
    idCardNumberHash: text('id_card_number_hash').notNull(),
    // The masked form everyone without pii:read sees, stored at write time: a masked read decrypts nothing.
    idCardNumberMasked: text('id_card_number_masked'),
    birthDate: date('birth_date', { mode: 'string' }).notNull(),
    ethnicity: text('ethnicity'),
    politicalStatus: text('political_status'),
    education: text('education'),
    phoneCipher: text('phone_cipher'),
    phoneHash: text('phone_hash'),
    phoneMasked: text('phone_masked'),
    orgUnitId: uuid('org_unit_id')
      .notNull()
      .references(() => orgUnits.id),
    position: text('position'),
    rank: text('rank'),
    cadreLevel: text('cadre_level').notNull(),
    staffingType: text('staffing_type').notNull(),
    hireDate: date('hire_date', { mode: 'string' }),
    employmentStatus: text('employment_status').notNull(),
    badgeNumber: text('badge_number'),
  },
  (t) => [
    uniqueIndex('officers_external_key').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is null`),
    // Tombstones by key: a record re-created under a deleted key continues that key's versions.
    index('officers_tombstone_key_idx').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is not null`),
    index('officers_region_idx').on(t.regionCode, t.id),
    index('officers_org_unit_idx').on(t.orgUnitId),
    // Not unique: an ID number is unique only among active people (a transferred officer's old record stays).
    index('officers_id_card_number_hash_idx').on(t.idCardNumberHash),
    // Serves `name LIKE 'prefix%'` whatever the database collation.
    index('officers_name_prefix_idx').using('btree', t.name.op('text_pattern_ops')),
  ],
);
