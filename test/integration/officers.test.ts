import { describe, expect, it } from 'vitest';
import { bearer, useTestApp } from '../support/context.js';
import {
  aCredential,
  anIdentity,
  anIdentityEndingInX,
  anOfficer,
  anOrgUnit,
  daysFromToday,
  put,
  seedOfficer,
  withCheckChar,
  withWrongCheckChar,
} from '../support/people-fixtures.js';

const ctx = useTestApp();

// Each test uses its own region code (or keys), so tests never see each other's records.

async function post(region: string, body: object) {
  return ctx.app.inject({ method: 'POST', url: '/v1/officers', headers: await bearer({ region }), payload: { regionCode: region, ...body } });
}

async function unitIn(region: string, key = 'OU') {
  return put(ctx.app, 'org-units', region, key, anOrgUnit());
}

describe('officers: create and read', () => {
  it('creates an officer referenced to its unit by the caller key and reads it back with both reference forms', async () => {
    const unit = await unitIn('410102');
    const body = anOfficer({ orgUnitExternalId: 'OU', externalId: 'P-1' });
    const created = await post('410102', body);
    expect(created.statusCode).toBe(201);
    expect(created.headers['location']).toBe(`/v1/officers/${created.json().id}`);
    const read = await ctx.app.inject({
      method: 'GET',
      url: `/v1/officers/${created.json().id}`,
      headers: await bearer({ region: '410102' }),
    });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({
      regionCode: '410102',
      externalId: 'P-1',
      version: 1,
      name: body.name,
      gender: body.gender,
      idCardNumber: body.idCardNumber,
      birthDate: body.birthDate,
      orgUnitId: unit.id,
      orgUnitExternalId: 'OU',
      cadreLevel: 'section',
      staffingType: 'civil_servant',
      employmentStatus: 'active',
      summary: { holdsValidCredential: false, credentials: [], currentPostStatus: null, equipment: [] },
    });
  });

  it('needs an org unit, and refuses one that does not exist', async () => {
    const missing = await post('410103', anOfficer());
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: '/orgUnitId' }] });
    const unknown = await post('410103', anOfficer({ orgUnitExternalId: 'NOPE' }));
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json()).toMatchObject({ code: 'reference_not_found', errors: [{ path: '/orgUnitExternalId' }] });
  });

  it('accepts optional fields as absent and shows them as null', async () => {
    await unitIn('410104');
    const body = anOfficer({ orgUnitExternalId: 'OU' });
    for (const key of ['ethnicity', 'politicalStatus', 'education', 'phone', 'position', 'rank', 'hireDate', 'badgeNumber'] as const) {
      delete body[key];
    }
    const res = await post('410104', body);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      ethnicity: null,
      politicalStatus: null,
      education: null,
      phone: null,
      position: null,
      rank: null,
      hireDate: null,
      badgeNumber: null,
    });
  });

  it('refuses values outside the code tables and enumerations, each at its path', async () => {
    await unitIn('410105');
    const cases: [object, string][] = [
      [{ gender: '3' }, '/gender'],
      [{ ethnicity: '57' }, '/ethnicity'],
      [{ politicalStatus: '14' }, '/politicalStatus'],
      [{ education: '01' }, '/education'],
      [{ cadreLevel: 'bureau' }, '/cadreLevel'],
      [{ staffingType: 'temporary' }, '/staffingType'],
      [{ employmentStatus: 'fired' }, '/employmentStatus'],
      [{ badgeNumber: 'ab12' }, '/badgeNumber'],
      [{ phone: '12812345678' }, '/phone'],
      [{ phone: '371-1234567' }, '/phone'],
      [{ name: '' }, '/name'],
      [{ birthDate: '1990-02-30' }, '/birthDate'],
    ];
    for (const [override, path] of cases) {
      const res = await post('410105', anOfficer({ orgUnitExternalId: 'OU', ...override }));
      expect(res.statusCode, JSON.stringify(override)).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    }
  });

  it('accepts a mobile or a landline phone', async () => {
    await unitIn('410106');
    expect((await post('410106', anOfficer({ orgUnitExternalId: 'OU', phone: '13812345678' }))).statusCode).toBe(201);
    expect((await post('410106', anOfficer({ orgUnitExternalId: 'OU', phone: '0371-12345678' }))).statusCode).toBe(201);
  });
});

describe('officers: ID number checks', () => {
  const refused: [string, string, RegExp][] = [
    ['format', '41010519900101123', /format check failed/],
    ['province', withCheckChar('99010519900101123'), /province check failed/],
    ['birth date', withCheckChar('41010519900230123'), /birth date check failed/],
    ['check digit', withWrongCheckChar('41010519900101123'), /check digit wrong/],
  ];
  it.each(refused)('refuses an ID number failing the %s check at /idCardNumber, naming the check', async (_name, idCardNumber, message) => {
    await unitIn('410108');
    const res = await post('410108', anOfficer({ orgUnitExternalId: 'OU', idCardNumber }));
    expect(res.statusCode).toBe(400);
    const errors: { path: string; message: string }[] = res.json().errors;
    expect(errors).toHaveLength(1);
    expect(errors[0]?.path).toBe('/idCardNumber');
    expect(errors[0]?.message).toMatch(message);
  });

  it('takes a trailing lowercase x as X', async () => {
    await unitIn('410122');
    const identity = anIdentityEndingInX();
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/officers',
      headers: await bearer({ region: '410122' }),
      payload: { regionCode: '410122', ...anOfficer({ orgUnitExternalId: 'OU', ...identity, idCardNumber: identity.idCardNumber.toLowerCase() }) },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().idCardNumber).toBe(identity.idCardNumber);
  });

  it('refuses a birth date that differs from the ID number at /birthDate', async () => {
    await unitIn('410181');
    const res = await post('410181', anOfficer({ orgUnitExternalId: 'OU', birthDate: '1960-01-01' }));
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: '/birthDate' }] });
  });

  it('refuses a gender that disagrees with the sequence digit at /gender, and lets 0 and 9 pass', async () => {
    await unitIn('410182');
    const male = anIdentity({ gender: '1' });
    const female = anIdentity({ gender: '2' });
    for (const [identity, gender] of [
      [male, '2'],
      [female, '1'],
    ] as const) {
      const res = await post('410182', anOfficer({ orgUnitExternalId: 'OU', ...identity, gender }));
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: '/gender' }] });
    }
    expect((await post('410182', anOfficer({ orgUnitExternalId: 'OU', ...male, gender: '9' }))).statusCode).toBe(201);
    expect((await post('410182', anOfficer({ orgUnitExternalId: 'OU', ...female, gender: '0' }))).statusCode).toBe(201);
  });
});

describe('officers: an ID number is unique among active people', () => {
  it('refuses a second active officer with the same number, without echoing it, across regions', async () => {
    const first = await seedOfficer(ctx.app, '410183', 'U1', { credential: false });
    await unitIn('410184');
    const idCardNumber = String((await read('410183', first.officer.id))['idCardNumber']);
    const clash = await post('410184', anOfficer({ orgUnitExternalId: 'OU', ...identityOf(idCardNumber) }));
    expect(clash.statusCode).toBe(422);
    expect(clash.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: '/idCardNumber' }] });
    expect(clash.body).not.toContain(idCardNumber);
    expect(clash.body).not.toContain(idCardNumber.slice(-4));
  });

  it('allows the same number on records that are not active, and again once the active one is deleted', async () => {
    const first = await seedOfficer(ctx.app, '410185', 'U2', { credential: false });
    const identity = identityOf(String((await read('410185', first.officer.id))['idCardNumber']));
    const transferred = await post('410185', anOfficer({ orgUnitExternalId: 'U2-OU', ...identity, employmentStatus: 'transferred' }));
    expect(transferred.statusCode).toBe(201);
    // Re-activating the transferred record while the first is active is refused.
    const reactivate = await ctx.app.inject({
      method: 'PATCH',
      url: `/v1/officers/${transferred.json().id}`,
      headers: await bearer({ region: '410185' }),
      payload: { employmentStatus: 'active' },
    });
    expect(reactivate.statusCode).toBe(422);
    expect(reactivate.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: '/idCardNumber' }] });
    // Updating the active record itself is fine (it does not clash with itself).
    const rename = await ctx.app.inject({
      method: 'PATCH',
      url: `/v1/officers/${first.officer.id}`,
      headers: await bearer({ region: '410185' }),
      payload: { name: '李娜' },
    });
    expect(rename.statusCode).toBe(200);
    const deleted = await ctx.app.inject({
      method: 'DELETE',
      url: `/v1/officers/${first.officer.id}`,
      headers: await bearer({ region: '410185' }),
    });
    expect(deleted.statusCode).toBe(204);
    const again = await ctx.app.inject({
      method: 'PATCH',
      url: `/v1/officers/${transferred.json().id}`,
      headers: await bearer({ region: '410185' }),
      payload: { employmentStatus: 'active' },
    });
    expect(again.statusCode).toBe(200);
  });
});

async function read(region: string, id: string): Promise<Record<string, unknown>> {
  const res = await ctx.app.inject({ method: 'GET', url: `/v1/officers/${id}`, headers: await bearer({ region }) });
  expect(res.statusCode).toBe(200);
  return res.json();
}

function identityOf(idCardNumber: string) {
  const birthDate = `${idCardNumber.slice(6, 10)}-${idCardNumber.slice(10, 12)}-${idCardNumber.slice(12, 14)}`;
  return { idCardNumber, birthDate, gender: Number(idCardNumber[16]) % 2 === 1 ? '1' : '2' };
}

describe('officers: staffing type and credentials', () => {
  it('refuses turning an officer who holds an enforcement credential into contract staff (省政府令第180号)', async () => {
    const { officer } = await seedOfficer(ctx.app, '410186', 'S1');
    const res = await ctx.app.inject({
      method: 'PATCH',
      url: `/v1/officers/${officer.id}`,
      headers: await bearer({ region: '410186' }),
      payload: { staffingType: 'contract' },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: '/staffingType' }] });
    expect(res.json().detail).toContain('180');
  });
});

describe('officers: summary', () => {
  it('says whether the officer holds a valid enforcement credential today, and lists the credentials', async () => {
    const { officer, credential } = await seedOfficer(ctx.app, '410187', 'M1');
    const headers = await bearer({ region: '410187' });
    const summary = async () => (await read('410187', officer.id))['summary'] as Record<string, unknown>;
    expect(await summary()).toEqual({
      holdsValidCredential: true,
      credentials: [
        {
          id: credential?.id,
          credentialNumber: credential?.['credentialNumber'],
          kind: 'enforcement',
          status: 'valid',
          effectiveStatus: 'valid',
          expiresOn: credential?.['expiresOn'],
        },
      ],
      currentPostStatus: null,
      equipment: [],
    });
    const patch = async (payload: object) => {
      const res = await ctx.app.inject({ method: 'PATCH', url: `/v1/credentials/${credential?.id}`, headers, payload });
      expect(res.statusCode, res.body).toBe(200);
    };
    // It expires: yesterday was its last day.
    await patch({ expiresOn: daysFromToday(-1) });
    expect(await summary()).toMatchObject({
      holdsValidCredential: false,
      credentials: [{ status: 'valid', effectiveStatus: 'expired', expiresOn: daysFromToday(-1) }],
    });
    // Today is its last day: still valid.
    await patch({ expiresOn: daysFromToday(0) });
    expect(await summary()).toMatchObject({ holdsValidCredential: true, credentials: [{ effectiveStatus: 'valid' }] });
    // Issued today, its first day: in force.
    await patch({ issuedOn: daysFromToday(0), expiresOn: daysFromToday(400) });
    expect(await summary()).toMatchObject({ holdsValidCredential: true });
    // Suspended.
    await patch({ status: 'suspended' });
    expect(await summary()).toMatchObject({ holdsValidCredential: false, credentials: [{ effectiveStatus: 'suspended' }] });
    // Valid again but issued tomorrow: not yet in force.
    await patch({ status: 'valid', issuedOn: daysFromToday(1), expiresOn: daysFromToday(400) });
    expect(await summary()).toMatchObject({ holdsValidCredential: false, credentials: [{ effectiveStatus: 'valid' }] });
  });

  it('does not count a supervision credential, and computes the summary for every officer of a list', async () => {
    const a = await seedOfficer(ctx.app, '410188', 'M2', { credential: { kind: 'supervision' } });
    const b = await seedOfficer(ctx.app, '410188', 'M3');
    const c = await seedOfficer(ctx.app, '410188', 'M4', { credential: false });
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/officers?regionCode=410188', headers: await bearer({ region: '410188' }) });
    expect(res.statusCode).toBe(200);
    const holds = Object.fromEntries(
      res.json().items.map((o: { id: string; summary: { holdsValidCredential: boolean; credentials: unknown[] } }) => [
        o.id,
        [o.summary.holdsValidCredential, o.summary.credentials.length],
      ]),
    );
    expect(holds).toEqual({ [a.officer.id]: [false, 1], [b.officer.id]: [true, 1], [c.officer.id]: [false, 0] });
  });
});

describe('officers: list filters', () => {
  it('filters by unit, employment status, staffing type, credential holding and name prefix', async () => {
    const region = '410191';
    const headers = await bearer({ region });
    const unitA = await put(ctx.app, 'org-units', region, 'FA', anOrgUnit());
    const unitB = await put(ctx.app, 'org-units', region, 'FB', anOrgUnit());
    const o1 = await put(ctx.app, 'officers', region, 'F1', anOfficer({ orgUnitId: unitA.id, name: '王芳' }));
    const o2 = await put(
      ctx.app,
      'officers',
      region,
      'F2',
      anOfficer({ orgUnitId: unitB.id, name: '王_明', staffingType: 'public_institution', employmentStatus: 'retired' }),
    );
    const o3 = await put(ctx.app, 'officers', region, 'F3', anOfficer({ orgUnitId: unitB.id, name: '100%李' }));
    await put(ctx.app, 'credentials', region, 'F1-C', aCredential({ officerId: o1.id }));
    await put(ctx.app, 'credentials', region, 'F3-C', aCredential({ officerId: o3.id, status: 'suspended' }));

    const ids = async (query: string) => {
      const res = await ctx.app.inject({ method: 'GET', url: `/v1/officers?regionCode=${region}&${query}`, headers });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().items.map((o: { id: string }) => o.id).sort();
    };
    const sorted = (...list: { id: string }[]) => list.map((o) => o.id).sort();
    expect(await ids(`orgUnitId=${unitB.id}`)).toEqual(sorted(o2, o3));
    expect(await ids('employmentStatus=retired')).toEqual(sorted(o2));
    expect(await ids('staffingType=civil_servant')).toEqual(sorted(o1, o3));
    expect(await ids('holdsValidCredential=true')).toEqual(sorted(o1));
    expect(await ids('holdsValidCredential=false')).toEqual(sorted(o2, o3));
    expect(await ids(`namePrefix=${encodeURIComponent('王')}`)).toEqual(sorted(o1, o2));
    // % and _ are literal characters, not wildcards.
    expect(await ids(`namePrefix=${encodeURIComponent('王_')}`)).toEqual(sorted(o2));
    expect(await ids(`namePrefix=${encodeURIComponent('100%')}`)).toEqual(sorted(o3));
    expect(await ids(`namePrefix=${encodeURIComponent('_')}`)).toEqual([]);
    expect(await ids(`namePrefix=${encodeURIComponent('%')}`)).toEqual([]);

    const bad = await ctx.app.inject({ method: 'GET', url: '/v1/officers?holdsValidCredential=yes', headers });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'validation_failed' });
  });
});

describe('officers: region isolation', () => {
  it('hides a 410100 officer from a 410200 token and refuses writes into 410100', async () => {
    const { officer, unit } = await seedOfficer(ctx.app, '410100', 'ISO-1');
    const other = await bearer({ region: '410200' });
    const byId = await ctx.app.inject({ method: 'GET', url: `/v1/officers/${officer.id}`, headers: other });
    expect(byId.statusCode).toBe(404);
    const byKey = await ctx.app.inject({ method: 'GET', url: '/v1/officers/external/410100/ISO-1', headers: other });
    expect(byKey.statusCode).toBe(404);
    const write = await ctx.app.inject({
      method: 'PUT',
      url: '/v1/officers/external/410100/ISO-2',
      headers: other,
      payload: anOfficer({ orgUnitId: unit.id }),
    });
    expect(write.statusCode).toBe(403);
    expect(write.json()).toMatchObject({ code: 'forbidden_region' });
    const create = await ctx.app.inject({
      method: 'POST',
      url: '/v1/officers',
      headers: other,
      payload: { regionCode: '410100', ...anOfficer({ orgUnitId: unit.id }) },
    });
    expect(create.statusCode).toBe(403);
    expect(create.json()).toMatchObject({ code: 'forbidden_region' });
    const patch = await ctx.app.inject({ method: 'PATCH', url: `/v1/officers/${officer.id}`, headers: other, payload: { name: 'x' } });
    expect(patch.statusCode).toBe(404);
    for (const url of ['/v1/officers', '/v1/officers?regionCode=410100', '/v1/officers?externalId=ISO-1']) {
      const list = await ctx.app.inject({ method: 'GET', url, headers: other });
      expect(list.statusCode).toBe(200);
      expect(list.json().items.filter((o: { regionCode: string }) => o.regionCode.startsWith('4101'))).toEqual([]);
    }
    // The city's own token (and the province's) does see it.
    const own = await ctx.app.inject({ method: 'GET', url: `/v1/officers/${officer.id}`, headers: await bearer({ region: '410000' }) });
    expect(own.statusCode).toBe(200);
  });
});

describe('officers: batch', () => {
  it('creates a unit, an officer referencing it and a credential referencing the officer in one atomic batch', async () => {
    const region = '410192';
    const headers = await bearer({ region });
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers,
      payload: {
        atomic: true,
        operations: [
          { op: 'upsert', collection: 'org-units', regionCode: region, externalId: 'B-OU', data: anOrgUnit() },
          { op: 'upsert', collection: 'officers', regionCode: region, externalId: 'B-P', data: anOfficer({ orgUnitExternalId: 'B-OU' }) },
          { op: 'upsert', collection: 'credentials', regionCode: region, externalId: 'B-C', data: aCredential({ officerExternalId: 'B-P' }) },
        ],
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    const results: { status: number; id: string }[] = res.json().results;
    expect(results.map((r) => r.status)).toEqual([201, 201, 201]);
    const officer = await read(region, results[1]!.id);
    expect(officer).toMatchObject({ orgUnitId: results[0]!.id, orgUnitExternalId: 'B-OU', summary: { holdsValidCredential: true } });
    const credential = await ctx.app.inject({ method: 'GET', url: `/v1/credentials/${results[2]!.id}`, headers });
    expect(credential.json()).toMatchObject({ officerId: results[1]!.id, officerExternalId: 'B-P', effectiveStatus: 'valid' });
  });

  it('rolls an atomic batch back when a later operation breaks a rule, pointing into the operation', async () => {
    const region = '410193';
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: await bearer({ region }),
      payload: {
        atomic: true,
        operations: [
          { op: 'upsert', collection: 'org-units', regionCode: region, externalId: 'R-OU', data: anOrgUnit() },
          {
            op: 'upsert',
            collection: 'officers',
            regionCode: region,
            externalId: 'R-P',
            data: anOfficer({ orgUnitExternalId: 'R-OU', staffingType: 'contract' }),
          },
          { op: 'upsert', collection: 'credentials', regionCode: region, externalId: 'R-C', data: aCredential({ officerExternalId: 'R-P' }) },
        ],
      },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'batch_rolled_back', failedIndex: 2, errors: [{ path: '/operations/2/data/kind' }] });
    const list = await ctx.app.inject({ method: 'GET', url: `/v1/org-units?regionCode=${region}`, headers: await bearer({ region }) });
    expect(list.json().items).toEqual([]);
  });

  it('takes 1000 officers in one batch within the body limit', async () => {
    const region = '410194';
    const headers = await bearer({ region });
    const unit = await put(ctx.app, 'org-units', region, 'BIG-OU', anOrgUnit());
    const operations = Array.from({ length: 1000 }, (_, i) => ({
      op: 'upsert',
      collection: 'officers',
      regionCode: region,
      externalId: `BIG-${i}`,
      data: anOfficer({ orgUnitExternalId: 'BIG-OU', name: `批量人员${i}`, position: '执法队员（综合执法大队第三中队）', rank: '二级行政执法员' }),
    }));
    const payload = JSON.stringify({ atomic: false, operations });
    expect(payload.length).toBeGreaterThan(400_000);
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { ...headers, 'content-type': 'application/json' },
      payload,
    });
    expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
    const results: { status: number }[] = res.json().results;
    expect(results).toHaveLength(1000);
    expect(results.every((r) => r.status === 201)).toBe(true);
    const page = await ctx.app.inject({ method: 'GET', url: `/v1/officers?regionCode=${region}&limit=500&orgUnitId=${unit.id}`, headers });
    expect(page.json().items).toHaveLength(500);
    expect(page.json().nextCursor).not.toBeNull();
  }, 120_000);
});
