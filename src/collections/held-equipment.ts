import { and, asc, between, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { prepared } from '../db/prepared.js';
import { equipment, equipmentAllocations } from '../db/schema/index.js';
import { coverageRange } from '../records/region-scope.js';
import type { Principal } from '../security/tokens.js';
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
 * The open allocations of the given holders, with their items: one query for a whole page. Allocations
 * and items outside the caller's regions are left out (DESIGN §5: nothing of them in embedded summaries).
 */
export async function heldEquipment(
  db: Db,
  holderType: 'officer' | 'assistant',
  holderIds: string[],
  principal: Principal,
): Promise<Map<string, HeldEquipmentItem[]>> {
  const statement = prepared(db, `held_equipment_${holderType}`, (handle, name) =>
    handle
      .select({
        holderId: equipmentAllocations.holderId,
        allocationId: equipmentAllocations.id,
        equipmentId: equipment.id,
        category: equipment.category,
        model: equipment.model,
        serialNumber: equipment.serialNumber,
        allocatedOn: equipmentAllocations.allocatedOn,
      })
      .from(equipmentAllocations)
      .innerJoin(equipment, eq(equipment.id, equipmentAllocations.equipmentId))
      .where(
        and(
          sql`${equipmentAllocations.holderId} = any(${sql.placeholder('ids')}::uuid[])`,
          eq(equipmentAllocations.holderType, holderType),
          isNull(equipmentAllocations.returnedOn),
          isNull(equipmentAllocations.deletedAt),
          isNull(equipment.deletedAt),
          between(equipmentAllocations.regionCode, sql.placeholder('lo'), sql.placeholder('hi')),
          between(equipment.regionCode, sql.placeholder('lo'), sql.placeholder('hi')),
        ),
      )
      .orderBy(asc(equipment.category), asc(equipmentAllocations.allocatedOn), asc(equipmentAllocations.id))
      .prepare(name),
  );
  const [lo, hi] = coverageRange(principal.region);
  const rows = await statement.execute({ ids: holderIds, lo, hi });
  const byHolder = new Map<string, HeldEquipmentItem[]>();
  for (const { holderId, category, ...item } of rows) {
    const list = byHolder.get(holderId) ?? [];
    list.push({ ...item, category: category as HeldEquipmentItem['category'] });
    byHolder.set(holderId, list);
  }
  return byHolder;
}
