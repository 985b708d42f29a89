import { sql } from 'drizzle-orm';
import { boolean, date, doublePrecision, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { recordColumns } from './columns.js';
import { assistants } from './assistants.js';

/** 培训: a training attended by an officer or an assistant. */
export const trainings = pgTable(
  'trainings',
  {
    ...recordColumns(),
    personType: text('person_type').notNull(),
    personId: uuid('person_id').notNull(),
    kind: text('kind').notNull(),
    title: text('title').notNull(),
    organizer: text('organizer').notNull(),
    startedOn: date('started_on', { mode: 'string' }).notNull(),
    endedOn: date('ended_on', { mode: 'string' }).notNull(),
    hours: doublePrecision('hours').notNull(),
    passed: boolean('passed'),
  },
  (t) => [
    uniqueIndex('trainings_external_key').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is null`),
    // Tombstones by key: a record re-created under a deleted key continues that key's versions.
    index('trainings_tombstone_key_idx').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is not null`),
    index('trainings_region_idx').on(t.regionCode, t.id),
    index('trainings_person_idx').on(t.personId, t.kind, t.endedOn),
    // The officers who passed a kind of training (statistics, training-overdue): an index-only scan per kind.
    index('trainings_officer_passed_idx')
      .on(t.kind, t.personId, t.endedOn)
      .where(sql`${t.passed} and ${t.deletedAt} is null and ${t.personType} = 'officer'`),
  ],
);

/** 考核奖惩: an assistant's assessment for a period, with rewards and penalties. */
export const assessments = pgTable(
  'assessments',
  {
    ...recordColumns(),
    assistantId: uuid('assistant_id')
      .notNull()
      .references(() => assistants.id),
    period: text('period').notNull(),
    result: text('result').notNull(),
    rewards: text('rewards'),
    penalties: text('penalties'),
    note: text('note'),
  },
  (t) => [
    uniqueIndex('assessments_external_key').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is null`),
    // Tombstones by key: a record re-created under a deleted key continues that key's versions.
    index('assessments_tombstone_key_idx').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is not null`),
    index('assessments_region_idx').on(t.regionCode, t.id),
    // One assessment per assistant and period.
    uniqueIndex('assessments_assistant_period_key').on(t.assistantId, t.period).where(sql`${t.deletedAt} is null`),
  ],
);
