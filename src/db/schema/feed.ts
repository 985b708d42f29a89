import { bigint, bigserial, check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

/**
 * The change feed (DESIGN §4). `seq` is assigned from `change_sequence` at the very end of each writing
 * transaction while holding that row's lock, so sequence numbers become visible in commit order and a
 * reader's `seq > cursor` never skips a change that commits later with a smaller number.
 */
export const changes = pgTable(
  'changes',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    collection: text('collection').notNull(),
    recordId: uuid('record_id').notNull(),
    externalId: varchar('external_id', { length: 64 }),
    regionCode: varchar('region_code', { length: 6 }).notNull(),
    op: text('op').notNull(),
    version: integer('version').notNull(),
    changedAt: timestamp('changed_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow(),
    /** The stored row as of this version (personal data still encrypted), rendered per reader. */
    record: jsonb('record'),
    /**
     * Set on the entry that removes a record from its old region when it moves (op `delete`,
     * `region_code` the old region): the new region. Readers covering the new region skip the entry.
     */
    movedTo: varchar('moved_to', { length: 6 }),
    /**
     * The record as a reader without pii:read sees it, rendered once when written (JSON text): served as
     * it is to such readers covering `masked_record_scope`, so most feed pages parse and render nothing.
     * Null on deletes and on entries written before it was kept.
     */
    maskedRecord: text('masked_record'),
    /** The region whose readers see every reference key `masked_record` shows; null when it shows none. */
    maskedRecordScope: varchar('masked_record_scope', { length: 6 }),
    /** The render format `masked_record` was made in (render.ts `renderFormat`): another format is rendered afresh. */
    maskedRecordFormat: text('masked_record_format'),
  },
  (t) => [index('changes_region_seq_idx').on(t.regionCode, t.seq)],
);

export const changeSequence = pgTable(
  'change_sequence',
  {
    id: integer('id').primaryKey(),
    lastSeq: bigint('last_seq', { mode: 'number' }).notNull(),
  },
  (t) => [check('change_sequence_single_row', sql`${t.id} = 1`)],
);

/** Append-only audit trail (DESIGN §5): who did what to which record, from which request. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow(),
    sub: text('sub').notNull(),
    clientId: text('client_id'),
    callerRegion: varchar('caller_region', { length: 6 }).notNull(),
    requestId: text('request_id'),
    collection: text('collection').notNull(),
    recordId: uuid('record_id').notNull(),
    regionCode: varchar('region_code', { length: 6 }).notNull(),
    op: text('op').notNull(),
    version: integer('version'),
    /** The record's region before this write when the write moved it: auditors of the old region see the move. */
    movedFrom: varchar('moved_from', { length: 6 }),
  },
  (t) => [
    index('audit_log_region_id_idx').on(t.regionCode, t.id),
    index('audit_log_record_idx').on(t.recordId),
    index('audit_log_moved_from_idx').on(t.movedFrom, t.id).where(sql`${t.movedFrom} is not null`),
  ],
);

/**
 * Values that one live record at most may hold, across collections (DESIGN §6): e.g. an ID number
 * among active officers and assistants. The primary key is the constraint; the record machinery keeps
 * the claims of each record in step with the record, in the same transaction.
 */
export const recordClaims = pgTable(
  'record_claims',
  {
    namespace: text('namespace').notNull(),
    key: text('key').notNull(),
    collection: text('collection').notNull(),
    recordId: uuid('record_id').notNull(),
  },
  (t) => [primaryKey({ name: 'record_claims_pkey', columns: [t.namespace, t.key] }), index('record_claims_record_idx').on(t.recordId)],
);
