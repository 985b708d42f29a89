import { sql } from 'drizzle-orm';
import { date, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { recordColumns } from './columns.js';
import { officers } from './officers.js';

/** 岗位状态: an officer's post status from `effective_from` on; the latest one in effect is the current one. */
export const postStatuses = pgTable(
  'post_statuses',
  {
    ...recordColumns(),
    officerId: uuid('officer_id')
      .notNull()
      .references(() => officers.id),
    status: text('status').notNull(),
    post: text('post'),
    gridCode: text('grid_code'),
    effectiveFrom: date('effective_from', { mode: 'string' }).notNull(),
  },
  (t) => [
    uniqueIndex('post_statuses_external_key').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is null`),
    // Tombstones by key: a record re-created under a deleted key continues that key's versions.
    index('post_statuses_tombstone_key_idx').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is not null`),
    index('post_statuses_region_idx').on(t.regionCode, t.id),
    // One status per officer and day: "the latest in effect" is then never a tie. Also serves the summary.
    uniqueIndex('post_statuses_officer_day_key').on(t.officerId, t.effectiveFrom).where(sql`${t.deletedAt} is null`),
  ],
);
