import { and, eq, isNull, sql } from 'drizzle-orm';
import { equipment, officers } from '../../db/schema/index.js';
import { DEFAULT_EQUIPMENT_QUOTAS, EQUIPMENT_CATEGORIES, type EquipmentCategory, type QuotaRule } from '../../domain/equipment-quotas.js';
import { queryRows } from '../../db/client.js';
import type { Figure, RateFigure, SectionCounts, StatsSection } from '../figures.js';
import { postStatusOn, unitQuotaNeeds } from '../org-unit-basis.js';
import { inRegions } from '../regions.js';

export const EQUIPMENT_LABELS: Record<EquipmentCategory, string> = {
  vehicle: '执法车辆',
  body_camera: '执法记录仪',
  handheld_terminal: '执法终端',
  radio: '对讲机',
  uniform: '制式服装',
  protective: '防护装备',
  other: '其他装备',
};

/** A quota rule in words: "1 per officer on duty". */
export function quotaInWords(rule: QuotaRule): string {
  switch (rule.basis) {
    case 'per_on_duty_officer':
      return `${rule.quantity} per officer on duty`;
    case 'per_org_unit':
      return `${rule.quantity} per org unit`;
    case 'per_officers':
      return rule.officers === 1 ? `${rule.quantity} per active officer` : `${rule.quantity} per started ${rule.officers} active officers`;
  }
}

const defaultOf = (c: EquipmentCategory) => {
  const rule = DEFAULT_EQUIPMENT_QUOTAS[c];
  return rule ? `default ${quotaInWords(rule)}` : 'no quota by default';
};

const UNITS =
  'org units with at least one active officer, in the region of the unit; officers and items counted are those of the report’s regions';

const figures: (Figure | RateFigure)[] = [
  {
    key: 'onDutyOfficers',
    label: '在岗执法人员数',
    unit: 'count',
    definition: 'Active officers whose post status on asOf is on_duty 在岗 (the latest post status with effectiveFrom on or before asOf).',
  },
  {
    key: 'orgUnits',
    label: '配备单位数',
    unit: 'count',
    definition: `Org units the quotas are counted for: ${UNITS}.`,
  },
  {
    key: 'orgUnitsBelowQuota',
    label: '装备不达标单位数',
    unit: 'count',
    definition: 'Of orgUnits, those holding fewer in-service items than required in at least one category (the units of the compliance list equipment-below-quota, on asOf).',
  },
  ...EQUIPMENT_CATEGORIES.map((c) => ({
    key: `inService.${c}`,
    label: `在用装备数·${EQUIPMENT_LABELS[c]}`,
    unit: 'count' as const,
    definition: `Live items of category ${c} ${EQUIPMENT_LABELS[c]} with status in_service, by the item's region (a snapshot of the current records: equipment history is not kept).`,
  })),
  ...EQUIPMENT_CATEGORIES.map((c) => ({
    key: `required.${c}`,
    label: `应配数·${EQUIPMENT_LABELS[c]}`,
    unit: 'count' as const,
    definition: `Items of ${c} the equipment quota table asks for (${defaultOf(c)}; EQUIPMENT_QUOTAS_FILE may set another), summed over the ${UNITS}; on-duty officers as of asOf; 0 without a quota.`,
  })),
  ...EQUIPMENT_CATEGORIES.map((c) => ({
    key: `shortfall.${c}`,
    label: `缺配数·${EQUIPMENT_LABELS[c]}`,
    unit: 'count' as const,
    definition: `Items of ${c} missing: the sum over those units of max(0, required − in-service items the unit owns). One unit’s surplus does not cover another’s shortfall.`,
  })),
  {
    key: 'bodyCamerasPerOnDutyOfficer',
    label: '执法记录仪人均配备（在岗）',
    unit: 'rate',
    numerator: 'inService.body_camera',
    denominator: 'onDutyOfficers',
    definition: 'inService.body_camera / onDutyOfficers (全过程记录, 行政处罚法 第47条).',
  },
];

/**
 * 装备: items in service by category (by the item's region), officers on duty (by the officer's region), and
 * per org unit what the quota table requires and what is missing (by the unit's region).
 */
export const equipmentSection: StatsSection = {
  name: 'equipment',
  label: '装备',
  figures,
  async collect({ db, regions, period, quotas }) {
    const [items, onDuty, needs] = await Promise.all([
      db
        .select({ child: sql<string>`${regions.childOf(equipment.regionCode)}`, category: equipment.category, n: sql<number>`count(*)::int` })
        .from(equipment)
        .where(and(isNull(equipment.deletedAt), eq(equipment.status, 'in_service'), inRegions(equipment.regionCode, regions)))
        .groupBy(sql`1`, equipment.category),
      db
        .select({ child: sql<string>`${regions.childOf(officers.regionCode)}`, n: sql<number>`count(*)::int` })
        .from(officers)
        .where(
          and(
            isNull(officers.deletedAt),
            eq(officers.employmentStatus, 'active'),
            inRegions(officers.regionCode, regions),
            sql`${postStatusOn(period.asOf)} = 'on_duty'`,
          ),
        )
        .groupBy(sql`1`),
      queryRows<{ child: string; category: string | null; units: number; units_short: number; required: number; shortfall: number }>(
        db,
        sql`select n.child, n.category,
                   count(distinct n.unit_id)::int as units,
                   count(distinct n.unit_id) filter (where n.required > n.held)::int as units_short,
                   coalesce(sum(n.required), 0)::int as required,
                   coalesce(sum(greatest(n.required - n.held, 0)), 0)::int as shortfall
            from (select need.*, ${regions.childOf(sql`need.region_code`)} as child
                  from (${unitQuotaNeeds(quotas, regions.lo, regions.hi, period.asOf)}) as need) as n
            group by grouping sets ((n.child, n.category), (n.child))`,
      ),
    ]);
    const out: SectionCounts = new Map();
    const at = (child: string) => {
      let counts = out.get(child);
      if (!counts) out.set(child, (counts = {}));
      return counts;
    };
    for (const row of items) at(row.child)[`inService.${row.category}`] = row.n;
    for (const row of onDuty) at(row.child)['onDutyOfficers'] = row.n;
    for (const row of needs) {
      const counts = at(row.child);
      if (row.category === null) {
        counts['orgUnits'] = row.units;
        counts['orgUnitsBelowQuota'] = row.units_short;
      } else {
        counts[`required.${row.category}`] = row.required;
        counts[`shortfall.${row.category}`] = row.shortfall;
      }
    }
    return out;
  },
};
