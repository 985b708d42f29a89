import { and, eq, isNull, sql, type SQL } from 'drizzle-orm';
import { officers, trainings } from '../../db/schema/index.js';
import type { Figure, SectionCounts, StatsSection } from '../figures.js';
import { inRegions } from '../regions.js';

/** Years within which a division-level cadre 处级以上干部 needs a passed provincial training 省级培训. */
export const PROVINCIAL_TRAINING_YEARS = 3;

/**
 * A passed training of `kind` by the officer of the enclosing query (`officers` unaliased) that ended in
 * (`after`, `through`] — wherever the training was recorded: a provincial course is often recorded by the
 * province. Served by `trainings_person_idx (person_id, kind, ended_on)`.
 */
export function passedTraining(kind: 'initial' | 'provincial', through: string, after?: SQL): SQL {
  return sql`exists (select 1 from ${trainings} where ${trainings.personId} = ${officers.id} and ${trainings.personType} = 'officer'
    and ${trainings.kind} = ${kind} and ${trainings.passed} and ${trainings.deletedAt} is null
    and ${trainings.endedOn} <= ${through}::date ${after ? sql`and ${trainings.endedOn} > ${after}` : sql``})`;
}

/** The day `years` years before `day` (29 February → 28 February), in SQL. */
export const yearsBefore = (day: string, years: number): SQL => sql`(${day}::date - make_interval(years => ${years}::int))::date`;

/** No passed provincial training ended in the 3 years up to `day`. */
export const provincialTrainingOverdue = (day: string): SQL =>
  sql`not ${passedTraining('provincial', day, yearsBefore(day, PROVINCIAL_TRAINING_YEARS))}`;

/** No passed initial training ended on or before `day`. */
export const initialTrainingMissing = (day: string): SQL => sql`not ${passedTraining('initial', day)}`;

const figures: Figure[] = [
  {
    key: 'divisionCadres',
    label: '处级以上干部数',
    unit: 'count',
    definition: 'Active officers whose cadreLevel is division_or_above 处级以上.',
  },
  {
    key: 'divisionCadresWithoutProvincialTraining',
    label: '三年内未参加省级培训的处级以上干部数',
    unit: 'count',
    definition: `Of divisionCadres, those without a passed provincial 省级培训 training ending in the ${PROVINCIAL_TRAINING_YEARS} years up to asOf (asOf − ${PROVINCIAL_TRAINING_YEARS} years < endedOn ≤ asOf). Trainings count wherever they were recorded (a provincial course is often recorded by the province).`,
  },
  {
    key: 'officersWithoutInitialTraining',
    label: '未参加初任培训的执法人员数',
    unit: 'count',
    definition: 'Active officers without a passed initial 初任培训 training ending on or before asOf.',
  },
];

/** 培训: the two training conditions over active officers, by the officer's region. */
export const trainingSection: StatsSection = {
  name: 'training',
  label: '培训',
  figures,
  async collect({ db, regions, period }) {
    const cadre = sql`${officers.cadreLevel} = 'division_or_above'`;
    const rows = await db
      .select({
        child: sql<string>`${regions.childOf(officers.regionCode)}`,
        cadres: sql<number>`count(*) filter (where ${cadre})::int`,
        cadresOverdue: sql<number>`count(*) filter (where ${cadre} and ${provincialTrainingOverdue(period.asOf)})::int`,
        withoutInitial: sql<number>`count(*) filter (where ${initialTrainingMissing(period.asOf)})::int`,
      })
      .from(officers)
      .where(and(isNull(officers.deletedAt), eq(officers.employmentStatus, 'active'), inRegions(officers.regionCode, regions)))
      .groupBy(sql`1`);
    const out: SectionCounts = new Map();
    for (const row of rows) {
      out.set(row.child, {
        divisionCadres: row.cadres,
        divisionCadresWithoutProvincialTraining: row.cadresOverdue,
        officersWithoutInitialTraining: row.withoutInitial,
      });
    }
    return out;
  },
};
