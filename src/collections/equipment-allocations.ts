import { eq, isNotNull, isNull } from 'drizzle-orm';
import { z } from 'zod';
import { equipmentAllocations } from '../db/schema/index.js';
import { ruleViolation } from '../errors.js';
import { defineCollection } from '../records/definition.js';
import { CalendarDate } from '../records/schemas.js';
import { ACTIVE_ASSISTANT_STATUSES } from './assistants.js';

export const HOLDER_TYPES = ['officer', 'assistant'] as const;

export const HolderType = z
  .enum(HOLDER_TYPES)
  .describe('Holder type 领用人类别: officer 执法人员 (holderId is an officer); assistant 协管人员 (holderId is an assistant)');

const fields = z.object({
  holderType: HolderType,
  allocatedOn: CalendarDate.describe('Allocated on 配发日期 (YYYY-MM-DD)'),
  returnedOn: CalendarDate.describe('Returned on 归还日期 (YYYY-MM-DD), not before allocatedOn; absent while the item is held').optional(),
});

/** 装备配置: who holds an item and since when. An item's allocations are its history; at most one is open. */
export const equipmentAllocationsCollection = defineCollection({
  name: 'equipment-allocations',
  singular: 'EquipmentAllocation',
  plural: 'EquipmentAllocations',
  tag: 'equipment-allocations',
  description: 'Equipment allocation 装备配置: an item held by an officer or an assistant',
  table: equipmentAllocations,
  fields,
  refs: [
    // The rules read the item's status and the holder's: both rows are held FOR SHARE until commit, so a
    // concurrent status change (maintenance, retired; a holder leaving) waits for this write or is seen by it.
    { field: 'equipmentId', externalField: 'equipmentExternalId', target: 'equipment', required: true, description: 'Item 装备', lock: 'share' },
    {
      field: 'holderId',
      externalField: 'holderExternalId',
      target: { typeField: 'holderType', targets: { officer: 'officers', assistant: 'assistants' } },
      required: true,
      description: 'Holder 领用人: an officer or an assistant, as holderType says',
      lock: 'share',
    },
  ],
  filters: {
    query: {
      equipmentId: z.uuid().optional().describe("Only this item's allocations (its history)"),
      holderId: z.uuid().optional().describe("Only this officer's or assistant's allocations"),
      holderType: HolderType.optional().describe('Only allocations to this kind of holder'),
      open: z
        .enum(['true', 'false'])
        .transform((value) => value === 'true')
        .optional()
        .describe('true: only allocations not yet returned; false: only returned ones'),
    },
    where: (query) => [
      typeof query['equipmentId'] === 'string' ? eq(equipmentAllocations.equipmentId, query['equipmentId']) : undefined,
      typeof query['holderId'] === 'string' ? eq(equipmentAllocations.holderId, query['holderId']) : undefined,
      typeof query['holderType'] === 'string' ? eq(equipmentAllocations.holderType, query['holderType']) : undefined,
      query['open'] === true
        ? isNull(equipmentAllocations.returnedOn)
        : query['open'] === false
          ? isNotNull(equipmentAllocations.returnedOn)
          : undefined,
    ],
  },
  unique: [
    {
      // Backed by the partial unique index equipment_allocations_open_key.
      key: (candidate) => (candidate['returnedOn'] == null ? String(candidate['equipmentId']) : null),
      column: equipmentAllocations.equipmentId,
      constraint: 'equipment_allocations_open_key',
      appliesTo: () => isNull(equipmentAllocations.returnedOn),
      path: '/equipmentId',
      message: (holder) =>
        holder
          ? `The item is already allocated (since ${String(holder['allocatedOn'])}) and not returned; an item has one holder at a time. Record the return (returnedOn) of that allocation first.`
          : 'An earlier record in this batch allocates the same item without a return; an item has one holder at a time.',
    },
  ],
  rules(candidate, ctx) {
    const allocatedOn = String(candidate['allocatedOn']);
    const returnedOn = candidate['returnedOn'];
    if (typeof returnedOn === 'string' && returnedOn < allocatedOn) {
      throw ruleViolation('/returnedOn', `returnedOn ${returnedOn} is before allocatedOn ${allocatedOn}.`);
    }
    if (returnedOn != null) return; // a returned allocation is history: the item and the holder may have changed since
    // Only in-service items go out, to people in service (both rows locked by the references).
    const row = (field: string) => {
      const ref = ctx.refs.get(field);
      return ref && !Array.isArray(ref) ? ref.row : undefined;
    };
    const item = row('equipmentId');
    if (item && item['status'] !== 'in_service') {
      throw ruleViolation(
        '/equipmentId',
        `The item ${String(item['category'])} ${String(item['serialNumber'])} is ${String(item['status'])}; only in_service items can be allocated. Put it back in service first, or record the allocation with its returnedOn.`,
      );
    }
    if (candidate['holderType'] === 'officer') {
      const officer = row('holderId');
      if (officer && officer['employmentStatus'] !== 'active') {
        throw ruleViolation(
          '/holderId',
          `The officer is not active (employmentStatus ${String(officer['employmentStatus'])}); equipment goes to people in service.`,
        );
      }
    } else {
      const assistant = row('holderId');
      if (assistant && !ACTIVE_ASSISTANT_STATUSES.includes(String(assistant['status']) as never)) {
        throw ruleViolation('/holderId', `The assistant is ${String(assistant['status'])}; equipment goes to people in service.`);
      }
    }
  },
});
