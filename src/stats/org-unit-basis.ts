// What the statistics and the compliance lists count per org unit: its active officers, those on duty on a day,
// its assistants in service and, against the equipment quota table, what each category requires and what the
// unit holds. One definition for both, so a unit the statistics count as short is one the list names.
import { sql, type SQL } from 'drizzle-orm';
import { assistants, equipment, officers, orgUnits, postStatuses } from '../db/schema/index.js';
import type { EquipmentQuotas } from '../domain/equipment-quotas.js';

/** Assistants in service 在岗协管人员: on probation or active. */
export const ASSISTANTS_IN_SERVICE = ['probation', 'active'] as const;

const day = (value: string) => sql`${value}::date`;
const inService = sql`${assistants.status} in ('probation', 'active')`;

/**
 * The status of the officer of the enclosing query (`officers` unaliased) on `on`: the latest post status with
 * effectiveFrom on or before that day (one per officer and day, so never a tie), or null. Served by
 * `post_statuses_officer_day_key (officer_id, effective_from)`.
 */
export function postStatusOn(on: string): SQL {
  return sql`(select ${postStatuses.status} from ${postStatuses}
    where ${postStatuses.officerId} = ${officers.id} and ${postStatuses.deletedAt} is null and ${postStatuses.effectiveFrom} <= ${day(on)}
    order by ${postStatuses.effectiveFrom} desc limit 1)`;
}

/** Live active officers in [lo, hi] of the org unit of the enclosing query (`org_units` unaliased). */
function officersOfUnit(lo: string, hi: string, extra: SQL = sql`true`): SQL {
  return sql`(select count(*) from ${officers} where ${officers.orgUnitId} = ${orgUnits.id} and ${officers.deletedAt} is null
    and ${officers.employmentStatus} = 'active' and ${officers.regionCode} between ${lo} and ${hi} and ${extra})::int`;
}

/** Live assistants in service in [lo, hi] employed by the org unit of the enclosing query. */
export function assistantsOfUnit(lo: string, hi: string): SQL {
  return sql`(select count(*) from ${assistants} where ${assistants.orgUnitId} = ${orgUnits.id} and ${assistants.deletedAt} is null
    and ${inService} and ${assistants.regionCode} between ${lo} and ${hi})::int`;
}

export const activeOfficersOfUnit = (lo: string, hi: string) => officersOfUnit(lo, hi);

/** The quota table as rows (category, basis, per, quantity); a table without quotas gives no rows. */
function quotaRows(quotas: EquipmentQuotas): SQL {
  const rows = Object.entries(quotas).map(
    ([category, rule]) => sql`(${category}::text, ${rule.basis}::text, ${rule.basis === 'per_officers' ? rule.officers : 1}::int, ${rule.quantity}::int)`,
  );
  // quantity is at least 1 in a rule, so the placeholder row of an empty table is filtered out.
  if (rows.length === 0) rows.push(sql`(''::text, ''::text, 1, 0)`);
  return sql`(select * from (values ${sql.join(rows, sql`, `)}) as v(category, basis, per, quantity) where v.quantity > 0)`;
}

/**
 * One row per live org unit in [lo, hi] that has active officers, and per category with a quota: `unit_id`,
 * `external_id`, `region_code`, `name`, `active_officers`, `on_duty_officers` (active, status on_duty on `on`),
 * `category`, `basis`, `per`, `quantity`, `required`, `held` (live in_service items of the category owned by the
 * unit, in [lo, hi]). Per started group for `per_officers`: 9 officers at 1 per 8 need 2.
 */
export function unitQuotaNeeds(quotas: EquipmentQuotas, lo: string, hi: string, on: string): SQL {
  return sql`
    with unit as (
      select ${orgUnits.id} as unit_id, ${orgUnits.externalId} as external_id, ${orgUnits.regionCode} as region_code, ${orgUnits.name} as name,
             ${officersOfUnit(lo, hi)} as active_officers,
             ${officersOfUnit(lo, hi, sql`${postStatusOn(on)} = 'on_duty'`)} as on_duty_officers
      from ${orgUnits}
      where ${orgUnits.deletedAt} is null and ${orgUnits.regionCode} between ${lo} and ${hi}
    ), held as (
      select ${equipment.orgUnitId} as unit_id, ${equipment.category} as category, count(*)::int as n
      from ${equipment}
      where ${equipment.deletedAt} is null and ${equipment.status} = 'in_service' and ${equipment.regionCode} between ${lo} and ${hi}
      group by 1, 2
    )
    select unit.*, q.category, q.basis, q.per, q.quantity,
           (case q.basis when 'per_on_duty_officer' then q.quantity * unit.on_duty_officers
                         when 'per_org_unit' then q.quantity
                         else q.quantity * ((unit.active_officers + q.per - 1) / q.per) end)::int as required,
           coalesce(held.n, 0)::int as held
    from unit cross join ${quotaRows(quotas)} as q
    left join held on held.unit_id = unit.unit_id and held.category = q.category
    where unit.active_officers > 0`;
}
