import { sql } from 'drizzle-orm';
import { date, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { recordColumns } from './columns.js';
import { officers } from './officers.js';

/** 执法证件: 河南省行政执法证 and 行政执法监督证 held by officers. */
export const credentials = pgTable(
  'credentials',
  {
    ...recordColumns(),
    officerId: uuid('officer_id')
      .notNull()
      .references(() => officers.id),
    credentialNumber: text('credential_number').notNull(),
    kind: text('kind').notNull(),
    issuingAuthority: text('issuing_authority').notNull(),
    issuedOn: date('issued_on', { mode: 'string' }).notNull(),
    expiresOn: date('expires_on', { mode: 'string' }).notNull(),
    status: text('status').notNull(),
  },
  (t) => [
    uniqueIndex('credentials_external_key').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is null`),
    // Tombstones by key: a record re-created under a deleted key continues that key's versions.
    index('credentials_tombstone_key_idx').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is not null`),
    index('credentials_region_idx').on(t.regionCode, t.id),
    index('credentials_officer_idx').on(t.officerId, t.kind),
    // An officer's live credentials (the summary read with every officer): partial like the query, so the
    // planner takes it even before statistics exist (a unique partial index looked cheaper without them).
    index('credentials_live_officer_idx').on(t.officerId).where(sql`${t.deletedAt} is null`),
    // A credential number is issued once; a deleted record frees it (the rule reports it first, clearly).
    uniqueIndex('credentials_number_key').on(t.credentialNumber).where(sql`${t.deletedAt} is null`),
    index('credentials_expires_on_idx').on(t.expiresOn),
  ],
);
