import { sql } from 'drizzle-orm';
import { date, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { recordColumns } from './columns.js';
import { orgUnits } from './org-units.js';

/** 装备: an item of enforcement equipment owned by an org unit. */
export const equipment = pgTable(
  'equipment',
  {
    ...recordColumns(),
    category: text('category').notNull(),
    model: text('model').notNull(),
    serialNumber: text('serial_number').notNull(),
    orgUnitId: uuid('org_unit_id')
      .notNull()
      .references(() => orgUnits.id),
    status: text('status').notNull(),
  },
  (t) => [
    uniqueIndex('equipment_external_key').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is null`),
    // Tombstones by key: a record re-created under a deleted key continues that key's versions.
    index('equipment_tombstone_key_idx').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is not null`),
    index('equipment_region_idx').on(t.regionCode, t.id),
    index('equipment_org_unit_idx').on(t.orgUnitId),
    // A serial number identifies one item of a category among live records (the rule reports it first, clearly).
    uniqueIndex('equipment_category_serial_key').on(t.category, t.serialNumber).where(sql`${t.deletedAt} is null`),
    // The statistics and equipment-below-quota count in-service items per unit and category: an index-only scan.
    index('equipment_in_service_idx')
      .on(t.orgUnitId, t.category, t.regionCode)
      .where(sql`${t.deletedAt} is null and ${t.status} = 'in_service'`),
  ],
);

/** 装备配置: an item allocated to an officer or an assistant from `allocated_on` until `returned_on`. */
export const equipmentAllocations = pgTable(
  'equipment_allocations',
  {
    ...recordColumns(),
    equipmentId: uuid('equipment_id')
      .notNull()
      .references(() => equipment.id),
    holderType: text('holder_type').notNull(),
    holderId: uuid('holder_id').notNull(),
    allocatedOn: date('allocated_on', { mode: 'string' }).notNull(),
    returnedOn: date('returned_on', { mode: 'string' }),
  },
  (t) => [
    uniqueIndex('equipment_allocations_external_key').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is null`),
    // Tombstones by key: a record re-created under a deleted key continues that key's versions.
    index('equipment_allocations_tombstone_key_idx').on(t.regionCode, t.externalId).where(sql`${t.deletedAt} is not null`),
    index('equipment_allocations_region_idx').on(t.regionCode, t.id),
    index('equipment_allocations_equipment_idx').on(t.equipmentId, t.allocatedOn),
    index('equipment_allocations_holder_idx').on(t.holderId),
    // At most one open allocation per item, between concurrent writers too.
    uniqueIndex('equipment_allocations_open_key')
      .on(t.equipmentId)
      .where(sql`${t.returnedOn} is null and ${t.deletedAt} is null`),
  ],
);
