import { sql } from 'drizzle-orm';
import { index, pgTable, text, uniqueIndex, uuid, type AnyPgColumn } from 'drizzle-orm/pg-core';
import { recordColumns } from './columns.js';

export const orgUnits = pgTable(
  'org_units',
  {
    ...recordColumns(),
    name: text('name').notNull(),
    level: text('level').notNull(),
    parentId: uuid('parent_id').references((): AnyPgColumn => orgUnits.id),
    unifiedSocialCreditCode: text('unified_social_credit_code'),
  },
  (t) => [
    uniqueIndex('org_units_external_key').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is null`),
    // Tombstones by key: a record re-created under a deleted key continues that key's versions.
    index('org_units_tombstone_key_idx').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is not null`),
    index('org_units_region_idx').on(t.regionCode, t.id),
    index('org_units_parent_idx').on(t.parentId),
  ],
);
