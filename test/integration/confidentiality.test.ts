import { describe, expect, it } from 'vitest';
import { addDays } from '../../src/domain/dates.js';
import { idCardCheckChar } from '../../src/domain/id-card.js';
import { bearer, useTestApp } from '../support/context.js';
import { auditEntries, drainFeed, feedHead, problemOf, type Headers, type RecordJson } from '../support/fixtures.js';
import { aCredential, anIdentity, anOfficer, anOrgUnit, put, today } from '../support/people-fixtures.js';

// Confidentiality (DESIGN §5): no ID number can be recovered without pii:read, and nothing of a record
// outside the caller's regions appears in any answer — while the caller can still update its own records.

const BUDGET = 8;
const ctx = useTestApp({ IDENTITY_PROBE_BUDGET_PER_MINUTE: BUDGET, IDENTITY_NEW_BUDGET_PER_HOUR: BUDGET });

const MASKED = 'records:read records:write';

async function call(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, headers: Headers, payload?: unknown) {
  return ctx.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
}

describe('birth dates without pii:read', () => {
  it('are null on every output path (read, list, write responses, feed) and shown with pii:read', async () => {
    const region = '410202';
    const masked = await bearer({ region, scope: MASKED });
    const unit = await put(ctx.app, 'org-units', region, 'BD-OU', anOrgUnit());
    const body = anOfficer({ orgUnitId: unit.id });
    const after = await feedHead(ctx.app, masked);

    const created = await call('POST', '/v1/officers', masked, { regionCode: region, externalId: 'BD-1', ...body });
    expect(created.statusCode).toBe(201);
    const id = created.json<RecordJson>().id;
    const answers: [string, Record<string, unknown>][] = [['POST', created.json()]];
    answers.push(['GET', (await call('GET', `/v1/officers/${id}`, masked)).json()]);
    answers.push(['list', (await call('GET', `/v1/officers?externalId=BD-1`, masked)).json().items[0]]);
    answers.push(['PUT', (await call('PUT', `/v1/officers/external/${region}/BD-1`, masked, { ...body, rank: '二级' })).json()]);
    answers.push(['PATCH', (await call('PATCH', `/v1/officers/${id}`, masked, { rank: '三级' })).json()]);
    const batch = await call('POST', '/v1/batch', masked, {
      operations: [{ op: 'upsert', collection: 'officers', regionCode: region, externalId: 'BD-1', data: { ...body, rank: '四级' } }],
    });
    expect(batch.json().results[0].status).toBe(200);
    expect(batch.body).not.toContain(body.birthDate);
    const { items } = await drainFeed(ctx.app, masked, { after, collections: 'officers' });
    for (const change of items) answers.push([`feed v${change.version}`, change.record!]);
    expect(answers).toHaveLength(9);
    for (const [path, record] of answers) {
      expect(record['birthDate'], path).toBeNull();
      expect(JSON.stringify(record), path).not.toContain(body.birthDate.replaceAll('-', ''));
    }

    const full = await bearer({ region, scope: `${MASKED} pii:read` });
    expect((await call('GET', `/v1/officers/${id}`, full)).json()['birthDate']).toBe(body.birthDate);
    const { items: shown } = await drainFeed(ctx.app, full, { after, collections: 'officers' });
    expect(shown.every((c) => c.record?.['birthDate'] === body.birthDate)).toBe(true);
  });

  it('can only be patched together with the ID number, so the birth-date rule answers no guess', async () => {
    const region = '410203';
    const unit = await put(ctx.app, 'org-units', region, 'BG-OU', anOrgUnit());
    const body = anOfficer({ orgUnitId: unit.id });
    const officer = await put(ctx.app, 'officers', region, 'BG-1', body);
    const masked = await bearer({ region, scope: MASKED, clientId: 'birth-date-guesser' });
    for (const guess of [body.birthDate, addDays(body.birthDate, 1)]) {
      const res = await call('PATCH', `/v1/officers/${officer.id}`, masked, { birthDate: guess });
      expect(res.statusCode).toBe(400);
      expect(problemOf(res).errors).toEqual([expect.objectContaining({ path: '/idCardNumber' })]);
    }
    const withPii = await bearer({ region });
    expect((await call('PATCH', `/v1/officers/${officer.id}`, withPii, { birthDate: body.birthDate })).statusCode).toBe(200);
  });
});

describe('the ID-number probe', () => {
  /**
   * Every valid number consistent with a masked record: the first three and last four characters, any
   * address digits 4–6 and any birth date in a working-age window, with the right check character.
   */
  function candidatesFrom(masked: string, from: string, to: string): string[] {
    const prefix = masked.slice(0, 3);
    const sequence = masked.slice(14, 17);
    const check = masked.slice(17);
    const out: string[] = [];
    for (let day = from; day <= to; day = addDays(day, 1)) {
      for (let address = 0; address < 1000; address++) {
        const first17 = `${prefix}${String(address).padStart(3, '0')}${day.replaceAll('-', '')}${sequence}`;
        if (idCardCheckChar(first17) === check) out.push(first17 + check);
      }
    }
    return out;
  }

  it('leaves ≥ 10,000 candidates, is refused with 429 within the budget and leaves every attempt in the audit log', async () => {
    const region = '410305';
    const unit = await put(ctx.app, 'org-units', region, 'PR-OU', anOrgUnit());
    const victim = anOfficer({ orgUnitId: unit.id, ...anIdentity({ addressCode: '410305', birthDate: '1984-06-15' }) });
    const stored = await put(ctx.app, 'officers', region, 'PR-VICTIM', victim);

    const prober = await bearer({ region, scope: MASKED, sub: 'prober', clientId: 'probe-client' });
    const seen = (await call('GET', `/v1/officers/${stored.id}`, prober)).json<RecordJson>();
    expect(seen['birthDate']).toBeNull();
    const masked = String(seen['idCardNumber']);
    expect(masked).toMatch(/^410\*{11}[0-9X]{4}$/);

    // What the masked record allows over ten years of birth dates alone: far more than 10,000.
    const candidates = candidatesFrom(masked, '1980-01-01', '1989-12-31');
    expect(candidates.length).toBeGreaterThanOrEqual(10_000);
    expect(candidates).toContain(victim.idCardNumber);

    // The probe of the issue: an atomic batch [an officer with the candidate number, a failing operation].
    // failedIndex 0 would confirm the number (held by an active person); 1 says it is free.
    const answers: number[] = [];
    let retryAfter: string | undefined;
    for (const candidate of candidates.slice(0, BUDGET * 3)) {
      const res = await call('POST', '/v1/batch', prober, {
        atomic: true,
        operations: [
          {
            op: 'upsert',
            collection: 'officers',
            regionCode: region,
            externalId: 'PR-PROBE',
            data: { ...victim, idCardNumber: candidate, birthDate: `${candidate.slice(6, 10)}-${candidate.slice(10, 12)}-${candidate.slice(12, 14)}` },
          },
          { op: 'upsert', collection: 'officers', regionCode: region, externalId: 'PR-BAD', data: {} },
        ],
      });
      answers.push(res.statusCode);
      if (res.statusCode === 429) {
        expect(problemOf(res).code).toBe('too_many_identity_probes');
        retryAfter = String(res.headers['retry-after']);
        break;
      }
      expect(problemOf(res).failedIndex).toBe(1);
    }
    // Each rolled-back batch told that one number is free: one unit of the new-identity budget. Then 429.
    expect(answers).toEqual([...Array<number>(BUDGET).fill(422), 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // Even the right number is no longer tested, and a single write carrying a number is refused too.
    const single = await call('PUT', `/v1/officers/external/${region}/PR-PROBE`, prober, victim);
    expect(single.statusCode).toBe(429);
    expect(single.headers['retry-after']).toBeDefined();
    // Writes carrying no ID number go on.
    expect((await call('PATCH', `/v1/org-units/${unit.id}`, prober, { name: '仍可写' })).statusCode).toBe(200);

    // Every attempt is in the audit log although its transaction rolled back; the holder is never named.
    const auditor = await bearer({ region, scope: 'audit:read' });
    const rows = await auditEntries(ctx.app, auditor, { sub: 'prober' });
    const rolledBack = rows.filter((r) => r.op === 'identity_rolled_back');
    expect(rolledBack).toHaveLength(BUDGET);
    expect(rows.filter((r) => r.op === 'identity_throttled')).toHaveLength(2);
    for (const row of rows.filter((r) => r.op.startsWith('identity_'))) {
      expect(row).toMatchObject({ clientId: 'probe-client', collection: 'officers', regionCode: region, callerRegion: region, recordId: null });
      expect(row.requestId).toBeTruthy();
      expect(JSON.stringify(row)).not.toContain(stored.id);
    }
  });

  it('audits an identity conflict durably, without naming the holder, also when its atomic batch rolls back', async () => {
    const holder = await put(ctx.app, 'org-units', '410105', 'IC-OU', anOrgUnit());
    const held = anOfficer({ orgUnitId: holder.id });
    const heldRecord = await put(ctx.app, 'officers', '410105', 'IC-HELD', held);

    const region = '410306';
    const unit = await put(ctx.app, 'org-units', region, 'IC-OU', anOrgUnit());
    const writer = await bearer({ region, scope: MASKED, sub: 'conflicting', clientId: 'conflict-client' });
    const single = await call('PUT', `/v1/officers/external/${region}/IC-1`, writer, { ...held, orgUnitId: unit.id });
    expect(single.statusCode).toBe(422);
    expect(single.body).not.toMatch(/410105|IC-HELD/);
    expect(single.body).not.toContain(heldRecord.id);
    const batch = await call('POST', '/v1/batch', writer, {
      atomic: true,
      operations: [{ op: 'upsert', collection: 'officers', regionCode: region, externalId: 'IC-2', data: { ...held, orgUnitId: unit.id } }],
    });
    expect(problemOf(batch)).toMatchObject({ code: 'batch_rolled_back', failedIndex: 0 });

    const rows = await auditEntries(ctx.app, await bearer({ region, scope: 'audit:read' }), { op: 'identity_conflict', sub: 'conflicting' });
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toMatchObject({ collection: 'officers', regionCode: region, clientId: 'conflict-client', recordId: null });
      expect(JSON.stringify(row)).not.toMatch(/410105/);
    }
    // Auditors of the holder's region do not see the attempt (it is not about their record).
    const theirs = await auditEntries(ctx.app, await bearer({ region: '410105', scope: 'audit:read' }), { op: 'identity_conflict' });
    expect(theirs).toEqual([]);
  });
});

describe('records outside the caller’s regions', () => {
  // A district (410108) and its city (410100): the city bureau's records are foreign to the district.
  const district = '410108';
  const city = '410100';

  async function cityAndDistrict(key: string) {
    const cityUnit = await put(ctx.app, 'org-units', city, `${key}-CITY`, anOrgUnit({ level: 'city' }));
    const cityHeaders = await bearer({ region: city });
    const res = await call('PUT', `/v1/org-units/external/${district}/${key}-D`, cityHeaders, anOrgUnit({ level: 'county', name: '惠济区大队', parentId: cityUnit.id }));
    expect(res.statusCode).toBe(201);
    return { cityUnit, districtUnit: res.json<RecordJson>() };
  }

  it('are not in embedded summaries: an officer lists only credentials of the caller’s regions', async () => {
    const unit = await put(ctx.app, 'org-units', district, 'SC-OU', anOrgUnit());
    const officer = await put(ctx.app, 'officers', district, 'SC-1', anOfficer({ orgUnitId: unit.id }));
    // The city records a credential for the district's officer.
    await put(ctx.app, 'credentials', city, 'SC-HIDDEN', aCredential({ officerId: officer.id, credentialNumber: 'ZZ-HIDDEN-1' }));
    const mine = await call('GET', `/v1/officers/${officer.id}`, await bearer({ region: district }));
    expect(mine.json()['summary']).toMatchObject({ credentials: [], holdsValidCredential: false });
    expect(mine.body).not.toContain('ZZ-HIDDEN-1');
    const listed = await call('GET', `/v1/officers?externalId=SC-1`, await bearer({ region: district }));
    expect(listed.body).not.toContain('ZZ-HIDDEN-1');
    // Nor does the credential filter count it (it did: the district found its officer among the holders).
    const holders = await call('GET', `/v1/officers?externalId=SC-1&holdsValidCredential=true`, await bearer({ region: district }));
    expect(holders.json<{ items: unknown[] }>().items).toHaveLength(0);
    const cityHolders = await call('GET', `/v1/officers?externalId=SC-1&holdsValidCredential=true`, await bearer({ region: city }));
    expect(cityHolders.json<{ items: unknown[] }>().items).toHaveLength(1);
    // Nor the district's statistics (its credential-holder count moved with the city's credential).
    const year = Number(today().slice(0, 4));
    const quarter = Math.floor((Number(today().slice(5, 7)) - 1) / 3) + 1;
    const holdersSeenBy = async (region: string) => {
      const res = await call('GET', `/v1/stats/quarterly?year=${year}&quarter=${quarter}&regionCode=${district}`, await bearer({ region }));
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ total: { people: { credentialHolders: number } } }>().total.people.credentialHolders;
    };
    expect(await holdersSeenBy(district)).toBe(0);
    expect(await holdersSeenBy(city)).toBe(1);
    const theirs = await call('GET', `/v1/officers/${officer.id}`, await bearer({ region: city }));
    expect(theirs.json()['summary']).toMatchObject({ credentials: [expect.objectContaining({ credentialNumber: 'ZZ-HIDDEN-1' })], holdsValidCredential: true });
    // The tag follows what each caller is shown.
    expect(mine.headers['etag']).not.toBe(theirs.headers['etag']);
  });

  it('show their id but not their key as a reference (read, list, feed)', async () => {
    const districtHeaders = await bearer({ region: district });
    const after = await feedHead(ctx.app, districtHeaders);
    const { cityUnit, districtUnit } = await cityAndDistrict('RK');
    const read = (await call('GET', `/v1/org-units/${districtUnit.id}`, districtHeaders)).json<RecordJson>();
    expect(read).toMatchObject({ parentId: cityUnit.id, parentExternalId: null });
    const listed = (await call('GET', `/v1/org-units?externalId=RK-D`, districtHeaders)).json().items[0];
    expect(listed).toMatchObject({ parentId: cityUnit.id, parentExternalId: null });
    const { items } = await drainFeed(ctx.app, districtHeaders, { after, collections: 'org-units' });
    const mine = items.filter((c) => c.id === districtUnit.id);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.record).toMatchObject({ parentId: cityUnit.id, parentExternalId: null });
    // The city sees its own key everywhere.
    const cityHeaders = await bearer({ region: city });
    expect((await call('GET', `/v1/org-units/${districtUnit.id}`, cityHeaders)).json()['parentExternalId']).toBe('RK-CITY');
    const { items: cityItems } = await drainFeed(ctx.app, cityHeaders, { after, collections: 'org-units' });
    expect(cityItems.find((c) => c.id === districtUnit.id)?.record?.['parentExternalId']).toBe('RK-CITY');
  });

  it('are named in no rule or conflict message', async () => {
    const unit = await put(ctx.app, 'org-units', district, 'MS-OU', anOrgUnit());
    const officer = await put(ctx.app, 'officers', district, 'MS-1', anOfficer({ orgUnitId: unit.id }));
    await put(ctx.app, 'credentials', city, 'MS-HIDDEN', aCredential({ officerId: officer.id, kind: 'supervision', credentialNumber: 'ZZ-HIDDEN-2' }));
    const headers = await bearer({ region: district });
    const overlap = await call('PUT', `/v1/credentials/external/${district}/MS-C1`, headers, aCredential({ officerId: officer.id, kind: 'supervision' }));
    expect(problemOf(overlap).code).toBe('rule_violation');
    expect(overlap.body).not.toMatch(/ZZ-HIDDEN-2|MS-HIDDEN|410100/);
    const sameNumber = await call('PUT', `/v1/credentials/external/${district}/MS-C2`, headers, aCredential({ officerId: officer.id, credentialNumber: 'ZZ-HIDDEN-2' }));
    expect(problemOf(sameNumber).code).toBe('rule_violation');
    expect(sameNumber.body).not.toMatch(/MS-HIDDEN|410100|another credential|that record/);
    // A holder in the caller's regions is named, so the operator can act.
    await put(ctx.app, 'credentials', district, 'MS-OWN', aCredential({ officerId: officer.id, kind: 'enforcement', credentialNumber: 'ZZ-OWN-1' }));
    const own = await call('PUT', `/v1/credentials/external/${district}/MS-C3`, headers, aCredential({ officerId: officer.id, credentialNumber: 'ZZ-OWN-1', status: 'revoked' }));
    expect(problemOf(own).detail).toContain('MS-OWN');
  });

  it('do not show through still_referenced: referrers elsewhere get a neutral refusal', async () => {
    const unit = await put(ctx.app, 'org-units', district, 'SR-OU', anOrgUnit());
    // The city places one of its officers in the district's unit.
    await put(ctx.app, 'officers', city, 'SR-CITY-OFFICER', anOfficer({ orgUnitId: unit.id }));
    const res = await call('DELETE', `/v1/org-units/${unit.id}`, await bearer({ region: district }));
    expect(res.statusCode).toBe(409);
    const problem = problemOf(res);
    expect(problem.code).toBe('still_referenced');
    expect(problem.detail).not.toMatch(/officers|orgUnitId|410100/);
    // The city, which covers the referrer, is told which collection.
    const cityRes = await call('DELETE', `/v1/org-units/${unit.id}`, await bearer({ region: city }));
    expect(problemOf(cityRes).detail).toContain('officers');
  });
});

describe('own records referring outside the caller’s regions', () => {
  it('can be patched and re-upserted as read, but not re-pointed to a record the caller cannot see', async () => {
    const city = '410100';
    const district = '410122';
    const cityUnit = await put(ctx.app, 'org-units', city, 'OWN-CITY', anOrgUnit({ level: 'city' }));
    const otherCityUnit = await put(ctx.app, 'org-units', city, 'OWN-CITY-2', anOrgUnit({ level: 'city' }));
    const created = await call('PUT', `/v1/org-units/external/${district}/OWN-D`, await bearer({ region: city }), anOrgUnit({ level: 'county', parentId: cityUnit.id }));
    expect(created.statusCode).toBe(201);
    const id = created.json<RecordJson>().id;
    const headers = await bearer({ region: district });

    const patched = await call('PATCH', `/v1/org-units/${id}`, headers, { name: '中牟县城市管理执法大队' });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ name: '中牟县城市管理执法大队', parentId: cityUnit.id, parentExternalId: null, version: 2 });

    const read = (await call('GET', `/v1/org-units/${id}`, headers)).json<RecordJson>();
    const again = await call('PUT', `/v1/org-units/external/${district}/OWN-D`, headers, read);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()['version']).toBe(2);
    const renamed = await call('PUT', `/v1/org-units/external/${district}/OWN-D`, headers, { ...read, name: '中牟县大队' });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json()['version']).toBe(3);
    const viaBatch = await call('POST', '/v1/batch', headers, {
      atomic: true,
      operations: [{ op: 'upsert', collection: 'org-units', regionCode: district, externalId: 'OWN-D', data: { ...read, name: '中牟县执法大队' } }],
    });
    expect(viaBatch.statusCode, viaBatch.body).toBe(200);

    for (const change of [{ parentId: otherCityUnit.id }, { parentExternalId: 'OWN-CITY-2' }]) {
      const res = await call('PATCH', `/v1/org-units/${id}`, headers, change);
      expect(problemOf(res).code).toBe('reference_not_found');
    }
    const repointed = await call('PUT', `/v1/org-units/external/${district}/OWN-D`, headers, { ...read, parentId: otherCityUnit.id });
    expect(problemOf(repointed).code).toBe('reference_not_found');
  });
});
