import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openTransaction, someoneWaitsOnALock } from '../support/concurrency.js';
import { bearer, isPostgres, useTestApp } from '../support/context.js';
import { anAllocation, anEquipment, anOrgUnit, put, seedAssistant, seedOfficer, type EquipmentBody } from '../support/people-fixtures.js';

const ctx = useTestApp();

async function post(region: string, collection: string, body: object) {
  return ctx.app.inject({ method: 'POST', url: `/v1/${collection}`, headers: await bearer({ region }), payload: { regionCode: region, ...body } });
}

function expectRule(res: { statusCode: number; body: string; json(): unknown }, path: string) {
  expect(res.statusCode, res.body).toBe(422);
  expect(res.json()).toMatchObject({ code: 'rule_violation', errors: [{ path, in: 'body' }] });
}

async function unitIn(region: string) {
  return put(ctx.app, 'org-units', region, 'OU', anOrgUnit());
}

describe('equipment', () => {
  it('creates an item owned by a unit and refuses unknown categories and statuses', async () => {
    const unit = await unitIn('410102');
    const body = anEquipment({ orgUnitExternalId: 'OU', category: 'vehicle', model: '比亚迪 秦', serialNumber: '豫A·F12345' });
    const res = await post('410102', 'equipment', body);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ ...body, orgUnitId: unit.id });
    const drone = await post('410102', 'equipment', anEquipment({ orgUnitId: unit.id, category: 'drone' as EquipmentBody['category'] }));
    expect(drone.statusCode).toBe(400);
    expect(drone.json().errors[0].path).toBe('/category');
    const broken = await post('410102', 'equipment', anEquipment({ orgUnitId: unit.id, status: 'broken' as EquipmentBody['status'] }));
    expect(broken.json().errors[0].path).toBe('/status');
  });

  it('keeps a serial number unique per category among live items, across regions, and frees it on delete', async () => {
    const unit = await unitIn('410103');
    const other = await unitIn('410104');
    const first = await post('410103', 'equipment', anEquipment({ orgUnitId: unit.id, serialNumber: 'SN-DUP-1' }));
    expect(first.statusCode).toBe(201);
    const clash = await post('410104', 'equipment', anEquipment({ orgUnitId: other.id, serialNumber: 'SN-DUP-1' }));
    expectRule(clash, '/serialNumber');
    expect(clash.json().detail).toContain('SN-DUP-1');
    // Another category may use the same serial.
    expect((await post('410104', 'equipment', anEquipment({ orgUnitId: other.id, serialNumber: 'SN-DUP-1', category: 'radio' }))).statusCode).toBe(201);
    const del = await ctx.app.inject({ method: 'DELETE', url: `/v1/equipment/${first.json().id}`, headers: await bearer({ region: '410103' }) });
    expect(del.statusCode).toBe(204);
    expect((await post('410104', 'equipment', anEquipment({ orgUnitId: other.id, serialNumber: 'SN-DUP-1' }))).statusCode).toBe(201);
  });

  it('refuses a duplicate serial inside one batch, and backs the rule with a partial unique index', async () => {
    const region = '410105';
    await unitIn(region);
    const item = (key: string) => ({ op: 'upsert', collection: 'equipment', regionCode: region, externalId: key, data: anEquipment({ orgUnitExternalId: 'OU', serialNumber: 'SN-BATCH' }) });
    const res = await ctx.app.inject({ method: 'POST', url: '/v1/batch', headers: await bearer({ region }), payload: { operations: [item('B1'), item('B2')] } });
    expect(res.json().results.map((r: { status: number }) => r.status)).toEqual([201, 422]);
    const insert = (deleted: boolean) =>
      ctx.database.db.execute(sql`
        insert into equipment (region_code, category, model, serial_number, org_unit_id, status, deleted_at)
        select ${region}, 'body_camera', 'x', 'SN-BATCH', org_unit_id, 'in_service', ${deleted ? sql`now()` : null} from equipment where id = ${res.json().results[0].id}`);
    await expect(insert(false)).rejects.toThrow();
    await expect(insert(true)).resolves.toBeDefined();
  });

  it('refuses to retire an item that is still allocated', async () => {
    const region = '410106';
    const { officer, unit } = await seedOfficer(ctx.app, region, 'RET');
    const item = await put(ctx.app, 'equipment', region, 'RET-EQ', anEquipment({ orgUnitId: unit.id }));
    const allocation = await put(ctx.app, 'equipment-allocations', region, 'RET-AL', anAllocation({ equipmentId: item.id, holderId: officer.id }));
    const headers = await bearer({ region });
    const retire = await ctx.app.inject({ method: 'PATCH', url: `/v1/equipment/${item.id}`, headers, payload: { status: 'retired' } });
    expectRule(retire, '/status');
    const returned = await ctx.app.inject({ method: 'PATCH', url: `/v1/equipment-allocations/${allocation.id}`, headers, payload: { returnedOn: allocation['allocatedOn'] } });
    expect(returned.statusCode).toBe(200);
    expect((await ctx.app.inject({ method: 'PATCH', url: `/v1/equipment/${item.id}`, headers, payload: { status: 'retired' } })).statusCode).toBe(200);
  });

  it('hides items of other regions and refuses writes into them', async () => {
    const unit = await unitIn('410107');
    const item = await put(ctx.app, 'equipment', '410107', 'ISO-EQ', anEquipment({ orgUnitId: unit.id }));
    const other = await bearer({ region: '410200' });
    expect((await ctx.app.inject({ method: 'GET', url: `/v1/equipment/${item.id}`, headers: other })).statusCode).toBe(404);
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/equipment?regionCode=410107', headers: other })).json().items).toEqual([]);
    const write = await ctx.app.inject({ method: 'PUT', url: '/v1/equipment/external/410107/ISO-EQ', headers: other, payload: anEquipment({ orgUnitId: unit.id }) });
    expect(write.statusCode).toBe(403);
  });
});

describe('equipment allocations: rules', () => {
  it('allocates an in-service item to an officer or an assistant, by key or by id', async () => {
    const region = '410108';
    const { officer, unit, assistant } = await seedAssistant(ctx.app, region, 'A1');
    await put(ctx.app, 'equipment', region, 'A1-EQ1', anEquipment({ orgUnitId: unit.id }));
    const radio = await put(ctx.app, 'equipment', region, 'A1-EQ2', anEquipment({ orgUnitId: unit.id, category: 'radio' }));
    const toOfficer = await post(region, 'equipment-allocations', anAllocation({ equipmentExternalId: 'A1-EQ1', holderExternalId: 'A1-SUP' }));
    expect(toOfficer.statusCode, toOfficer.body).toBe(201);
    expect(toOfficer.json()).toMatchObject({ holderType: 'officer', holderId: officer.id, holderExternalId: 'A1-SUP', returnedOn: null });
    const toAssistant = await post(region, 'equipment-allocations', anAllocation({ equipmentId: radio.id, holderType: 'assistant', holderId: assistant.id }));
    expect(toAssistant.statusCode, toAssistant.body).toBe(201);
    expect(toAssistant.json()).toMatchObject({ holderType: 'assistant', holderExternalId: 'A1' });
    // holderType names the collection the holder is looked up in.
    const wrongType = await post(region, 'equipment-allocations', anAllocation({ equipmentId: radio.id, holderType: 'officer', holderId: assistant.id, returnedOn: '2030-01-01' }));
    expect(wrongType.statusCode).toBe(422);
    expect(wrongType.json()).toMatchObject({ code: 'reference_not_found', errors: [{ path: '/holderId' }] });
  });

  it('refuses returnedOn before allocatedOn', async () => {
    const region = '410109';
    const { officer, unit } = await seedOfficer(ctx.app, region, 'A2');
    const item = await put(ctx.app, 'equipment', region, 'A2-EQ', anEquipment({ orgUnitId: unit.id }));
    expectRule(await post(region, 'equipment-allocations', anAllocation({ equipmentId: item.id, holderId: officer.id, allocatedOn: '2025-05-02', returnedOn: '2025-05-01' })), '/returnedOn');
    expect((await post(region, 'equipment-allocations', anAllocation({ equipmentId: item.id, holderId: officer.id, allocatedOn: '2025-05-02', returnedOn: '2025-05-02' }))).statusCode).toBe(201);
  });

  it('allows one open allocation per item: a second is refused until the first is returned', async () => {
    const region = '410110';
    const { officer, unit, assistant } = await seedAssistant(ctx.app, region, 'A3');
    const item = await put(ctx.app, 'equipment', region, 'A3-EQ', anEquipment({ orgUnitId: unit.id }));
    const first = await put(ctx.app, 'equipment-allocations', region, 'A3-1', anAllocation({ equipmentId: item.id, holderId: officer.id }));
    const second = await post(region, 'equipment-allocations', anAllocation({ equipmentId: item.id, holderType: 'assistant', holderId: assistant.id }));
    expectRule(second, '/equipmentId');
    // History may be recorded beside the open one.
    expect((await post(region, 'equipment-allocations', anAllocation({ equipmentId: item.id, holderId: officer.id, allocatedOn: '2020-01-01', returnedOn: '2020-06-30' }))).statusCode).toBe(201);
    // Returning and allocating again in one atomic batch: the return comes first, so the new one is the only open one.
    const headers = await bearer({ region });
    const batch = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers,
      payload: {
        atomic: true,
        operations: [
          { op: 'upsert', collection: 'equipment-allocations', regionCode: region, externalId: 'A3-1', data: { ...anAllocation({ equipmentId: item.id, holderId: officer.id, allocatedOn: String(first['allocatedOn']) }), returnedOn: String(first['allocatedOn']) } },
          { op: 'upsert', collection: 'equipment-allocations', regionCode: region, externalId: 'A3-2', data: anAllocation({ equipmentId: item.id, holderType: 'assistant', holderId: assistant.id }) },
        ],
      },
    });
    expect(batch.statusCode, batch.body).toBe(200);
    expect(batch.json().results.map((r: { status: number }) => r.status)).toEqual([200, 201]);
    // Two open ones in one batch: the second is refused in its place.
    const other = await put(ctx.app, 'equipment', region, 'A3-EQ2', anEquipment({ orgUnitId: unit.id }));
    const twice = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers,
      payload: {
        operations: ['A3-3', 'A3-4'].map((key) => ({ op: 'upsert', collection: 'equipment-allocations', regionCode: region, externalId: key, data: anAllocation({ equipmentId: other.id, holderId: officer.id }) })),
      },
    });
    expect(twice.json().results.map((r: { status: number }) => r.status)).toEqual([201, 422]);
    expect(twice.json().results[1].error).toMatchObject({ code: 'rule_violation', errors: [{ path: '/operations/1/data/equipmentId' }] });
  });

  it('allocates only in-service items, and only to people in service; returned allocations are history', async () => {
    const region = '410111';
    const { officer, unit } = await seedOfficer(ctx.app, region, 'A4');
    const left = await seedOfficer(ctx.app, region, 'A4-LEFT', { officer: { employmentStatus: 'retired' }, credential: false });
    for (const status of ['maintenance', 'retired', 'lost'] as const) {
      const item = await put(ctx.app, 'equipment', region, `A4-${status}`, anEquipment({ orgUnitId: unit.id, status }));
      const res = await post(region, 'equipment-allocations', anAllocation({ equipmentId: item.id, holderId: officer.id }));
      expectRule(res, '/equipmentId');
      expect(res.json().detail).toContain(status);
      const history = await post(region, 'equipment-allocations', anAllocation({ equipmentId: item.id, holderId: officer.id, allocatedOn: '2021-01-01', returnedOn: '2021-12-31' }));
      expect(history.statusCode).toBe(201);
    }
    const item = await put(ctx.app, 'equipment', region, 'A4-OK', anEquipment({ orgUnitId: unit.id }));
    expectRule(await post(region, 'equipment-allocations', anAllocation({ equipmentId: item.id, holderId: left.officer.id })), '/holderId');
    const upsert = await ctx.app.inject({
      method: 'PUT',
      url: `/v1/equipment-allocations/external/${region}/A4-AL`,
      headers: await bearer({ region }),
      payload: anAllocation({ equipmentExternalId: 'A4-maintenance', holderExternalId: 'A4' }),
    });
    expectRule(upsert, '/equipmentId');
  });

  it('keeps an item with allocations, and a holder with allocations, from being deleted', async () => {
    const region = '410112';
    const { officer, unit } = await seedOfficer(ctx.app, region, 'A5');
    const item = await put(ctx.app, 'equipment', region, 'A5-EQ', anEquipment({ orgUnitId: unit.id }));
    await put(ctx.app, 'equipment-allocations', region, 'A5-AL', anAllocation({ equipmentId: item.id, holderId: officer.id }));
    const headers = await bearer({ region });
    for (const url of [`/v1/equipment/${item.id}`, `/v1/officers/${officer.id}`]) {
      const res = await ctx.app.inject({ method: 'DELETE', url, headers });
      expect(res.statusCode, url).toBe(409);
      expect(res.json().code).toBe('still_referenced');
    }
  });
});

describe('equipment allocations: history and what people hold', () => {
  it('lists an item’s history and a holder’s allocations; officer and assistant reads embed what they hold now', async () => {
    const region = '410113';
    const headers = await bearer({ region });
    const { officer, unit, assistant } = await seedAssistant(ctx.app, region, 'H1');
    const camera = await put(ctx.app, 'equipment', region, 'H1-CAM', anEquipment({ orgUnitId: unit.id, model: 'DSJ-V9' }));
    const radio = await put(ctx.app, 'equipment', region, 'H1-RAD', anEquipment({ orgUnitId: unit.id, category: 'radio', model: 'PD-680' }));
    const old = await put(ctx.app, 'equipment-allocations', region, 'H1-1', anAllocation({ equipmentId: camera.id, holderType: 'assistant', holderId: assistant.id, allocatedOn: '2024-01-01', returnedOn: '2024-06-30' }));
    const now = await put(ctx.app, 'equipment-allocations', region, 'H1-2', anAllocation({ equipmentId: camera.id, holderId: officer.id, allocatedOn: '2024-07-01' }));
    const radioNow = await put(ctx.app, 'equipment-allocations', region, 'H1-3', anAllocation({ equipmentId: radio.id, holderType: 'assistant', holderId: assistant.id, allocatedOn: '2024-07-02' }));

    const keys = async (query: string) => {
      const res = await ctx.app.inject({ method: 'GET', url: `/v1/equipment-allocations?${query}`, headers });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().items.map((a: { externalId: string }) => a.externalId).sort();
    };
    expect(await keys(`equipmentId=${camera.id}`)).toEqual(['H1-1', 'H1-2']);
    expect(await keys(`holderId=${assistant.id}`)).toEqual(['H1-1', 'H1-3']);
    expect(await keys(`holderId=${assistant.id}&open=true`)).toEqual(['H1-3']);
    expect(await keys(`equipmentId=${camera.id}&open=false`)).toEqual(['H1-1']);
    expect(await keys(`regionCode=${region}&holderType=officer`)).toEqual(['H1-2']);

    const officerRead = await ctx.app.inject({ method: 'GET', url: `/v1/officers/${officer.id}`, headers });
    expect(officerRead.json().summary.equipment).toEqual([
      { allocationId: now.id, equipmentId: camera.id, category: 'body_camera', model: 'DSJ-V9', serialNumber: camera['serialNumber'], allocatedOn: '2024-07-01' },
    ]);
    const assistantRead = await ctx.app.inject({ method: 'GET', url: `/v1/assistants/${assistant.id}`, headers });
    expect(assistantRead.json().summary).toEqual({
      equipment: [{ allocationId: radioNow.id, equipmentId: radio.id, category: 'radio', model: 'PD-680', serialNumber: radio['serialNumber'], allocatedOn: '2024-07-02' }],
    });
    expect(old['returnedOn']).toBe('2024-06-30');

    // A return takes the item out of the summary, in lists too.
    await ctx.app.inject({ method: 'PATCH', url: `/v1/equipment-allocations/${now.id}`, headers, payload: { returnedOn: '2024-08-01' } });
    const list = await ctx.app.inject({ method: 'GET', url: `/v1/officers?regionCode=${region}`, headers });
    expect(list.json().items.find((o: { id: string }) => o.id === officer.id).summary.equipment).toEqual([]);
  });

  it('leaves out of a summary the items and allocations of regions the reader does not cover', async () => {
    const { officer } = await seedOfficer(ctx.app, '410114', 'H2');
    const cityUnit = await put(ctx.app, 'org-units', '410100', 'H2-CITY', anOrgUnit({ level: 'city' }));
    // A city item allocated (by a city token) to a district officer.
    const item = await put(ctx.app, 'equipment', '410100', 'H2-EQ', anEquipment({ orgUnitId: cityUnit.id, category: 'vehicle' }));
    const city = await bearer({ region: '410100' });
    const res = await ctx.app.inject({ method: 'POST', url: '/v1/equipment-allocations', headers: city, payload: { regionCode: '410100', ...anAllocation({ equipmentId: item.id, holderId: officer.id }) } });
    expect(res.statusCode, res.body).toBe(201);
    const read = async (region: string) =>
      (await ctx.app.inject({ method: 'GET', url: `/v1/officers/${officer.id}`, headers: await bearer({ region }) })).json().summary.equipment;
    expect(await read('410100')).toHaveLength(1);
    expect(await read('410114')).toEqual([]);
  });
});

describe.skipIf(!isPostgres())('equipment allocations under concurrency (PostgreSQL)', () => {
  it('two clients allocating one item at the same moment: exactly one open allocation, every trial', async () => {
    const region = '410115';
    const { officer, unit, assistant } = await seedAssistant(ctx.app, region, 'C1');
    const headers = await bearer({ region });
    const outcomes: number[][] = [];
    for (let trial = 0; trial < 15; trial++) {
      const item = await put(ctx.app, 'equipment', region, `C1-EQ-${trial}`, anEquipment({ orgUnitId: unit.id }));
      const results = await Promise.all([
        ctx.app.inject({ method: 'PUT', url: `/v1/equipment-allocations/external/${region}/C1-${trial}-a`, headers, payload: anAllocation({ equipmentId: item.id, holderId: officer.id }) }),
        ctx.app.inject({ method: 'PUT', url: `/v1/equipment-allocations/external/${region}/C1-${trial}-b`, headers, payload: anAllocation({ equipmentId: item.id, holderType: 'assistant', holderId: assistant.id }) }),
      ]);
      outcomes.push(results.map((r) => r.statusCode).sort());
      const open = await ctx.app.inject({ method: 'GET', url: `/v1/equipment-allocations?equipmentId=${item.id}&open=true`, headers });
      expect(open.json().items, `trial ${trial}`).toHaveLength(1);
    }
    for (const statuses of outcomes) {
      expect(statuses[0]).toBe(201);
      expect([409, 422]).toContain(statuses[1]);
    }
  });

  it('two clients registering one serial number at the same moment: exactly one live item, every trial', async () => {
    const region = '410116';
    const unit = await unitIn(region);
    const headers = await bearer({ region });
    for (let trial = 0; trial < 15; trial++) {
      const body = anEquipment({ orgUnitId: unit.id, serialNumber: `SN-RACE-${trial}` });
      const results = await Promise.all(
        ['a', 'b'].map((k) => ctx.app.inject({ method: 'PUT', url: `/v1/equipment/external/${region}/R-${trial}-${k}`, headers, payload: body })),
      );
      expect(results.filter((r) => r.statusCode === 201), `trial ${trial}`).toHaveLength(1);
      const live = await ctx.app.inject({ method: 'GET', url: `/v1/equipment?serialNumber=SN-RACE-${trial}`, headers });
      expect(live.json().items, `trial ${trial}`).toHaveLength(1);
    }
  });

  it('an allocation that meets an uncommitted change of the item to maintenance waits for it and is refused', async () => {
    const region = '410117';
    const { officer, unit } = await seedOfficer(ctx.app, region, 'C3');
    const item = await put(ctx.app, 'equipment', region, 'C3-EQ', anEquipment({ orgUnitId: unit.id }));
    const change = await openTransaction(ctx.url!, [{ text: `update equipment set status = 'maintenance', version = version + 1 where id = $1`, values: [item.id] }]);
    const pending = post(region, 'equipment-allocations', anAllocation({ equipmentId: item.id, holderId: officer.id }));
    await someoneWaitsOnALock(ctx.url!);
    await change.commit();
    expectRule(await pending, '/equipmentId');
  });
});
