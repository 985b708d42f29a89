// What the statistics and the compliance lists count per org unit: its active officers, those on duty on a day,
// its assistants in service and, against the equipment quota table, what each category requires and what the
// unit holds. One definition for both, so a unit the statistics count as short is one the list names.
// Set-wise: each table is read once and grouped (hash joins), never a subquery per unit or per officer — at
// 100,000 officers a per-officer subquery costs seconds.
import { sql, type SQL } from 'drizzle-orm';
import { assistants, equipment, officers, orgUnits, postStatuses } from '../db/schema/index.js';
import { EQUIPMENT_CATEGORIES, type EquipmentQuotas } from '../domain/equipment-quotas.js';

/** Assistants in service 在岗协管人员: on probation or active. */
export const ASSISTANTS_IN_SERVICE = ['probation', 'active'] as const;

/**
 * Each officer's post status on `on`: the latest with effectiveFrom on or before that day (one per officer and
 * day, so never a tie). Columns `officer_id`, `status`.
 */
export function postStatusesOn(on: string): SQL {
  return sql`(select distinct on (${postStatuses.officerId}) ${postStatuses.officerId} as officer_id, ${postStatuses.status} as status
    from ${postStatuses}
    where ${postStatuses.deletedAt} is null and ${postStatuses.effectiveFrom} <= ${on}::date
    order by ${postStatuses.officerId}, ${postStatuses.effectiveFrom} desc)`;
}

/** Live active officers in [lo, hi] with their post status on `on`: columns `id`, `region_code`, `org_unit_id`, `on_duty`. */
export function activeOfficersOn(lo: string, hi: string, on: string): SQL {
  return sql`(select ${officers.id} as id, ${officers.regionCode} as region_code, ${officers.orgUnitId} as org_unit_id,
      coalesce(ps.status = 'on_duty', false) as on_duty
    from ${officers} left join ${postStatusesOn(on)} as ps on ps.officer_id = ${officers.id}
    where ${officers.deletedAt} is null and ${officers.employmentStatus} = 'active' and ${officers.regionCode} between ${lo} and ${hi})`;
}

/**
 * Live org units in [lo, hi] with their people: `unit_id`, `external_id`, `region_code`, `name`,
 * `active_officers` (live, active, in [lo, hi]) and `assistants` (live, in service, employed by the unit, in [lo, hi]).
 */
export function unitPeople(lo: string, hi: string): SQL {
  return sql`(select ${orgUnits.id} as unit_id, ${orgUnits.externalId} as external_id, ${orgUnits.regionCode} as region_code, ${orgUnits.name} as name,
      coalesce(s.n, 0)::int as active_officers, coalesce(a.n, 0)::int as assistants
    from ${orgUnits}
    left join (select ${officers.orgUnitId} as unit_id, count(*) as n from ${officers}
               where ${officers.deletedAt} is null and ${officers.employmentStatus} = 'active' and ${officers.regionCode} between ${lo} and ${hi}
               group by 1) as s on s.unit_id = ${orgUnits.id}
    left join (select ${assistants.orgUnitId} as unit_id, count(*) as n from ${assistants}
               where ${assistants.deletedAt} is null and ${assistants.status} in ('probation', 'active') and ${assistants.regionCode} between ${lo} and ${hi}
               group by 1) as a on a.unit_id = ${orgUnits.id}
    where ${orgUnits.deletedAt} is null and ${orgUnits.regionCode} between ${lo} and ${hi})`;
}

/** The quota table as rows (category, basis, per, quantity); a table without quotas gives no rows. */
function quotaRows(quotas: EquipmentQuotas): SQL {
  const rows = Object.entries(quotas).map(
    ([category, rule]) => sql`(${category}::text, ${rule.basis}::text, ${rule.basis === 'per_officers' ? rule.officers : 1}::int, ${rule.quantity}::int)`,
  );
  // quantity is at least 1 in a rule, so the placeholder row of an empty table is filtered out.
  if (rows.length === 0) rows.push(sql`(''::text, ''::text, 1, 0)`);
  return sql`(select * from (values ${sql.join(rows, sql`, `)}) as v(category, basis, per, quantity) where v.quantity > 0)`;
}

const categoryRows = sql`(values ${sql.join(
  EQUIPMENT_CATEGORIES.map((c) => sql`(${c}::text)`),
  sql`, `,
)}) as c(category)`;

/**
 * One row per live org unit in [lo, hi] and equipment category: `unit_id`, `external_id`, `region_code`, `name`,
 * `active_officers`, `on_duty_officers` (active officers in [lo, hi] whose post status on `on` is on_duty),
 * `category`, `held` (live in_service items of the category owned by the unit, in [lo, hi]) and `required` by
 * the quota table — 0 for a category without a quota and for a unit without active officers; per started group
 * for `per_officers` (9 officers at 1 per 8 need 2).
 */
export function unitQuotaNeeds(quotas: EquipmentQuotas, lo: string, hi: string, on: string): SQL {
  return sql`(
    with staff as (
      select o.org_unit_id as unit_id, count(*)::int as active_officers, (count(*) filter (where o.on_duty))::int as on_duty_officers
      from ${activeOfficersOn(lo, hi, on)} as o group by 1
    ), held as (
      select ${equipment.orgUnitId} as unit_id, ${equipment.category} as category, count(*)::int as n
      from ${equipment}
      where ${equipment.deletedAt} is null and ${equipment.status} = 'in_service' and ${equipment.regionCode} between ${lo} and ${hi}
      group by 1, 2
    ), unit as (
      select ${orgUnits.id} as unit_id, ${orgUnits.externalId} as external_id, ${orgUnits.regionCode} as region_code, ${orgUnits.name} as name,
             coalesce(staff.active_officers, 0) as active_officers, coalesce(staff.on_duty_officers, 0) as on_duty_officers
      from ${orgUnits} left join staff on staff.unit_id = ${orgUnits.id}
      where ${orgUnits.deletedAt} is null and ${orgUnits.regionCode} between ${lo} and ${hi}
    )
    select unit.*, c.category, coalesce(held.n, 0)::int as held,
           (case when unit.active_officers = 0 or q.category is null then 0
                 when q.basis = 'per_on_duty_officer' then q.quantity * unit.on_duty_officers
                 when q.basis = 'per_org_unit' then q.quantity
                 else q.quantity * ((unit.active_officers + q.per - 1) / q.per) end)::int as required
    from unit cross join ${categoryRows}
    left join ${quotaRows(quotas)} as q on q.category = c.category
    left join held on held.unit_id = unit.unit_id and held.category = c.category)`;
}
