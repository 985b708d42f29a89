import { sql, type SQL } from 'drizzle-orm';
import { queryRows } from '../../db/client.js';
import { officers, trainings } from '../../db/schema/index.js';
import type { Figure, SectionCounts, StatsSection } from '../figures.js';

/** Years within which a division-level cadre 处级以上干部 needs a passed provincial training 省级培训. */
export const PROVINCIAL_TRAINING_YEARS = 3;

/**
 * A passed training of `kind` by the officer of the enclosing query (`officers` unaliased) that ended in
 * (`after`, `through`] — wherever the training was recorded: a provincial course is often recorded by the
 * province. Served by `trainings_officer_passed_idx (kind, person_id, ended_on)`.
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
    // The officers who passed each kind, as two id sets joined by hash — each an index-only scan of
    // trainings_officer_passed_idx — rather than an EXISTS per officer (seconds at 100,000 officers).
    const passed = (kind: 'initial' | 'provincial', after?: SQL) =>
      sql`(select distinct ${trainings.personId} as person_id from ${trainings}
           where ${trainings.kind} = ${kind} and ${trainings.passed} and ${trainings.deletedAt} is null and ${trainings.personType} = 'officer'
             and ${trainings.endedOn} <= ${period.asOf}::date ${after ? sql`and ${trainings.endedOn} > ${after}` : sql``})`;
    const cadre = sql`${officers.cadreLevel} = 'division_or_above'`;
    const rows = await queryRows<{ child: string; cadres: number; cadres_overdue: number; without_initial: number }>(
      db,
      sql`select ${regions.childOf(officers.regionCode)} as child,
                 (count(*) filter (where ${cadre}))::int as cadres,
                 (count(*) filter (where ${cadre} and p.person_id is null))::int as cadres_overdue,
                 (count(*) filter (where i.person_id is null))::int as without_initial
          from ${officers}
          left join ${passed('initial')} as i on i.person_id = ${officers.id}
          left join ${passed('provincial', yearsBefore(period.asOf, PROVINCIAL_TRAINING_YEARS))} as p on p.person_id = ${officers.id}
          where ${officers.deletedAt} is null and ${officers.employmentStatus} = 'active' and ${officers.regionCode} between ${regions.lo} and ${regions.hi}
          group by 1`,
    );
    const out: SectionCounts = new Map();
    for (const row of rows) {
      out.set(row.child, {
        divisionCadres: row.cadres,
        divisionCadresWithoutProvincialTraining: row.cadres_overdue,
        officersWithoutInitialTraining: row.without_initial,
      });
    }
    return out;
  },
};
