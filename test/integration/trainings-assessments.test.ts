import { describe, expect, it } from 'vitest';
import { bearer, useTestApp } from '../support/context.js';
import { drainFeed, feedHead } from '../support/fixtures.js';
import { anAllocation, anEquipment, put, seedAssistant, today } from '../support/people-fixtures.js';

const ctx = useTestApp();

async function post(region: string, collection: string, body: object) {
  return ctx.app.inject({ method: 'POST', url: `/v1/${collection}`, headers: await bearer({ region }), payload: { regionCode: region, ...body } });
}

function expectRule(res: { statusCode: number; body: string; json(): unknown }, path: string) {
  expect(res.statusCode, res.body).toBe(422);
  expect(res.json()).toMatchObject({ code: 'rule_violation', errors: [{ path, in: 'body' }] });
}

const aTraining = (overrides: Record<string, unknown> = {}) => ({
  personType: 'officer',
  kind: 'provincial',
  title: '全省城市管理执法队伍处级干部轮训班',
  organizer: '河南省住房和城乡建设厅',
  startedOn: '2025-04-07',
  endedOn: '2025-04-11',
  hours: 40,
  passed: true,
  ...overrides,
});

describe('trainings', () => {
  it('records trainings of officers and of assistants, and lists a person’s history', async () => {
    const region = '410102';
    const { officer, assistant } = await seedAssistant(ctx.app, region, 'T1');
    const ofOfficer = await post(region, 'trainings', aTraining({ personExternalId: 'T1-SUP' }));
    expect(ofOfficer.statusCode, ofOfficer.body).toBe(201);
    expect(ofOfficer.json()).toMatchObject({ personType: 'officer', personId: officer.id, personExternalId: 'T1-SUP', hours: 40, passed: true });
    const ofAssistant = await post(region, 'trainings', aTraining({ personType: 'assistant', personId: assistant.id, kind: 'initial', hours: 16.5, passed: null }));
    expect(ofAssistant.statusCode, ofAssistant.body).toBe(201);
    expect(ofAssistant.json()).toMatchObject({ personType: 'assistant', personExternalId: 'T1', hours: 16.5, passed: null });
    const list = async (query: string) =>
      (await ctx.app.inject({ method: 'GET', url: `/v1/trainings?${query}`, headers: await bearer({ region }) })).json().items.map((t: { id: string }) => t.id);
    expect(await list(`personId=${assistant.id}`)).toEqual([ofAssistant.json().id]);
    expect(await list(`regionCode=${region}&kind=provincial`)).toEqual([ofOfficer.json().id]);
    expect(await list(`regionCode=${region}&personType=assistant`)).toEqual([ofAssistant.json().id]);
  });

  it('refuses endedOn before startedOn, hours of 0 or less, unknown kinds, and a person of the wrong type', async () => {
    const region = '410103';
    const { officer } = await seedAssistant(ctx.app, region, 'T2');
    expectRule(await post(region, 'trainings', aTraining({ personId: officer.id, startedOn: '2025-04-07', endedOn: '2025-04-06' })), '/endedOn');
    expect((await post(region, 'trainings', aTraining({ personId: officer.id, startedOn: '2025-04-07', endedOn: '2025-04-07', hours: 4 }))).statusCode).toBe(201);
    for (const hours of [0, -2, 0.3]) {
      const res = await post(region, 'trainings', aTraining({ personId: officer.id, hours }));
      expect(res.statusCode, String(hours)).toBe(400);
      expect(res.json().errors[0].path).toBe('/hours');
    }
    const kind = await post(region, 'trainings', aTraining({ personId: officer.id, kind: 'party_school' }));
    expect(kind.json().errors[0].path).toBe('/kind');
    const wrongType = await post(region, 'trainings', aTraining({ personType: 'assistant', personId: officer.id }));
    expect(wrongType.statusCode).toBe(422);
    expect(wrongType.json()).toMatchObject({ code: 'reference_not_found', errors: [{ path: '/personId' }] });
  });

  it('checks the date rule in a batch, in place', async () => {
    const region = '410104';
    await seedAssistant(ctx.app, region, 'T3');
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: await bearer({ region }),
      payload: {
        operations: [
          { op: 'upsert', collection: 'trainings', regionCode: region, externalId: 'T3-1', data: aTraining({ personExternalId: 'T3-SUP' }) },
          { op: 'upsert', collection: 'trainings', regionCode: region, externalId: 'T3-2', data: aTraining({ personExternalId: 'T3-SUP', endedOn: '2025-01-01' }) },
        ],
      },
    });
    expect(res.json().results.map((r: { status: number }) => r.status)).toEqual([201, 422]);
    expect(res.json().results[1].error).toMatchObject({ errors: [{ path: '/operations/1/data/endedOn' }] });
  });
});

describe('assessments (考核奖惩)', () => {
  it('takes a year, a half year or a quarter as the period, and refuses anything else', async () => {
    const region = '410105';
    const { assistant } = await seedAssistant(ctx.app, region, 'S1');
    for (const period of ['2025', '2026-H1', '2026-Q3']) {
      const res = await post(region, 'assessments', { assistantId: assistant.id, period, result: 'competent', rewards: '通报表扬' });
      expect(res.statusCode, `${period}: ${res.body}`).toBe(201);
    }
    for (const period of ['26', '2026-Q5', '2026-H3', '2026Q1', '2026-M01', '2026-q1']) {
      const res = await post(region, 'assessments', { assistantId: assistant.id, period, result: 'competent' });
      expect(res.statusCode, period).toBe(400);
      expect(res.json().errors[0].path).toBe('/period');
    }
    const result = await post(region, 'assessments', { assistantId: assistant.id, period: '2024', result: 'good' });
    expect(result.json().errors[0].path).toBe('/result');
  });

  it('keeps one assessment per assistant and period, also inside a batch', async () => {
    const region = '410106';
    const { assistant } = await seedAssistant(ctx.app, region, 'S2');
    expect((await post(region, 'assessments', { assistantId: assistant.id, period: '2025-Q4', result: 'excellent' })).statusCode).toBe(201);
    expectRule(await post(region, 'assessments', { assistantId: assistant.id, period: '2025-Q4', result: 'incompetent', penalties: '警告' }), '/period');
    const batch = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: await bearer({ region }),
      payload: {
        operations: ['S2-a', 'S2-b'].map((key) => ({ op: 'upsert', collection: 'assessments', regionCode: region, externalId: key, data: { assistantExternalId: 'S2', period: '2025', result: 'competent' } })),
      },
    });
    expect(batch.json().results.map((r: { status: number }) => r.status)).toEqual([201, 422]);
  });

  it('needs an assistant: an officer is not assessed here', async () => {
    const region = '410107';
    const { officer } = await seedAssistant(ctx.app, region, 'S3');
    const res = await post(region, 'assessments', { assistantId: officer.id, period: '2025', result: 'competent' });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'reference_not_found', errors: [{ path: '/assistantId' }] });
  });
});

describe('the change feed carries every new collection', () => {
  it('has an entry for each write of post statuses, equipment, allocations, assistants, trainings and assessments', async () => {
    const region = '410108';
    const headers = await bearer({ region });
    const start = await feedHead(ctx.app, headers);
    const { officer, unit, assistant } = await seedAssistant(ctx.app, region, 'FEED');
    const status = await put(ctx.app, 'post-statuses', region, 'FEED-PS', { officerId: officer.id, status: 'on_duty', effectiveFrom: today() });
    const item = await put(ctx.app, 'equipment', region, 'FEED-EQ', anEquipment({ orgUnitId: unit.id }));
    const allocation = await put(ctx.app, 'equipment-allocations', region, 'FEED-AL', anAllocation({ equipmentId: item.id, holderId: officer.id }));
    const training = await put(ctx.app, 'trainings', region, 'FEED-TR', aTraining({ personId: officer.id }));
    const assessment = await put(ctx.app, 'assessments', region, 'FEED-AM', { assistantId: assistant.id, period: '2025', result: 'competent' });
    const del = await ctx.app.inject({ method: 'DELETE', url: `/v1/assessments/${assessment.id}`, headers });
    expect(del.statusCode).toBe(204);

    const { items } = await drainFeed(ctx.app, headers, { after: start });
    const seen = (collection: string, id: string) => items.filter((c) => c.collection === collection && c.id === id).map((c) => [c.op, c.version]);
    expect(seen('post-statuses', status.id)).toEqual([['upsert', 1]]);
    expect(seen('equipment', item.id)).toEqual([['upsert', 1]]);
    expect(seen('equipment-allocations', allocation.id)).toEqual([['upsert', 1]]);
    expect(seen('assistants', assistant.id)).toEqual([['upsert', 1]]);
    expect(seen('trainings', training.id)).toEqual([['upsert', 1]]);
    expect(seen('assessments', assessment.id)).toEqual([
      ['upsert', 1],
      ['delete', 2],
    ]);
    // The feed's record is the record as written (without the read-time summary), and the filter works per collection.
    const allocations = await drainFeed(ctx.app, headers, { after: start, collections: 'equipment-allocations,trainings' });
    expect(new Set(allocations.items.map((c) => c.collection))).toEqual(new Set(['equipment-allocations', 'trainings']));
    expect(allocations.items.find((c) => c.id === allocation.id)?.record).toMatchObject({ equipmentId: item.id, holderType: 'officer', holderId: officer.id });
  });
});
