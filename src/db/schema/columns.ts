import { sql } from 'drizzle-orm';
import { integer, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';

/**
 * Columns every record table has (DESIGN §3). The generic record machinery relies on these names;
 * each collection adds its own typed columns beside them.
 */
export const recordColumns = () => ({
  id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
  regionCode: varchar('region_code', { length: 6 }).notNull(),
  externalId: varchar('external_id', { length: 64 }),
  version: integer('version').notNull().default(1),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  /** Soft delete: a tombstone stays for the change feed and the audit trail. */
  deletedAt: timestamp('deleted_at', { withTimezone: true, mode: 'date' }),
});

export const COMMON_KEYS = ['id', 'regionCode', 'externalId', 'version', 'createdAt', 'updatedAt', 'deletedAt'] as const;
