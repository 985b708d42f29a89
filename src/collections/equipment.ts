import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { equipment, equipmentAllocations } from '../db/schema/index.js';
import { EQUIPMENT_CATEGORIES } from '../domain/equipment-quotas.js';
import { defineCollection } from '../records/definition.js';

export const EQUIPMENT_STATUSES = ['in_service', 'maintenance', 'retired', 'lost'] as const;

export const EquipmentCategory = z
  .enum(EQUIPMENT_CATEGORIES)
  .describe(
    'Category 装备类别: vehicle 执法车辆; body_camera 执法记录仪; handheld_terminal 执法终端/移动执法设备; radio 对讲机; uniform 制式服装及标志标识; protective 防护装备; other 其他',
  );
export const EquipmentStatus = z
  .enum(EQUIPMENT_STATUSES)
  .describe('Status 装备状态: in_service 在用 (only these can be allocated); maintenance 维修; retired 报废; lost 遗失');

const fields = z.object({
  category: EquipmentCategory,
  model: z.string().trim().min(1).max(100).describe('Model 型号, e.g. DSJ-T8'),
  serialNumber: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .describe('Serial number 序列号/编号 (a vehicle: its plate or VIN); unique per category among live records'),
  status: EquipmentStatus,
});

/** 装备: enforcement equipment owned by an org unit (城市管理执法装备配备指导标准). */
export const equipmentCollection = defineCollection({
  name: 'equipment',
  singular: 'Equipment',
  plural: 'EquipmentItems',
  tag: 'equipment',
  description: 'Enforcement equipment 装备 owned by an org unit',
  table: equipment,
  fields,
  refs: [
    { field: 'orgUnitId', externalField: 'orgUnitExternalId', target: 'org-units', required: true, description: 'Owning unit 所属执法机构' },
  ],
  filters: {
    query: {
      orgUnitId: z.uuid().optional().describe("Only this unit's equipment"),
      category: EquipmentCategory.optional().describe('Only this category'),
      status: EquipmentStatus.optional().describe('Only items with this status'),
      serialNumber: z.string().trim().min(1).max(64).optional().describe('Only items with exactly this serial number'),
    },
    where: (query) => [
      typeof query['orgUnitId'] === 'string' ? eq(equipment.orgUnitId, query['orgUnitId']) : undefined,
      typeof query['category'] === 'string' ? eq(equipment.category, query['category']) : undefined,
      typeof query['status'] === 'string' ? eq(equipment.status, query['status']) : undefined,
      typeof query['serialNumber'] === 'string' ? eq(equipment.serialNumber, query['serialNumber']) : undefined,
    ],
  },
  unique: [
    {
      key: (candidate) => `${String(candidate['category'])}|${String(candidate['serialNumber'])}`,
      column: sql`${equipment.category} || '|' || ${equipment.serialNumber}`,
      constraint: 'equipment_category_serial_key',
      path: '/serialNumber',
      message: (_holder, candidate) =>
        `Serial number ${String(candidate['serialNumber'])} is already recorded for another ${String(candidate['category'])} item; a serial number identifies one item of a category. Update that record instead.`,
    },
  ],
  checks: [
    {
      // A retired item is out of use: it must have been returned first. The open allocations read are locked
      // (an allocation being written holds the item FOR SHARE, so the two cannot pass each other).
      name: 'retire-only-returned-items',
      async check(subjects, { tx }) {
        const retiring = subjects.filter((s) => s.candidate.status === 'retired' && s.candidate.id);
        if (retiring.length === 0) return;
        const open = await tx
          .select({ equipmentId: equipmentAllocations.equipmentId, allocatedOn: equipmentAllocations.allocatedOn })
          .from(equipmentAllocations)
          .where(
            and(
              inArray(equipmentAllocations.equipmentId, retiring.map((s) => s.candidate.id!)),
              isNull(equipmentAllocations.returnedOn),
              isNull(equipmentAllocations.deletedAt),
            ),
          )
          .orderBy(equipmentAllocations.id)
          .for('share');
        for (const s of retiring) {
          const allocation = open.find((a) => a.equipmentId === s.candidate.id);
          if (allocation) {
            s.fail('/status', `The item is still allocated (since ${allocation.allocatedOn}); record its return (returnedOn) before retiring it.`);
          }
        }
      },
    },
  ],
});
