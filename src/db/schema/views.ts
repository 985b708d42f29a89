import { date, integer, pgTable, text, uuid, varchar } from 'drizzle-orm/pg-core';

/**
 * Records as readers without pii:read are sent them, kept whole (records/record-views.ts): one row per
 * record of any collection, by its id. A view is good for one version of the record, one day (its read-time
 * fields depend on today), one render format, and readers whose regions cover `lo`…`hi` — the regions of
 * the record and of every record its JSON shows or could show. `gen` counts the writes of other records
 * that changed what it shows (a credential of an officer): each sets `json` to null, and a view made from
 * a read that saw an older `gen` is not kept.
 */
export const recordViews = pgTable('record_views', {
  id: uuid('id').primaryKey(),
  gen: integer('gen').notNull().default(0),
  version: integer('version'),
  day: date('day'),
  format: text('format'),
  lo: varchar('lo', { length: 6 }),
  hi: varchar('hi', { length: 6 }),
  etag: text('etag'),
  json: text('json'),
});
