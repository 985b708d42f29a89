import { getTableName, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { equipment, equipmentAllocations } from '../db/schema/index.js';
import type { SourceParams } from '../records/definition.js';
import { aliased, fromAs, qualified } from '../records/store.js';
import { CalendarDate } from '../records/schemas.js';
import { EquipmentCategory } from './equipment.js';

/** What an officer's or assistant's read embeds of the equipment the person holds now. */
export const HeldEquipment = z
  .object({
    allocationId: z.uuid().describe('The open allocation 装备配置'),
    equipmentId: z.uuid().describe('The item 装备'),
    category: EquipmentCategory,
    model: z.string().describe('Model 型号'),
    serialNumber: z.string().describe('Serial number 序列号'),
    allocatedOn: CalendarDate.describe('Allocated on 配发日期'),
  })
  .meta({ id: 'HeldEquipment' });

export type HeldEquipmentItem = z.infer<typeof HeldEquipment>;

/**
 * The open allocations of the holder in the current row of `holderId`'s table, with their items, as a JSON
 * array (a `computed` source: read in the same statement as the holder). Allocations and items outside the
 * caller's regions are left out (DESIGN §5: nothing of them in embedded summaries). The item is read by
 * its key in a lateral subquery: as a plain join, a generic plan scanned the region's items for each
 * allocation (the region range looked as selective as the key).
 */
export function heldEquipmentSource(holderType: 'officer' | 'assistant', holderId: PgColumn, { lo, hi }: SourceParams): SQL {
  const a = (col: PgColumn) => aliased('a', col);
  const e = (col: PgColumn) => aliased('e', col);
  const A = equipmentAllocations;
  const E = equipment;
  // Objects made by row_to_json/array_to_json, which write compact JSON (json_build_object writes `"k" : v`).
  return sql`(select coalesce(array_to_json(array_agg(x order by x.category, x."allocatedOn", x."allocationId")), '[]'::json)
    from (select ${a(A.id)} as "allocationId", ${e(E.id)} as "equipmentId", ${e(E.category)} as category, ${e(E.model)} as model,
        ${e(E.serialNumber)} as "serialNumber", ${a(A.allocatedOn)} as "allocatedOn"
      from ${fromAs(A, 'a')}
      cross join lateral (select * from ${sql.identifier(getTableName(E))} as i where i.id = ${a(A.equipmentId)} limit 1) as e
    where ${a(A.holderId)} = ${qualified(holderId)} and ${a(A.holderType)} = ${holderType} and ${a(A.returnedOn)} is null
      and ${a(A.deletedAt)} is null and ${e(E.deletedAt)} is null
      and ${a(A.regionCode)} between ${lo} and ${hi} and ${e(E.regionCode)} between ${lo} and ${hi}) as x)`;
}

/**
 * The regions of the holder's open allocations and of their items, whichever the caller covers: with them,
 * a holder is kept whole only for readers who see all of its equipment (a `computed.regions` part).
 */
export function heldEquipmentRegions(holderType: 'officer' | 'assistant', holderId: PgColumn): SQL {
  const a = (col: PgColumn) => aliased('a', col);
  const A = equipmentAllocations;
  const E = equipment;
  const open = sql`${a(A.holderId)} = ${qualified(holderId)} and ${a(A.holderType)} = ${holderType} and ${a(A.returnedOn)} is null and ${a(A.deletedAt)} is null`;
  return sql`select ${a(A.regionCode)} as region_code from ${fromAs(A, 'a')} where ${open}
    union all select i.region_code from ${fromAs(A, 'a')} join ${sql.identifier(getTableName(E))} as i on i.id = ${a(A.equipmentId)} where ${open}`;
}

/**
 * Which holders' held equipment a write shows in (a `computed.dependsOn` part): an allocation's holder,
 * before and after; an item's holders by its open allocations.
 */
export const heldEquipmentDependencies = {
  'equipment-allocations': { owner: (row: Record<string, unknown>) => row['holderId'] },
  equipment: {
    owners: (ids: SQL) =>
      sql`select ${equipmentAllocations.holderId} from ${equipmentAllocations} where ${equipmentAllocations.equipmentId} = any(${ids}) and ${equipmentAllocations.returnedOn} is null and ${equipmentAllocations.deletedAt} is null`,
  },
};
