import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { bearer, useTestApp } from '../support/context.js';
import { anAssistant, anIdentity, anOfficer, put, seedAssistant, seedOfficer, type AssistantBody } from '../support/people-fixtures.js';

const ctx = useTestApp();

// Each test works in its own region code.

async function post(region: string, collection: string, body: object, scope?: string) {
  return ctx.app.inject({
    method: 'POST',
    url: `/v1/${collection}`,
    headers: await bearer({ region, ...(scope ? { scope } : {}) }),
    payload: { regionCode: region, ...body },
  });
}

function expectRule(res: { statusCode: number; body: string; json(): unknown }, path: string) {
  expect(res.statusCode, res.body).toBe(422);
  expect(res.json()).toMatchObject({ code: 'rule_violation', errors: [{ path, in: 'body' }] });
}

/** An org unit and an active supervising officer `${key}-SUP` in `region`; returns a body maker for assistants there. */
async function employer(region: string, key: string) {
  const seeded = await seedOfficer(ctx.app, region, `${key}-SUP`);
  return {
    ...seeded,
    body: (overrides: Partial<AssistantBody> = {}) =>
      anAssistant({ orgUnitId: seeded.unit.id, supervisingOfficerId: seeded.officer.id, ...overrides }),
  };
}

describe('assistants: create and duties (中发〔2015〕37号)', () => {
  it('creates an assistant with its unit, supervisor and duties, and an empty equipment summary', async () => {
    const { unit, officer, body } = await employer('410102', 'A1');
    const sent = body({ duties: ['publicity', 'patrol', 'information_collection', 'dissuasion'], status: 'probation' });
    const res = await post('410102', 'assistants', sent);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      name: sent.name,
      gender: sent.gender,
      birthDate: sent.birthDate,
      orgUnitId: unit.id,
      orgUnitExternalId: 'A1-SUP-OU',
      supervisingOfficerId: officer.id,
      supervisingOfficerExternalId: 'A1-SUP',
      admittedOn: '2023-03-01',
      status: 'probation',
      duties: ['publicity', 'patrol', 'information_collection', 'dissuasion'],
      summary: { equipment: [] },
    });
  });

  it('refuses any duty beyond the auxiliary four, citing 中发〔2015〕37号, on every write path', async () => {
    const region = '410103';
    const { body } = await employer(region, 'A2');
    const headers = await bearer({ region });
    for (const duties of [['patrol', 'case_handling'], ['penalty_decision'], ['enforcement']]) {
      const res = await post(region, 'assistants', body({ duties }));
      expect(res.statusCode, res.body).toBe(400);
      const problem = res.json();
      expect(problem.code).toBe('validation_failed');
      const error = problem.errors.find((e: { path: string }) => e.path.startsWith('/duties/'));
      expect(error.message).toContain('中发〔2015〕37号');
      expect(error.message).toContain('no concrete administrative enforcement');
    }
    const empty = await post(region, 'assistants', body({ duties: [] }));
    expect(empty.statusCode).toBe(400);
    expect(empty.json().errors[0].path).toBe('/duties');
    const repeated = await post(region, 'assistants', body({ duties: ['patrol', 'patrol'] }));
    expect(repeated.statusCode).toBe(400);

    const created = await put(ctx.app, 'assistants', region, 'A2-1', body());
    const patch = await ctx.app.inject({ method: 'PATCH', url: `/v1/assistants/${created.id}`, headers, payload: { duties: ['patrol', 'fine_collection'] } });
    expect(patch.statusCode).toBe(400);
    expect(JSON.stringify(patch.json())).toContain('中发〔2015〕37号');
    const batch = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers,
      payload: {
        operations: [
          { op: 'upsert', collection: 'assistants', regionCode: region, externalId: 'A2-2', data: body({ duties: ['case_handling'] }) },
          { op: 'upsert', collection: 'assistants', regionCode: region, externalId: 'A2-3', data: body() },
        ],
      },
    });
    const results = batch.json().results;
    expect(results.map((r: { status: number }) => r.status)).toEqual([400, 201]);
    expect(results[0].error.errors[0].path).toBe('/operations/0/data/duties/0');
  });

  it('checks the ID number, birth date and gender as for officers', async () => {
    const { body } = await employer('410104', 'A3');
    const identity = anIdentity({ gender: '1' });
    expectRule(await post('410104', 'assistants', body({ ...identity, gender: '2' })), '/gender');
    expectRule(await post('410104', 'assistants', body({ ...identity, birthDate: '1990-01-01' })), '/birthDate');
    const bad = await post('410104', 'assistants', body({ idCardNumber: '410105199001011234' }));
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('/idCardNumber');
  });

  it('needs an active supervising officer while in service; a dismissed assistant keeps a former one', async () => {
    const region = '410105';
    const { body } = await employer(region, 'A4');
    const left = await put(ctx.app, 'officers', region, 'A4-LEFT', anOfficer({ orgUnitExternalId: 'A4-SUP-OU', employmentStatus: 'retired' }));
    expectRule(await post(region, 'assistants', body({ supervisingOfficerId: left.id })), '/supervisingOfficerId');
    expect((await post(region, 'assistants', body({ supervisingOfficerId: left.id, status: 'dismissed' }))).statusCode).toBe(201);
    const missing = await post(region, 'assistants', body({ supervisingOfficerId: null }));
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors[0].path).toBe('/supervisingOfficerId');
  });
});

describe('assistants: one ID-number namespace with officers', () => {
  it('refuses a second assistant in service with the same number, without echoing it', async () => {
    const { body } = await employer('410106', 'N1');
    const identity = anIdentity();
    expect((await post('410106', 'assistants', body(identity))).statusCode).toBe(201);
    for (const status of ['active', 'probation'] as const) {
      const res = await post('410106', 'assistants', body({ ...identity, status }));
      expectRule(res, '/idCardNumber');
      expect(res.body).not.toContain(identity.idCardNumber);
    }
    expect((await post('410106', 'assistants', body({ ...identity, status: 'dismissed' }))).statusCode).toBe(201);
  });

  it('refuses an active assistant who is an active officer, and an active officer who is an active assistant', async () => {
    const region = '410107';
    const { body, unit } = await employer(region, 'N2');
    // An active officer's number cannot be taken by an assistant in service, wherever the officer is.
    const officerIdentity = anIdentity();
    await put(ctx.app, 'officers', '410300', 'N2-ELSEWHERE', anOfficer({ ...officerIdentity, orgUnitId: (await put(ctx.app, 'org-units', '410300', 'LY-OU', { name: '洛阳市城市管理局', level: 'city' })).id }));
    const asAssistant = await post(region, 'assistants', body(officerIdentity));
    expectRule(asAssistant, '/idCardNumber');
    expect(asAssistant.json().detail).toContain('active person');
    expect(asAssistant.body).not.toContain('410300');
    expect((await post(region, 'assistants', body({ ...officerIdentity, status: 'dismissed' }))).statusCode).toBe(201);

    // And the other way: an assistant in service blocks an active officer record, not an inactive one.
    const assistantIdentity = anIdentity();
    await put(ctx.app, 'assistants', region, 'N2-AS', body(assistantIdentity));
    const asOfficer = await post(region, 'officers', anOfficer({ ...assistantIdentity, orgUnitId: unit.id }));
    expectRule(asOfficer, '/idCardNumber');
    expect(asOfficer.json().detail).toContain('active person');
    expect((await post(region, 'officers', anOfficer({ ...assistantIdentity, orgUnitId: unit.id, employmentStatus: 'transferred' }))).statusCode).toBe(201);
    // Once the assistant is dismissed, the person may become an active officer (e.g. recruited through the exam).
    const headers = await bearer({ region });
    const dismissed = await ctx.app.inject({ method: 'PUT', url: `/v1/assistants/external/${region}/N2-AS`, headers, payload: body({ ...assistantIdentity, status: 'dismissed' }) });
    expect(dismissed.statusCode).toBe(200);
    expect((await post(region, 'officers', anOfficer({ ...assistantIdentity, orgUnitId: unit.id }))).statusCode).toBe(201);
  });
});

describe('assistants: personal information', () => {
  const MASKED_ONLY = 'records:read records:write';
  const WITH_PII = 'records:read records:write pii:read';

  async function everyOutput(region: string, scope: string, sent: AssistantBody, key: string) {
    const headers = await bearer({ region, scope });
    const out: { path: string; record: Record<string, unknown> }[] = [];
    const call = async (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: object) => {
      const res = await ctx.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
      return res.json();
    };
    const created = await call('POST', '/v1/assistants', { regionCode: region, externalId: key, ...sent });
    out.push({ path: 'POST', record: created });
    out.push({ path: 'GET by id', record: await call('GET', `/v1/assistants/${created.id}`) });
    out.push({ path: 'GET by key', record: await call('GET', `/v1/assistants/external/${region}/${key}`) });
    out.push({ path: 'list', record: (await call('GET', `/v1/assistants?regionCode=${region}&externalId=${key}`)).items[0] });
    out.push({ path: 'PUT', record: await call('PUT', `/v1/assistants/${created.id}`, { regionCode: region, externalId: key, ...sent, name: '王协管' }) });
    out.push({ path: 'PATCH', record: await call('PATCH', `/v1/assistants/${created.id}`, { duties: ['publicity'] }) });
    out.push({ path: 'upsert', record: await call('PUT', `/v1/assistants/external/${region}/${key}`, { ...sent, status: 'probation' }) });
    const feed = await call('GET', '/v1/changes?collections=assistants');
    const snapshots = feed.items.filter((c: { id: string }) => c.id === created.id);
    expect(snapshots).toHaveLength(4);
    for (const change of snapshots) out.push({ path: `feed v${change.version}`, record: change.record });
    return out;
  }

  it('is masked on every output path without pii:read (read, list, write responses, feed)', async () => {
    const region = '410108';
    const { body } = await employer(region, 'P1');
    const sent = body({ phone: '13912345678' });
    const outputs = await everyOutput(region, MASKED_ONLY, sent, 'P1-AS');
    expect(outputs).toHaveLength(11);
    for (const { path, record } of outputs) {
      expect({ path, id: record['idCardNumber'], phone: record['phone'] }).toEqual({
        path,
        id: `${sent.idCardNumber.slice(0, 3)}***********${sent.idCardNumber.slice(-4)}`,
        phone: '139****5678',
      });
      expect(JSON.stringify(record), path).not.toContain(sent.idCardNumber);
    }
  });

  it('is shown with pii:read, each answer audited; and stored only encrypted', async () => {
    const region = '410109';
    const { body } = await employer(region, 'P2');
    const sent = body({ phone: '0371-87654321' });
    const outputs = await everyOutput(region, WITH_PII, sent, 'P2-AS');
    for (const { path, record } of outputs) expect({ path, id: record['idCardNumber'], phone: record['phone'] }).toEqual({ path, id: sent.idCardNumber, phone: sent.phone });
    const id = String(outputs[0]?.record['id']);
    const audit = await ctx.app.inject({ method: 'GET', url: `/v1/audit?op=read_pii&recordId=${id}`, headers: await bearer({ region, scope: 'audit:read' }) });
    expect(audit.json().items).toHaveLength(7 + 4);
    const rows = await queryRows<Record<string, unknown>>(ctx.database.db, sql`select * from assistants where id = ${id}`);
    const feedRows = await queryRows<Record<string, unknown>>(ctx.database.db, sql`select record from changes where record_id = ${id}`);
    for (const stored of [JSON.stringify(rows), JSON.stringify(feedRows)]) {
      expect(stored).not.toContain(sent.idCardNumber);
      expect(stored).not.toContain('87654321');
    }
  });

  it('finds an assistant by ID number only with pii:read', async () => {
    const region = '410110';
    const { body } = await employer(region, 'P3');
    const sent = body();
    await put(ctx.app, 'assistants', region, 'P3-AS', sent);
    const masked = await ctx.app.inject({ method: 'GET', url: `/v1/assistants?idCardNumber=${sent.idCardNumber}`, headers: await bearer({ region, scope: MASKED_ONLY }) });
    expect(masked.statusCode).toBe(403);
    const found = await ctx.app.inject({ method: 'GET', url: `/v1/assistants?idCardNumber=${sent.idCardNumber}`, headers: await bearer({ region, scope: WITH_PII }) });
    expect(found.json().items.map((a: { externalId: string }) => a.externalId)).toEqual(['P3-AS']);
  });
});

describe('assistants: lists and regions', () => {
  it('filters by unit, supervisor, status and duty', async () => {
    const region = '410111';
    const { body, unit, officer } = await employer(region, 'L1');
    await put(ctx.app, 'assistants', region, 'L1-A', body({ duties: ['patrol'] }));
    await put(ctx.app, 'assistants', region, 'L1-B', body({ duties: ['publicity', 'dissuasion'], status: 'probation' }));
    const keys = async (query: string) =>
      (await ctx.app.inject({ method: 'GET', url: `/v1/assistants?${query}`, headers: await bearer({ region }) })).json().items.map((a: { externalId: string }) => a.externalId).sort();
    expect(await keys(`orgUnitId=${unit.id}`)).toEqual(['L1-A', 'L1-B']);
    expect(await keys(`supervisingOfficerId=${officer.id}&status=probation`)).toEqual(['L1-B']);
    expect(await keys(`regionCode=${region}&duty=dissuasion`)).toEqual(['L1-B']);
    const bad = await ctx.app.inject({ method: 'GET', url: '/v1/assistants?duty=case_handling', headers: await bearer({ region }) });
    expect(bad.statusCode).toBe(400);
  });

  it('hides assistants of other regions, refuses writes into them, and cannot refer to their officers', async () => {
    const { assistant, officer } = await seedAssistant(ctx.app, '410112', 'ISO');
    const other = await bearer({ region: '410200' });
    expect((await ctx.app.inject({ method: 'GET', url: `/v1/assistants/${assistant.id}`, headers: other })).statusCode).toBe(404);
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/assistants?regionCode=410112', headers: other })).json().items).toEqual([]);
    const write = await ctx.app.inject({ method: 'PUT', url: '/v1/assistants/external/410112/ISO', headers: other, payload: anAssistant() });
    expect(write.statusCode).toBe(403);
    const unit = await put(ctx.app, 'org-units', '410200', 'KF', { name: '开封市城市管理局', level: 'city' });
    const cross = await post('410200', 'assistants', anAssistant({ orgUnitId: unit.id, supervisingOfficerId: officer.id }));
    expect(cross.statusCode).toBe(422);
    expect(cross.json()).toMatchObject({ code: 'reference_not_found', errors: [{ path: '/supervisingOfficerId' }] });
  });
});
