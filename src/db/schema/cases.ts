import { sql } from 'drizzle-orm';
import { bigint, boolean, date, index, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { recordColumns } from './columns.js';
import { orgUnits } from './org-units.js';

/** The case number's key among live cases: unique per region (the `unique` rule reads the same expression). */
export const caseNumberKey = sql`(region_code || ':' || case_number)`;

/**
 * 案件: administrative penalty cases. Handlers are an indexed uuid array (GIN): "cases of this officer"
 * and the delete guard of an officer are `handling_officer_ids @> {id}`, served by the index. The
 * stage history, the legal-review flag and the heaviest penalty are kept by the server.
 */
export const cases = pgTable(
  'cases',
  {
    ...recordColumns(),
    caseNumber: text('case_number').notNull(),
    title: text('title').notNull(),
    category: text('category').notNull(),
    source: text('source').notNull(),
    orgUnitId: uuid('org_unit_id')
      .notNull()
      .references(() => orgUnits.id),
    handlingOfficerIds: uuid('handling_officer_ids').array().notNull(),
    filedOn: date('filed_on', { mode: 'string' }).notNull(),
    stage: text('stage').notNull(),
    major: boolean('major').notNull(),
    decidedOn: date('decided_on', { mode: 'string' }),
    penalties: text('penalties').array(),
    fineFen: bigint('fine_fen', { mode: 'number' }),
    confiscationFen: bigint('confiscation_fen', { mode: 'number' }),
    executedOn: date('executed_on', { mode: 'string' }),
    closedOn: date('closed_on', { mode: 'string' }),
    transferredTo: text('transferred_to'),
    stageHistory: jsonb('stage_history').notNull(),
    legalReviewed: boolean('legal_reviewed').notNull(),
    heaviestPenalty: text('heaviest_penalty'),
  },
  (t) => [
    uniqueIndex('cases_external_key').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is null`),
    // Tombstones by key: a record re-created under a deleted key continues that key's versions.
    index('cases_tombstone_key_idx').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is not null`),
    index('cases_region_idx').on(t.regionCode, t.id),
    index('cases_org_unit_idx').on(t.orgUnitId),
    index('cases_handlers_idx').using('gin', t.handlingOfficerIds),
    uniqueIndex('cases_number_key').on(caseNumberKey).where(sql`${t.deletedAt} is null`),
    // Statistics: each figure selects a period on one date column. Migration 0013 adds to each the columns its
    // figures read (INCLUDE, which drizzle cannot state), so the figures are index-only scans (stats/sections/cases.ts).
    index('cases_filed_on_idx').on(t.filedOn).where(sql`${t.deletedAt} is null`),
    index('cases_decided_on_idx').on(t.decidedOn).where(sql`${t.deletedAt} is null and ${t.decidedOn} is not null`),
    index('cases_closed_on_idx').on(t.closedOn).where(sql`${t.deletedAt} is null and ${t.closedOn} is not null`),
    // Compliance: undecided cases, oldest first.
    index('cases_pending_idx')
      .on(t.filedOn, t.id)
      .where(sql`${t.deletedAt} is null and ${t.stage} in ('filed', 'investigating', 'legal_review', 'notified')`),
  ],
);
