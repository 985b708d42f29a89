import { sql } from 'drizzle-orm';
import { date, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { recordColumns } from './columns.js';
import { officers } from './officers.js';
import { orgUnits } from './org-units.js';

/**
 * 协管人员. Personal fields are stored as officers' are: AES-GCM ciphertext (`…Cipher`) and an HMAC blind
 * index (`…Hash`) with the same key, so one ID number has one hash in both tables.
 */
export const assistants = pgTable(
  'assistants',
  {
    ...recordColumns(),
    name: text('name').notNull(),
    gender: text('gender').notNull(),
    idCardNumberCipher: text('id_card_number_cipher').notNull(),
    idCardNumberHash: text('id_card_number_hash').notNull(),
    // The masked form everyone without pii:read sees, stored at write time: a masked read decrypts nothing.
    idCardNumberMasked: text('id_card_number_masked'),
    birthDate: date('birth_date', { mode: 'string' }).notNull(),
    phoneCipher: text('phone_cipher'),
    phoneHash: text('phone_hash'),
    phoneMasked: text('phone_masked'),
    orgUnitId: uuid('org_unit_id')
      .notNull()
      .references(() => orgUnits.id),
    supervisingOfficerId: uuid('supervising_officer_id')
      .notNull()
      .references(() => officers.id),
    admittedOn: date('admitted_on', { mode: 'string' }).notNull(),
    status: text('status').notNull(),
    duties: text('duties').array().notNull(),
  },
  (t) => [
    uniqueIndex('assistants_external_key').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is null`),
    // Tombstones by key: a record re-created under a deleted key continues that key's versions.
    index('assistants_tombstone_key_idx').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is not null`),
    index('assistants_region_idx').on(t.regionCode, t.id),
    index('assistants_org_unit_idx').on(t.orgUnitId),
    index('assistants_supervisor_idx').on(t.supervisingOfficerId),
    index('assistants_id_card_number_hash_idx').on(t.idCardNumberHash),
  ],
);
