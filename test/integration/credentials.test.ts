import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { bearer, useTestApp } from '../support/context.js';
import { aCredential, daysFromToday, put, seedOfficer, type CredentialBody } from '../support/people-fixtures.js';

const ctx = useTestApp();

// Each test works in its own region code, so tests never see each other's records.

async function post(region: string, body: Partial<CredentialBody>) {
  return ctx.app.inject({
    method: 'POST',
    url: '/v1/credentials',
    headers: await bearer({ region }),
    payload: { regionCode: region, ...aCredential(body) },
  });
}

function expectRule(res: { statusCode: number; json(): unknown }, path: string) {
  expect(res.statusCode).toBe(422);
  expect(res.json()).toMatchObject({ code: 'rule_violation', errors: [{ path, in: 'body' }] });
}

describe('credentials: create and read', () => {
  it('creates a credential for an officer given by key and answers both reference forms and effectiveStatus', async () => {
    const { officer } = await seedOfficer(ctx.app, '410102', 'C1', { credential: false });
    const body = aCredential({ officerExternalId: 'C1', externalId: 'C1-C' });
    const res = await post('410102', body);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      id: expect.any(String),
      externalId: 'C1-C',
      regionCode: '410102',
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      credentialNumber: body.credentialNumber,
      kind: 'enforcement',
      issuingAuthority: '河南省人民政府',
      issuedOn: body.issuedOn,
      expiresOn: body.expiresOn,
      status: 'valid',
      officerId: officer.id,
      officerExternalId: 'C1',
      effectiveStatus: 'valid',
    });
  });

  it('answers effectiveStatus expired for a valid credential past its expiry date, and the stored status otherwise', async () => {
    const { officer } = await seedOfficer(ctx.app, '410103', 'C2', { credential: false });
    const expired = await post('410103', { officerId: officer.id, issuedOn: daysFromToday(-2000), expiresOn: daysFromToday(-1) });
    expect(expired.statusCode).toBe(201);
    expect(expired.json()).toMatchObject({ status: 'valid', effectiveStatus: 'expired' });
    const lastDay = await post('410103', { officerId: officer.id, kind: 'supervision', issuedOn: daysFromToday(-30), expiresOn: daysFromToday(0) });
    expect(lastDay.json()).toMatchObject({ status: 'valid', effectiveStatus: 'valid' });
    const revoked = await post('410103', { officerId: officer.id, status: 'revoked', expiresOn: daysFromToday(-1), issuedOn: daysFromToday(-90) });
    expect(revoked.json()).toMatchObject({ status: 'revoked', effectiveStatus: 'revoked' });
  });

  it('answers an unchanged upsert with the same version', async () => {
    await seedOfficer(ctx.app, '410106', 'C4', { credential: false });
    const body = aCredential({ officerExternalId: 'C4' });
    const first = await put(ctx.app, 'credentials', '410106', 'C4-C', body);
    const again = await put(ctx.app, 'credentials', '410106', 'C4-C', body);
    expect(again).toEqual(first);
    const changed = await put(ctx.app, 'credentials', '410106', 'C4-C', { ...body, status: 'suspended' });
    expect(changed).toMatchObject({ version: 2, status: 'suspended', effectiveStatus: 'suspended' });
  });

  it('refuses an unknown kind or status, and a missing officer', async () => {
    const { officer } = await seedOfficer(ctx.app, '410104', 'C3', { credential: false });
    const kind = await post('410104', { officerId: officer.id, kind: 'police' as 'enforcement' });
    expect(kind.statusCode).toBe(400);
    expect(kind.json().errors[0].path).toBe('/kind');
    const status = await post('410104', { officerId: officer.id, status: 'expired' as 'valid' });
    expect(status.statusCode).toBe(400);
    expect(status.json().errors[0].path).toBe('/status');
    const noOfficer = await post('410104', {});
    expect(noOfficer.statusCode).toBe(400);
    expect(noOfficer.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: '/officerId' }] });
  });
});

describe('credentials: rules', () => {
  it('refuses expiresOn on or before issuedOn at /expiresOn', async () => {
    const { officer } = await seedOfficer(ctx.app, '410105', 'R1', { credential: false });
    expectRule(await post('410105', { officerId: officer.id, issuedOn: '2024-01-01', expiresOn: '2024-01-01' }), '/expiresOn');
    expectRule(await post('410105', { officerId: officer.id, issuedOn: '2024-01-01', expiresOn: '2023-12-31' }), '/expiresOn');
  });

  it('refuses a credential number already recorded, frees it when that credential is deleted', async () => {
    const { officer, credential } = await seedOfficer(ctx.app, '410106', 'R2', { credential: { status: 'revoked' } });
    const other = await seedOfficer(ctx.app, '410108', 'R2b', { credential: false });
    const number = String(credential?.['credentialNumber']);
    // Also across regions: a credential number is issued once in the province.
    const clash = await post('410108', { officerId: other.officer.id, credentialNumber: number });
    expectRule(clash, '/credentialNumber');
    expect(clash.json().detail).toContain(number);
    const deleted = await ctx.app.inject({
      method: 'DELETE',
      url: `/v1/credentials/${credential?.id}`,
      headers: await bearer({ region: '410106' }),
    });
    expect(deleted.statusCode).toBe(204);
    expect((await post('410106', { officerId: officer.id, credentialNumber: number })).statusCode).toBe(201);
  });

  it('backs the credential number rule with a partial unique index', async () => {
    const { credential } = await seedOfficer(ctx.app, '410122', 'R3');
    const insert = (number: string, deleted: boolean) =>
      ctx.database.db.execute(sql`
        insert into credentials (region_code, officer_id, credential_number, kind, issuing_authority, issued_on, expires_on, status, deleted_at)
        values ('410122', ${credential?.['officerId']}, ${number}, 'supervision', 'x', '2020-01-01', '2021-01-01', 'revoked', ${deleted ? sql`now()` : null})`);
    await expect(insert(String(credential?.['credentialNumber']), false)).rejects.toThrow();
    await expect(insert(String(credential?.['credentialNumber']), true)).resolves.toBeDefined();
  });

  it('allows one valid credential of a kind per officer at a time, at /status', async () => {
    const { officer } = await seedOfficer(ctx.app, '410181', 'R4');
    expectRule(await post('410181', { officerId: officer.id }), '/status');
    // Another kind, an ended one, or one whose period ended before the one in force began do not clash.
    expect((await post('410181', { officerId: officer.id, kind: 'supervision' })).statusCode).toBe(201);
    expect((await post('410181', { officerId: officer.id, status: 'revoked' })).statusCode).toBe(201);
    expect(
      (await post('410181', { officerId: officer.id, issuedOn: daysFromToday(-2000), expiresOn: daysFromToday(-366) })).statusCode,
    ).toBe(201);
    // Validity is over the whole period, not as of today: an old card whose period overlaps the one in force
    // clashes even though it has expired by now (the last day counts).
    expectRule(await post('410181', { officerId: officer.id, issuedOn: daysFromToday(-2000), expiresOn: daysFromToday(-365) }), '/status');
    // And so does a future card that starts on the current one's last day.
    expectRule(await post('410181', { officerId: officer.id, issuedOn: daysFromToday(4 * 365), expiresOn: daysFromToday(9 * 365) }), '/status');
    expect(
      (await post('410181', { officerId: officer.id, issuedOn: daysFromToday(4 * 365 + 1), expiresOn: daysFromToday(9 * 365) })).statusCode,
    ).toBe(201);
    // Turning the revoked one valid again clashes with the one in force.
    const list = await ctx.app.inject({
      method: 'GET',
      url: `/v1/credentials?officerId=${officer.id}&status=revoked`,
      headers: await bearer({ region: '410181' }),
    });
    const revoked = list.json().items[0];
    const revalidate = await ctx.app.inject({
      method: 'PATCH',
      url: `/v1/credentials/${revoked.id}`,
      headers: await bearer({ region: '410181' }),
      payload: { status: 'valid' },
    });
    expectRule(revalidate, '/status');
  });

  it('lets a credential be renewed once the old one expired or was suspended', async () => {
    const { officer, credential } = await seedOfficer(ctx.app, '410182', 'R5');
    const headers = await bearer({ region: '410182' });
    const suspend = await ctx.app.inject({
      method: 'PATCH',
      url: `/v1/credentials/${credential?.id}`,
      headers,
      payload: { status: 'suspended' },
    });
    expect(suspend.statusCode).toBe(200);
    expect((await post('410182', { officerId: officer.id })).statusCode).toBe(201);
    // Editing the suspended one later does not clash with the new one in force.
    const rename = await ctx.app.inject({
      method: 'PATCH',
      url: `/v1/credentials/${credential?.id}`,
      headers,
      payload: { issuingAuthority: '河南省人民政府（换证）' },
    });
    expect(rename.statusCode).toBe(200);
  });

  it('refuses an enforcement credential for contract staff, citing 省政府令第180号, at /kind', async () => {
    const { officer } = await seedOfficer(ctx.app, '410183', 'R6', { officer: { staffingType: 'contract' }, credential: false });
    const res = await post('410183', { officerId: officer.id });
    expectRule(res, '/kind');
    expect(res.json().detail).toContain('省政府令第180号');
    expectRule(await post('410183', { officerId: officer.id, status: 'suspended' }), '/kind');
    // A supervision credential is not barred by this rule, and a revoked enforcement one may be recorded as history.
    expect((await post('410183', { officerId: officer.id, kind: 'supervision' })).statusCode).toBe(201);
    expect((await post('410183', { officerId: officer.id, status: 'revoked' })).statusCode).toBe(201);
  });

  it('checks the rules on upsert and in a batch too', async () => {
    const { officer } = await seedOfficer(ctx.app, '410184', 'R7', { officer: { staffingType: 'contract' }, credential: false });
    const headers = await bearer({ region: '410184' });
    const upsert = await ctx.app.inject({
      method: 'PUT',
      url: '/v1/credentials/external/410184/R7-C',
      headers,
      payload: aCredential({ officerId: officer.id }),
    });
    expectRule(upsert, '/kind');
    const batch = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers,
      payload: {
        operations: [
          { op: 'upsert', collection: 'credentials', regionCode: '410184', externalId: 'R7-C', data: aCredential({ officerExternalId: 'R7' }) },
          {
            op: 'upsert',
            collection: 'credentials',
            regionCode: '410184',
            externalId: 'R7-D',
            data: aCredential({ officerExternalId: 'R7', issuedOn: '2024-01-01', expiresOn: '2023-01-01', kind: 'supervision' }),
          },
        ],
      },
    });
    expect(batch.statusCode).toBe(200);
    expect(batch.json().results).toMatchObject([
      { index: 0, status: 422, error: { code: 'rule_violation', errors: [{ path: '/operations/0/data/kind' }] } },
      { index: 1, status: 422, error: { code: 'rule_violation', errors: [{ path: '/operations/1/data/expiresOn' }] } },
    ]);
  });

  it('keeps an officer with credentials from being deleted', async () => {
    const { officer } = await seedOfficer(ctx.app, '410185', 'R8');
    const res = await ctx.app.inject({ method: 'DELETE', url: `/v1/officers/${officer.id}`, headers: await bearer({ region: '410185' }) });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'still_referenced' });
  });
});

describe('credentials: list filters', () => {
  it('filters by officer, kind, stored status, effective status and expiry window', async () => {
    const region = '410186';
    const headers = await bearer({ region });
    const a = await seedOfficer(ctx.app, region, 'L1', { credential: false });
    const b = await seedOfficer(ctx.app, region, 'L2', { credential: false });
    const make = (key: string, body: Partial<CredentialBody>) => put(ctx.app, 'credentials', region, key, aCredential(body));
    const far = await make('far', { officerId: a.officer.id, expiresOn: daysFromToday(1000) });
    const soon = await make('soon', { officerId: b.officer.id, expiresOn: daysFromToday(20) });
    const todayOnly = await make('today', { officerId: a.officer.id, kind: 'supervision', expiresOn: daysFromToday(0) });
    const expired = await make('expired', { officerId: b.officer.id, kind: 'supervision', issuedOn: daysFromToday(-900), expiresOn: daysFromToday(-3) });
    await make('suspended', { officerId: b.officer.id, status: 'suspended', expiresOn: daysFromToday(10) });
    const lost = await make('lost', { officerId: a.officer.id, status: 'lost', expiresOn: daysFromToday(-10), issuedOn: daysFromToday(-400) });

    const ids = async (query: string) => {
      const res = await ctx.app.inject({ method: 'GET', url: `/v1/credentials?regionCode=${region}&${query}`, headers });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().items.map((c: { id: string }) => c.id).sort();
    };
    const sorted = (...list: { id: string }[]) => list.map((c) => c.id).sort();
    expect(await ids(`officerId=${a.officer.id}`)).toEqual(sorted(far, todayOnly, lost));
    expect(await ids('kind=supervision')).toEqual(sorted(todayOnly, expired));
    expect(await ids('status=valid')).toEqual(sorted(far, soon, todayOnly, expired));
    expect(await ids('effectiveStatus=valid')).toEqual(sorted(far, soon, todayOnly));
    expect(await ids('effectiveStatus=expired')).toEqual(sorted(expired));
    expect(await ids('effectiveStatus=lost')).toEqual(sorted(lost));
    expect(await ids('expiringWithinDays=30')).toEqual(sorted(soon, todayOnly));
    expect(await ids('expiringWithinDays=0')).toEqual(sorted(todayOnly));
    expect(await ids('expiringWithinDays=30&kind=enforcement')).toEqual(sorted(soon));

    const bad = await ctx.app.inject({ method: 'GET', url: '/v1/credentials?expiringWithinDays=-1', headers });
    expect(bad.statusCode).toBe(400);
    const badStatus = await ctx.app.inject({ method: 'GET', url: '/v1/credentials?effectiveStatus=gone', headers });
    expect(badStatus.statusCode).toBe(400);
  });
});

describe('credentials: region isolation', () => {
  it('hides 410100 credentials from a 410200 token and refuses writes into 410100', async () => {
    const { officer, credential } = await seedOfficer(ctx.app, '410100', 'ISO-C');
    const other = await bearer({ region: '410200' });
    expect((await ctx.app.inject({ method: 'GET', url: `/v1/credentials/${credential?.id}`, headers: other })).statusCode).toBe(404);
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/credentials/external/410100/ISO-C-C', headers: other })).statusCode).toBe(404);
    const write = await ctx.app.inject({
      method: 'PUT',
      url: '/v1/credentials/external/410100/ISO-C-2',
      headers: other,
      payload: aCredential({ officerId: officer.id, kind: 'supervision' }),
    });
    expect(write.statusCode).toBe(403);
    expect(write.json()).toMatchObject({ code: 'forbidden_region' });
    // Nor can a 410200 record point at the 410100 officer: the reference is not found in the caller's regions.
    await put(ctx.app, 'org-units', '410200', 'KF-OU', { name: '开封市城市管理局', level: 'city' });
    const crossRef = await ctx.app.inject({
      method: 'POST',
      url: '/v1/credentials',
      headers: other,
      payload: { regionCode: '410200', ...aCredential({ officerId: officer.id, kind: 'supervision' }) },
    });
    expect(crossRef.statusCode).toBe(422);
    expect(crossRef.json()).toMatchObject({ code: 'reference_not_found', errors: [{ path: '/officerId' }] });
    const del = await ctx.app.inject({ method: 'DELETE', url: `/v1/credentials/${credential?.id}`, headers: other });
    expect(del.statusCode).toBe(404);
    for (const url of ['/v1/credentials', '/v1/credentials?regionCode=410100', `/v1/credentials?officerId=${officer.id}`]) {
      const list = await ctx.app.inject({ method: 'GET', url, headers: other });
      expect(list.statusCode).toBe(200);
      expect(list.json().items).toEqual([]);
    }
  });
});
