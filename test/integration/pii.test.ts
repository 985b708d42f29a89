import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { bearer, useTestApp } from '../support/context.js';
import { anIdentityEndingInX, anOfficer, anOrgUnit, put, type OfficerBody } from '../support/people-fixtures.js';

const ctx = useTestApp();

// Personal information (DESIGN §5): ID numbers and phones are masked without pii:read, shown with it,
// every unmasked read is audited, and the database holds neither in plain text.

const MASKED_ONLY = 'records:read records:write';
const WITH_PII = 'records:read records:write pii:read';

type Json = Record<string, unknown>;

function masked(body: OfficerBody) {
  const id = body.idCardNumber;
  const phone = String(body.phone);
  return { idCardNumber: `${id.slice(0, 3)}***********${id.slice(-4)}`, phone: `${phone.slice(0, 3)}****${phone.slice(-4)}` };
}

function plain(body: OfficerBody) {
  return { idCardNumber: body.idCardNumber, phone: body.phone };
}

async function auditedReads(region: string, recordId: string): Promise<Json[]> {
  const res = await ctx.app.inject({
    method: 'GET',
    url: `/v1/audit?op=read_pii&recordId=${recordId}`,
    headers: await bearer({ region, scope: 'audit:read' }),
  });
  expect(res.statusCode).toBe(200);
  return res.json().items;
}

/** Every path that answers an officer record, with a token of the given scope; returns the records it answered. */
async function everyOutput(region: string, scope: string, body: OfficerBody, key: string): Promise<{ path: string; record: Json }[]> {
  const headers = await bearer({ region, scope, sub: `reader-${scope.includes('pii') ? 'pii' : 'masked'}` });
  const out: { path: string; record: Json }[] = [];
  const call = async (path: string, method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: object) => {
    const res = await ctx.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
    expect(res.statusCode, `${path}: ${res.body}`).toBeLessThan(300);
    return res.json();
  };
  const created: Json = await call('POST', 'POST', '/v1/officers', { regionCode: region, externalId: key, ...body });
  out.push({ path: 'POST', record: created });
  const id = String(created['id']);
  out.push({ path: 'GET by id', record: await call('GET by id', 'GET', `/v1/officers/${id}`) });
  out.push({ path: 'GET by key', record: await call('GET by key', 'GET', `/v1/officers/external/${region}/${key}`) });
  const list = await call('list', 'GET', `/v1/officers?regionCode=${region}&externalId=${key}`);
  out.push({ path: 'list', record: list.items[0] });
  out.push({ path: 'PUT', record: await call('PUT', 'PUT', `/v1/officers/${id}`, { regionCode: region, externalId: key, ...body, rank: '二级' }) });
  out.push({ path: 'PATCH', record: await call('PATCH', 'PATCH', `/v1/officers/${id}`, { rank: '三级' }) });
  out.push({ path: 'upsert (changed)', record: await call('upsert', 'PUT', `/v1/officers/external/${region}/${key}`, { ...body, rank: '四级' }) });
  out.push({ path: 'upsert (unchanged)', record: await call('upsert', 'PUT', `/v1/officers/external/${region}/${key}`, { ...body, rank: '四级' }) });
  const feed = await call('feed', 'GET', '/v1/changes?collections=officers');
  const snapshots = feed.items.filter((c: Json) => c['id'] === id);
  expect(snapshots).toHaveLength(4); // create, replace, patch, upsert — the unchanged upsert wrote nothing
  for (const change of snapshots) out.push({ path: `feed v${change.version}`, record: change.record });
  return out;
}

describe('personal information', () => {
  it('is masked on every output path without pii:read, and no unmasked read is audited', async () => {
    const region = '410102';
    const unit = await put(ctx.app, 'org-units', region, 'OU', anOrgUnit());
    const body = anOfficer({ orgUnitId: unit.id, phone: '13812345678' });
    const outputs = await everyOutput(region, MASKED_ONLY, body, 'M-1');
    expect(outputs).toHaveLength(12);
    for (const { path, record } of outputs) {
      expect({ path, ...pick(record) }).toEqual({ path, ...masked(body) });
      expect(JSON.stringify(record), path).not.toContain(body.idCardNumber);
    }
    expect(masked(body).phone).toBe('138****5678');
    expect(await auditedReads(region, String(outputs[0]?.record['id']))).toEqual([]);
  });

  it('is shown on every output path with pii:read, and each such answer is audited as read_pii', async () => {
    const region = '410103';
    const unit = await put(ctx.app, 'org-units', region, 'OU', anOrgUnit());
    const body = anOfficer({ orgUnitId: unit.id, phone: '0371-12345678' });
    const outputs = await everyOutput(region, WITH_PII, body, 'P-1');
    for (const { path, record } of outputs) expect({ path, ...pick(record) }).toEqual({ path, ...plain(body) });
    const id = String(outputs[0]?.record['id']);
    const reads = await auditedReads(region, id);
    // One per answer: POST, GET ×2, list, PUT, PATCH, upsert ×2, and the feed page (four snapshots).
    expect(reads).toHaveLength(8 + 4);
    expect(reads[0]).toMatchObject({ sub: 'reader-pii', collection: 'officers', recordId: id, regionCode: region, op: 'read_pii' });
    expect(reads.every((r) => typeof r['requestId'] === 'string')).toBe(true);
  });

  it('finds an officer by ID number only with pii:read, and audits the look-up', async () => {
    const region = '410104';
    const unit = await put(ctx.app, 'org-units', region, 'OU', anOrgUnit());
    const identity = anIdentityEndingInX();
    const officer = await put(ctx.app, 'officers', region, 'L-1', anOfficer({ orgUnitId: unit.id, ...identity }));
    await put(ctx.app, 'officers', region, 'L-2', anOfficer({ orgUnitId: unit.id }));

    const auditedBefore = (await auditedReads(region, officer.id)).length; // the seeding PUT answered in full
    const lowercase = identity.idCardNumber.toLowerCase();
    const without = await ctx.app.inject({
      method: 'GET',
      url: `/v1/officers?idCardNumber=${lowercase}`,
      headers: await bearer({ region, scope: MASKED_ONLY }),
    });
    expect(without.statusCode).toBe(403);
    expect(without.json()).toMatchObject({ code: 'insufficient_scope' });
    expect(without.json().detail).toContain('pii:read');

    const withScope = await ctx.app.inject({
      method: 'GET',
      url: `/v1/officers?idCardNumber=${lowercase}`,
      headers: await bearer({ region, scope: WITH_PII }),
    });
    expect(withScope.statusCode).toBe(200);
    expect(withScope.json().items).toHaveLength(1);
    expect(withScope.json().items[0]).toMatchObject({ id: officer.id, idCardNumber: identity.idCardNumber });
    expect(await auditedReads(region, officer.id)).toHaveLength(auditedBefore + 1);

    const none = await ctx.app.inject({
      method: 'GET',
      url: `/v1/officers?idCardNumber=110105194912310021`,
      headers: await bearer({ region, scope: WITH_PII }),
    });
    expect(none.json().items).toEqual([]);

    // The look-up stays within the caller's regions.
    const elsewhere = await ctx.app.inject({
      method: 'GET',
      url: `/v1/officers?idCardNumber=${identity.idCardNumber}`,
      headers: await bearer({ region: '410200', scope: WITH_PII }),
    });
    expect(elsewhere.json().items).toEqual([]);
  });

  it('is stored neither in plain text nor masked in any column of officers or the change feed', async () => {
    const region = '410105';
    const unit = await put(ctx.app, 'org-units', region, 'OU', anOrgUnit());
    const body = anOfficer({ orgUnitId: unit.id, phone: '13987654321' });
    const officer = await put(ctx.app, 'officers', region, 'RAW-1', body);
    // queryRows is db.execute(sql`…`) giving back the rows.
    const officerRows = await queryRows(ctx.database.db, sql`select * from officers where id = ${officer.id}`);
    const feedRows = await queryRows(ctx.database.db, sql`select * from changes where record_id = ${officer.id}`);
    expect(officerRows).toHaveLength(1);
    expect(feedRows.length).toBeGreaterThan(0);
    for (const row of [...officerRows, ...feedRows]) {
      const everything = JSON.stringify(row);
      for (const secret of [body.idCardNumber, body.idCardNumber.slice(6, 14) + body.idCardNumber.slice(14), '13987654321', '87654321']) {
        expect(everything).not.toContain(secret);
      }
    }
    const [stored] = officerRows;
    expect(stored?.['id_card_number_cipher']).toMatch(/^v1\./);
    expect(stored?.['phone_cipher']).toMatch(/^v1\./);
    expect(stored?.['id_card_number_hash']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Object.keys(stored ?? {})).not.toContain('id_card_number');
    expect(Object.keys(stored ?? {})).not.toContain('phone');
  });
});

function pick(record: Json | undefined) {
  return { idCardNumber: record?.['idCardNumber'], phone: record?.['phone'] };
}
