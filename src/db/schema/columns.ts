import { sql } from 'drizzle-orm';
import { integer, text, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';

/**
 * Columns every record table has (DESIGN §3). The generic record machinery relies on these names;
 * each collection adds its own typed columns beside them. Instants are kept to the millisecond, the
 * precision the API shows, so `updatedAfter` and the audit filters compare exactly.
 */
export const recordColumns = () => ({
  id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
  regionCode: varchar('region_code', { length: 6 }).notNull(),
  externalId: varchar('external_id', { length: 64 }),
  version: integer('version').notNull().default(1),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow(),
  /** Soft delete: a tombstone stays for the change feed and the audit trail. */
  deletedAt: timestamp('deleted_at', { withTimezone: true, mode: 'date', precision: 3 }),
  /**
   * What a reader without pii:read is shown of the record's own fields, as JSON text rendered when the
   * version was written (render.ts `maskedBody`): a masked read parses and renders none of the columns.
   * The stamps, the keys of referenced records and the read-time fields are added as it is read.
   */
  maskedBody: text('masked_body'),
  /** The format `masked_body` was rendered in (render.ts `bodyFormat`); a body in another one is rendered afresh. */
  maskedBodyFormat: text('masked_body_format'),
});
