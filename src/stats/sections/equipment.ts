import { sql } from 'drizzle-orm';
import { DEFAULT_EQUIPMENT_QUOTAS, EQUIPMENT_CATEGORIES, type EquipmentCategory, type QuotaRule } from '../../domain/equipment-quotas.js';
import { queryRows } from '../../db/client.js';
import type { Figure, RateFigure, SectionCounts, StatsSection } from '../figures.js';
import { unitQuotaNeeds } from '../org-unit-basis.js';

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

const UNITS = 'org units with at least one active officer';
const BY_UNIT =
  'Counted in the region of the owning org unit (equipment) or of the officer’s org unit; only officers and items of the report’s regions count.';

const figures: (Figure | RateFigure)[] = [
  {
    key: 'onDutyOfficers',
    label: '在岗执法人员数',
    unit: 'count',
    definition: `Active officers whose post status on asOf is on_duty 在岗 (the latest post status with effectiveFrom on or before asOf). ${BY_UNIT}`,
  },
  {
    key: 'orgUnits',
    label: '配备单位数',
    unit: 'count',
    definition: `Org units the quotas are counted for: live ${UNITS}. ${BY_UNIT}`,
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
    definition: `Live items of category ${c} ${EQUIPMENT_LABELS[c]} with status in_service (a snapshot of the current records: equipment history is not kept). ${BY_UNIT}`,
  })),
  ...EQUIPMENT_CATEGORIES.map((c) => ({
    key: `required.${c}`,
    label: `应配数·${EQUIPMENT_LABELS[c]}`,
    unit: 'count' as const,
    definition: `Items of ${c} the equipment quota table asks for (${defaultOf(c)}; EQUIPMENT_QUOTAS_FILE may set another), summed over the ${UNITS}, officers on duty as of asOf; 0 without a quota. ${BY_UNIT}`,
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
 * 装备: one statement over the per-unit basis (org-unit-basis.ts): items in service, required and missing by
 * category, officers on duty and the units short, all in the region of the org unit.
 */
export const equipmentSection: StatsSection = {
  name: 'equipment',
  label: '装备',
  figures,
  async collect({ db, regions, period, quotas }) {
    const child = regions.childOf(sql`need.region_code`);
    const rows = await queryRows<{
      child: string;
      category: string | null;
      in_service: number;
      required: number;
      shortfall: number;
      on_duty: number;
      units: number;
      units_short: number;
    }>(
      db,
      sql`with need as ${unitQuotaNeeds(quotas, regions.lo, regions.hi, period.asOf)},
          per_unit as (
            select need.unit_id, need.region_code, max(need.active_officers) as active_officers, max(need.on_duty_officers) as on_duty_officers,
                   bool_or(need.required > need.held) as short
            from need group by 1, 2
          )
          select ${child} as child, need.category, sum(need.held)::int as in_service, sum(need.required)::int as required,
                 sum(greatest(need.required - need.held, 0))::int as shortfall, 0 as on_duty, 0 as units, 0 as units_short
          from need group by 1, 2
          union all
          select ${regions.childOf(sql`per_unit.region_code`)}, null, 0, 0, 0, sum(per_unit.on_duty_officers)::int,
                 (count(*) filter (where per_unit.active_officers > 0))::int, (count(*) filter (where per_unit.short))::int
          from per_unit group by 1`,
    );
    const out: SectionCounts = new Map();
    for (const row of rows) {
      const counts = out.get(row.child) ?? {};
      if (row.category === null) {
        counts['onDutyOfficers'] = row.on_duty;
        counts['orgUnits'] = row.units;
        counts['orgUnitsBelowQuota'] = row.units_short;
      } else {
        counts[`inService.${row.category}`] = row.in_service;
        counts[`required.${row.category}`] = row.required;
        counts[`shortfall.${row.category}`] = row.shortfall;
      }
      out.set(row.child, counts);
    }
    return out;
  },
};
