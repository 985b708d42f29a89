import { and, isNull, sql, type SQL } from 'drizzle-orm';
import { unionAll } from 'drizzle-orm/pg-core';
import { cases } from '../../db/schema/index.js';
import { CASE_CATEGORIES, CATEGORY_LABELS, DECISION_DAYS, PENALTIES, PENALTY_LABELS } from '../../domain/cases.js';
import { addDays } from '../../domain/dates.js';
import type { Figure, RateFigure, SectionCounts, StatsSection } from '../figures.js';
import { inRegions } from '../regions.js';

const IN_PERIOD = 'in the period (from ≤ date ≤ to)';

const figures: (Figure | RateFigure)[] = [
  { key: 'filed', label: '立案数', unit: 'count', definition: `Cases whose filedOn 立案日期 is ${IN_PERIOD}.` },
  { key: 'decided', label: '作出处罚决定数', unit: 'count', definition: `Cases whose decidedOn 决定日期 is ${IN_PERIOD}.` },
  { key: 'closed', label: '结案数', unit: 'count', definition: `Cases whose closedOn 结案日期 is ${IN_PERIOD}.` },
  {
    key: 'overdue',
    label: '超期未决数',
    unit: 'count',
    definition: `Cases that became overdue in the period: the first day after their decision deadline (filedOn + ${DECISION_DAYS} days, 行政处罚法 第60条) is in the period and not after asOf, and they were not decided by the deadline (decidedOn empty or later). Cases terminated or transferred without a decision are not counted.`,
  },
  {
    key: 'decidedOnTime',
    label: '按期决定数',
    unit: 'count',
    definition: `Decided cases (decidedOn in the period) decided within ${DECISION_DAYS} days of filing (decidedOn ≤ filedOn + ${DECISION_DAYS}).`,
  },
  { key: 'onTimeRate', label: '按期办结率', unit: 'rate', numerator: 'decidedOnTime', denominator: 'decided', definition: 'decidedOnTime / decided.' },
  {
    key: 'legalReviewed',
    label: '法制审核数',
    unit: 'count',
    definition: 'Decided cases (decidedOn in the period) that passed the stage legal_review 法制审核 (行政处罚法 第58条).',
  },
  { key: 'legalReviewRate', label: '法制审核率', unit: 'rate', numerator: 'legalReviewed', denominator: 'decided', definition: 'legalReviewed / decided.' },
  {
    key: 'transferred',
    label: '移送数',
    unit: 'count',
    definition: 'Cases filed in the period that were transferred 移送 (stage transferred, e.g. to the judicial organs).',
  },
  { key: 'fineFen', label: '罚款金额（分）', unit: 'fen', definition: 'Sum of fineFen of the cases decided in the period, in fen.' },
  {
    key: 'confiscationFen',
    label: '没收金额（分）',
    unit: 'fen',
    definition: 'Sum of confiscationFen of the cases decided in the period, in fen; confiscations without a determinable amount (no confiscationFen) are not counted.',
  },
  {
    key: 'penaltyAmountFen',
    label: '罚没金额（分）',
    unit: 'fen',
    definition: '罚没金额: fineFen + confiscationFen of the cases decided in the period, in fen (the 年报 shows it in 万元 = 1,000,000 fen).',
  },
  {
    key: 'executed',
    label: '执行数',
    unit: 'count',
    definition: 'Cases decided in the period whose executedOn 执行完毕日期 is on or before asOf.',
  },
  { key: 'executionRate', label: '执行率', unit: 'rate', numerator: 'executed', denominator: 'decided', definition: 'executed / decided.' },
  ...CASE_CATEGORIES.map((c) => ({
    key: `byCategory.${c}`,
    label: `立案数·${CATEGORY_LABELS[c]}`,
    unit: 'count' as const,
    definition: `Cases filed in the period of category ${c} ${CATEGORY_LABELS[c]}.`,
  })),
  ...[...PENALTIES].reverse().map((p) => ({
    key: `byHeaviestPenalty.${p}`,
    label: `处罚决定数·${PENALTY_LABELS[p]}`,
    unit: 'count' as const,
    definition: `Cases decided in the period whose heaviest penalty is ${p} ${PENALTY_LABELS[p]}: a case with several penalties counts once, under the heaviest, in the order of 行政处罚法 第9条 (警告 < 通报批评 < 罚款 < 没收违法所得 < 没收非法财物 < 暂扣许可证件 < 降低资质等级 < 吊销许可证件 < 限制开展生产经营活动 < 责令停产停业 < 责令关闭 < 限制从业; 其他 counts lightest).`,
  })),
];

/**
 * 案件: the cases the period touches, grouped by child region, category and heaviest penalty — in three parts,
 * one per date column (filed, decided, closed), each an index-only scan of that column's index, which carries
 * every column its figures read (migration 0013). Each figure comes from one part, so no case counts twice.
 */
export const casesSection: StatsSection = {
  name: 'cases',
  label: '案件',
  figures,
  async collect({ db, regions, period }) {
    const day = (value: string) => sql`${value}::date`;
    const from = day(period.from);
    const to = day(period.to);
    const asOf = day(period.asOf);
    const filed = sql`${cases.filedOn} between ${from} and ${to}`;
    // Became overdue on filedOn + 91: within [from, asOf] ⇔ filedOn within [from - 91, asOf - 91].
    const overdueFrom = day(addDays(period.from, -(DECISION_DAYS + 1)));
    const overdueTo = day(addDays(period.asOf, -(DECISION_DAYS + 1)));
    const deadline = sql`(${cases.filedOn} + ${sql.raw(String(DECISION_DAYS))})`;
    const child = sql<string>`${regions.childOf(cases.regionCode)}`;
    const live = (within: SQL) => and(isNull(cases.deletedAt), inRegions(cases.regionCode, regions), within);
    // Each part selects every column of the union (its shape must be the same) and fills in its own figures.
    const none = sql<number>`0`;
    const nothing = {
      category: sql<string | null>`null::text`,
      heaviest: sql<string | null>`null::text`,
      filed: none,
      decided: none,
      closed: none,
      overdue: none,
      decidedOnTime: none,
      legalReviewed: none,
      transferred: none,
      fineFen: sql<string>`0`,
      confiscationFen: sql<string>`0`,
      executed: none,
    };
    const byFiling = db
      .select({
        child,
        ...nothing,
        category: sql<string | null>`${cases.category}`,
        filed: sql<number>`count(*) filter (where ${filed})::int`,
        overdue: sql<number>`count(*) filter (where ${cases.filedOn} between ${overdueFrom} and ${overdueTo}
          and (${cases.decidedOn} > ${deadline} or (${cases.decidedOn} is null and ${cases.stage} not in ('terminated', 'transferred'))))::int`,
        transferred: sql<number>`count(*) filter (where ${filed} and ${cases.stage} = 'transferred')::int`,
      })
      .from(cases)
      .where(live(sql`${cases.filedOn} between ${overdueFrom} and ${to}`))
      .groupBy(sql`1`, cases.category);
    const byDecision = db
      .select({
        child,
        ...nothing,
        heaviest: sql<string | null>`${cases.heaviestPenalty}`,
        decided: sql<number>`count(*)::int`,
        decidedOnTime: sql<number>`count(*) filter (where ${cases.decidedOn} <= ${deadline})::int`,
        legalReviewed: sql<number>`count(*) filter (where ${cases.legalReviewed})::int`,
        fineFen: sql<string>`coalesce(sum(${cases.fineFen}), 0)`,
        confiscationFen: sql<string>`coalesce(sum(${cases.confiscationFen}), 0)`,
        executed: sql<number>`count(*) filter (where ${cases.executedOn} <= ${asOf})::int`,
      })
      .from(cases)
      .where(live(sql`${cases.decidedOn} between ${from} and ${to}`))
      .groupBy(sql`1`, cases.heaviestPenalty);
    const byClosing = db
      .select({ child, ...nothing, closed: sql<number>`count(*)::int` })
      .from(cases)
      .where(live(sql`${cases.closedOn} between ${from} and ${to}`))
      .groupBy(sql`1`);
    const rows = await unionAll(byFiling, byDecision, byClosing);

    const out: SectionCounts = new Map();
    for (const row of rows) {
      const counts = out.get(row.child) ?? {};
      const add = (key: string, n: number) => (counts[key] = (counts[key] ?? 0) + n);
      for (const key of ['filed', 'decided', 'closed', 'overdue', 'decidedOnTime', 'legalReviewed', 'transferred', 'executed'] as const) add(key, row[key]);
      add('fineFen', Number(row.fineFen));
      add('confiscationFen', Number(row.confiscationFen));
      add('penaltyAmountFen', Number(row.fineFen) + Number(row.confiscationFen));
      if (row.category) add(`byCategory.${row.category}`, row.filed);
      if (row.heaviest) add(`byHeaviestPenalty.${row.heaviest}`, row.decided);
      out.set(row.child, counts);
    }
    return out;
  },
};
