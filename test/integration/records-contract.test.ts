/**
 * The record conventions of DESIGN §3, written once over a list of collections. A case names a
 * collection, how to make a valid body for record n of a region, a field that may change freely and
 * (when the collection has one) an optional field that a merge patch can remove. Add a case when a
 * collection joins the registry.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { collectionRegistry } from '../../src/collections/index.js';
import { addDays } from '../../src/domain/dates.js';
import { aCase } from '../support/case-fixtures.js';
import { makeIdCardNumber } from '../../src/domain/id-card.js';
import { bearer, useTestApp } from '../support/context.js';
import {
  aCreditCode,
  anOrgUnit,
  drainFeed,
  feedHead,
  givenOrgUnit,
  problemOf,
  type BatchResultJson,
  type Headers,
  type RecordJson,
} from '../support/fixtures.js';
import { aCredential, anOfficer } from '../support/people-fixtures.js';

/** `"<version>"`, or `"<version>-<hash>"` for a record that embeds derived fields or referenced keys. */
const tagOfVersion = (version: number) => expect.stringMatching(new RegExp(`^"${version}(-[A-Za-z0-9_-]+)?"$`));

const ctx = useTestApp();
const registry = collectionRegistry();

interface ContractCase {
  collection: string;
  /** Region codes used by this case are `${regionPrefix}NN`; distinct per case. */
  regionPrefix: string;
  /**
   * A valid POST body for record number n of a region, with an `externalId`. Deterministic: the same
   * (regionCode, n) gives an equal body. It may reference records that `setup` made in that region; its
   * first key other than regionCode and externalId must be a required field that is not a reference.
   */
  makeBody(regionCode: string, n: number): Record<string, unknown>;
  /** A field any record may change to `value(n)`. */
  changeField: { field: string; value(n: number): unknown };
  /** An optional field and a valid value for it: a merge patch with null must remove it. Absent when the collection has none. */
  optionalField?: { field: string; value(regionCode: string, n: number): unknown };
  /** A scope the case's tokens carry besides records:read records:write (e.g. pii:read, so personal fields read back unmasked). */
  extraScope?: string;
  /** Makes, in every region code the case uses, the records its bodies reference (runs once, before the case's tests). */
  setup?(app: App, regionCode: string): Promise<void>;
}

/** A province-level token for the cases' setup: it covers every region code below. */
const provinceToken = () => bearer({ region: '410000', scope: 'records:read records:write' });

/** Upserts by key with the province token; throws on a non-2xx answer. */
async function given(app: App, collection: string, regionCode: string, externalId: string, body: object) {
  const res = await app.inject({
    method: 'PUT',
    url: `/v1/${collection}/external/${regionCode}/${externalId}`,
    headers: await provinceToken(),
    payload: body,
  });
  if (res.statusCode >= 300) throw new Error(`setup: PUT ${collection} ${regionCode}/${externalId} answered ${res.statusCode}: ${res.body}`);
  return res.json<RecordJson>();
}

/**
 * An active male officer body that depends only on (regionCode, n): its ID number is made from the region
 * code, so it is unique among active officers of every region (the rule spans regions).
 */
function officerBody(regionCode: string, n: number, birthDate: string) {
  const nnnn = String(n).padStart(4, '0');
  return {
    ...anOfficer({
      name: `张伟${n}`,
      gender: '1',
      idCardNumber: makeIdCardNumber({ addressCode: regionCode, birthDate, sequence: 2 * n + 1 }),
      birthDate,
      phone: `139${regionCode.slice(2)}${nnnn}`,
      badgeNumber: `${regionCode}${nnnn}`,
      orgUnitExternalId: 'OU',
    }),
  };
}

const cases: ContractCase[] = [
  {
    collection: 'org-units',
    regionPrefix: '4111',
    makeBody: (regionCode, n) => anOrgUnit({ regionCode, externalId: `OU-${n}`, name: `执法中队 ${n}`, level: 'street' }),
    changeField: { field: 'name', value: (n) => `执法中队 ${n}（更名）` },
    optionalField: { field: 'unifiedSocialCreditCode', value: (regionCode, n) => aCreditCode(regionCode, 1000 + n) },
  },
  {
    collection: 'officers',
    regionPrefix: '4114',
    // Every body names the unit `OU` of its own region, made by setup.
    makeBody: (regionCode, n) => ({ ...officerBody(regionCode, n, '1985-03-15'), regionCode, externalId: `OF-${n}` }),
    changeField: { field: 'position', value: (n) => `副中队长 ${n}` },
    // A personal field: removing it must clear its ciphertext and blind index alike.
    optionalField: { field: 'phone', value: (regionCode, n) => `138${regionCode.slice(2)}${String(n).padStart(4, '0')}` },
    // Without pii:read the ID number and phone read back masked, and a body would not match its record.
    extraScope: 'pii:read',
    async setup(app, regionCode) {
      await given(app, 'org-units', regionCode, 'OU', anOrgUnit({ regionCode, level: 'county' }));
    },
  },
  {
    collection: 'credentials',
    regionPrefix: '4115',
    // Revoked credentials are history: the "one valid credential of a kind per officer" rule leaves them
    // alone, so every record of a region can name the same holder. Fixed dates keep the body deterministic.
    makeBody: (regionCode, n) => ({
      ...aCredential({
        credentialNumber: `豫执${regionCode}${String(n).padStart(4, '0')}`,
        issuedOn: '2023-01-01',
        expiresOn: '2028-12-31',
        status: 'revoked',
        officerExternalId: 'HOLDER',
      }),
      regionCode,
      externalId: `CR-${n}`,
    }),
    changeField: { field: 'issuingAuthority', value: (n) => `河南省人民政府（第 ${n} 次更正）` },
    // Every field of a credential is required: no optional field to remove.
    async setup(app, regionCode) {
      await given(app, 'org-units', regionCode, 'OU', anOrgUnit({ regionCode, level: 'county' }));
      await given(app, 'officers', regionCode, 'HOLDER', officerBody(regionCode, 1, '1980-06-01'));
    },
  },
  {
    collection: 'post-statuses',
    regionPrefix: '4116',
    // off_duty needs no credential; one status per officer and day, so each n has its own day.
    makeBody: (regionCode, n) => ({
      status: 'off_duty',
      effectiveFrom: addDays('2024-01-01', n),
      post: `巡查岗 ${n}`,
      officerExternalId: 'HOLDER',
      regionCode,
      externalId: `PS-${n}`,
    }),
    changeField: { field: 'post', value: (n) => `窗口岗 ${n}` },
    optionalField: { field: 'gridCode', value: (regionCode, n) => `${regionCode}-G${n}` },
    async setup(app, regionCode) {
      await given(app, 'org-units', regionCode, 'OU', anOrgUnit({ regionCode, level: 'county' }));
      await given(app, 'officers', regionCode, 'HOLDER', officerBody(regionCode, 1, '1980-06-01'));
    },
  },
  {
    collection: 'equipment',
    regionPrefix: '4117',
    makeBody: (regionCode, n) => ({
      category: 'radio',
      model: 'PD-680',
      serialNumber: `R${regionCode}${String(n).padStart(4, '0')}`,
      status: 'in_service',
      orgUnitExternalId: 'OU',
      regionCode,
      externalId: `EQ-${n}`,
    }),
    changeField: { field: 'model', value: (n) => `PD-680 第${n}批` },
    async setup(app, regionCode) {
      await given(app, 'org-units', regionCode, 'OU', anOrgUnit({ regionCode, level: 'county' }));
    },
  },
  {
    collection: 'equipment-allocations',
    regionPrefix: '4118',
    // Returned allocations are history: many of them may name the same item.
    makeBody: (regionCode, n) => ({
      holderType: 'officer',
      allocatedOn: addDays('2023-01-01', n),
      returnedOn: '2024-02-01',
      equipmentExternalId: 'EQ',
      holderExternalId: 'HOLDER',
      regionCode,
      externalId: `AL-${n}`,
    }),
    changeField: { field: 'returnedOn', value: (n) => addDays('2024-03-01', n) },
    async setup(app, regionCode) {
      await given(app, 'org-units', regionCode, 'OU', anOrgUnit({ regionCode, level: 'county' }));
      await given(app, 'officers', regionCode, 'HOLDER', officerBody(regionCode, 1, '1980-06-01'));
      await given(app, 'equipment', regionCode, 'EQ', {
        category: 'body_camera',
        model: 'DSJ-T8',
        serialNumber: `BC${regionCode}`,
        status: 'in_service',
        orgUnitExternalId: 'OU',
      });
    },
  },
  {
    collection: 'assistants',
    regionPrefix: '4119',
    makeBody: (regionCode, n) => ({
      name: `李协管${n}`,
      gender: '1',
      idCardNumber: makeIdCardNumber({ addressCode: regionCode, birthDate: '1992-05-05', sequence: 2 * n + 1 }),
      birthDate: '1992-05-05',
      admittedOn: '2023-03-01',
      status: 'active',
      duties: ['patrol', 'publicity'],
      orgUnitExternalId: 'OU',
      supervisingOfficerExternalId: 'SUP',
      regionCode,
      externalId: `AS-${n}`,
    }),
    changeField: { field: 'duties', value: (n) => (n % 2 === 0 ? ['dissuasion'] : ['information_collection', 'patrol']) },
    optionalField: { field: 'phone', value: (regionCode, n) => `137${regionCode.slice(2)}${String(n).padStart(4, '0')}` },
    extraScope: 'pii:read',
    async setup(app, regionCode) {
      await given(app, 'org-units', regionCode, 'OU', anOrgUnit({ regionCode, level: 'county' }));
      await given(app, 'officers', regionCode, 'SUP', officerBody(regionCode, 1, '1980-06-01'));
    },
  },
  {
    collection: 'trainings',
    regionPrefix: '4120',
    makeBody: (regionCode, n) => ({
      personType: 'officer',
      kind: 'annual',
      title: `${2020 + n}年度城市管理执法业务培训`,
      organizer: '郑州市城市管理局',
      startedOn: '2024-05-06',
      endedOn: '2024-05-10',
      hours: 32,
      personExternalId: 'HOLDER',
      regionCode,
      externalId: `TR-${n}`,
    }),
    changeField: { field: 'hours', value: (n) => 8 + n / 2 },
    optionalField: { field: 'passed', value: () => true },
    async setup(app, regionCode) {
      await given(app, 'org-units', regionCode, 'OU', anOrgUnit({ regionCode, level: 'county' }));
      await given(app, 'officers', regionCode, 'HOLDER', officerBody(regionCode, 1, '1980-06-01'));
    },
  },
  {
    collection: 'assessments',
    regionPrefix: '4121',
    // One assessment per assistant and period: each n is its own year.
    makeBody: (regionCode, n) => ({
      period: String(2000 + n),
      result: 'competent',
      assistantExternalId: 'ASSIST',
      regionCode,
      externalId: `AM-${n}`,
    }),
    changeField: { field: 'result', value: (n) => (n % 2 === 0 ? 'excellent' : 'basically_competent') },
    optionalField: { field: 'note', value: (_regionCode, n) => `第${n}次复核` },
    async setup(app, regionCode) {
      await given(app, 'org-units', regionCode, 'OU', anOrgUnit({ regionCode, level: 'county' }));
      await given(app, 'officers', regionCode, 'SUP', officerBody(regionCode, 1, '1980-06-01'));
      await given(app, 'assistants', regionCode, 'ASSIST', {
        name: '赵协管',
        gender: '2',
        idCardNumber: makeIdCardNumber({ addressCode: regionCode, birthDate: '1993-07-07', sequence: 2 }),
        birthDate: '1993-07-07',
        admittedOn: '2022-01-01',
        status: 'active',
        duties: ['publicity'],
        orgUnitExternalId: 'OU',
        supervisingOfficerExternalId: 'SUP',
      });
    },
  },
  {
    collection: 'cases',
    regionPrefix: '4122',
    // Two handlers with credentials valid on the fixed filedOn, made by setup.
    makeBody: (regionCode, n) => ({
      ...aCase({
        caseNumber: `豫城管罚字〔2025〕${regionCode}第${String(n).padStart(4, '0')}号`,
        filedOn: '2025-03-01',
        orgUnitExternalId: 'OU',
        handlingOfficerExternalIds: ['HA', 'HB'],
      }),
      regionCode,
      externalId: `CASE-${n}`,
    }),
    changeField: { field: 'title', value: (n) => `擅自占道经营（第 ${n} 次更正）` },
    optionalField: { field: 'transferredTo', value: () => '公安机关' },
    async setup(app, regionCode) {
      await given(app, 'org-units', regionCode, 'OU', anOrgUnit({ regionCode, level: 'county' }));
      for (const [n, key] of [[1, 'HA'], [2, 'HB']] as const) {
        await given(app, 'officers', regionCode, key, officerBody(regionCode, n, `198${n}-06-01`));
        await given(app, 'credentials', regionCode, `${key}-C`, {
          ...aCredential({ credentialNumber: `豫执${regionCode}${key}`, issuedOn: '2024-01-01', expiresOn: '2030-12-31', officerExternalId: key }),
        });
      }
    },
  },
];

/** The highest `region(n)` the suite below uses; setup runs for `${prefix}00` … this. */
const HIGHEST_REGION = 19;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

async function create(app: App, headers: Headers, collection: string, body: Record<string, unknown>) {
  const res = await app.inject({ method: 'POST', url: `/v1/${collection}`, headers, payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<RecordJson>();
}

describe.each(cases)('record conventions: $collection', (c) => {
  const base = `/v1/${c.collection}`;
  const region = (nn: number) => `${c.regionPrefix}${String(nn).padStart(2, '0')}`;
  const scope = ['records:read records:write', c.extraScope].filter(Boolean).join(' ');
  /** A county-level token: it covers its own region only, so each test sees only its own records. */
  const tokenFor = (regionCode: string) => bearer({ region: regionCode, scope });
  const externalUrl = (regionCode: string, key: string) => `${base}/external/${regionCode}/${key}`;

  beforeAll(async () => {
    if (!c.setup) return;
    for (let nn = 0; nn <= HIGHEST_REGION; nn++) await c.setup(ctx.app, region(nn));
  });

  it('POST creates: 201 with Location, ETag "1" and the full record', async () => {
    const r = region(1);
    const headers = await tokenFor(r);
    const body = c.makeBody(r, 1);
    const res = await ctx.app.inject({ method: 'POST', url: base, headers, payload: body });
    expect(res.statusCode, res.body).toBe(201);
    const record = res.json<RecordJson>();
    expect(record.id).toMatch(UUID);
    expect(res.headers['location']).toBe(`${base}/${record.id}`);
    expect(res.headers['etag']).toEqual(tagOfVersion(1));
    expect(record).toMatchObject({ ...body, version: 1 });
    expect(record.createdAt).toMatch(RFC3339);
    expect(record.updatedAt).toMatch(RFC3339);

    const followed = await ctx.app.inject({ method: 'GET', url: String(res.headers['location']), headers });
    expect(followed.statusCode).toBe(200);
    expect(followed.json()).toEqual(record);
  });

  it('each feed entry is the record as read right after that version, by a masked reader and by a pii:read reader', async () => {
    const r = region(17);
    const headers = await tokenFor(r);
    // The masked reader gets the view kept with the entry; the pii:read reader's entry is rendered afresh.
    const readers = { masked: await bearer({ region: r, scope: 'records:read' }), full: await bearer({ region: r, scope: 'records:read pii:read' }) };
    const computed = Object.keys(registry.get(c.collection)?.computed?.shape ?? {});
    const heads = { masked: await feedHead(ctx.app, readers.masked), full: await feedHead(ctx.app, readers.full) };
    const asOf: Record<keyof typeof readers, RecordJson[]> = { masked: [], full: [] };
    const remember = async (id: string) => {
      for (const who of ['masked', 'full'] as const) {
        const read = (await ctx.app.inject({ method: 'GET', url: `${base}/${id}`, headers: readers[who] })).json<RecordJson>();
        // Fields computed at read time (an officer's summary) are not part of a version.
        for (const key of computed) delete read[key];
        asOf[who].push(read);
      }
    };
    const record = await create(ctx.app, headers, c.collection, c.makeBody(r, 1));
    await remember(record.id);
    const patched = await ctx.app.inject({ method: 'PATCH', url: `${base}/${record.id}`, headers, payload: { [c.changeField.field]: c.changeField.value(2) } });
    expect(patched.statusCode, patched.body).toBe(200);
    await remember(record.id);
    for (const who of ['masked', 'full'] as const) {
      const { items } = await drainFeed(ctx.app, readers[who], { after: heads[who], collections: c.collection });
      expect(items.map((i) => i.version), who).toEqual([1, 2]);
      expect(items.map((i) => i.record), who).toEqual(asOf[who]);
    }
  });

  it('GET by id and by external key return the same record with its ETag; unknown ones are 404', async () => {
    const r = region(2);
    const headers = await tokenFor(r);
    const record = await create(ctx.app, headers, c.collection, c.makeBody(r, 1));
    const byId = await ctx.app.inject({ method: 'GET', url: `${base}/${record.id}`, headers });
    const byKey = await ctx.app.inject({ method: 'GET', url: externalUrl(r, String(record.externalId)), headers });
    for (const res of [byId, byKey]) {
      expect(res.statusCode).toBe(200);
      expect(res.headers['etag']).toEqual(tagOfVersion(1));
      expect(res.json()).toEqual(record);
    }
    const missingId = await ctx.app.inject({ method: 'GET', url: `${base}/00000000-0000-4000-8000-000000000000`, headers });
    expect(missingId.statusCode).toBe(404);
    expect(problemOf(missingId).code).toBe('not_found');
    const missingKey = await ctx.app.inject({ method: 'GET', url: externalUrl(r, 'NO-SUCH-KEY'), headers });
    expect(missingKey.statusCode).toBe(404);
    expect(problemOf(missingKey).code).toBe('not_found');
  });

  it('If-None-Match with the current ETag answers 304 without a body; any other answers 200', async () => {
    const r = region(3);
    const headers = await tokenFor(r);
    const record = await create(ctx.app, headers, c.collection, c.makeBody(r, 1));
    const current = String((await ctx.app.inject({ method: 'GET', url: `${base}/${record.id}`, headers })).headers['etag']);
    for (const url of [`${base}/${record.id}`, externalUrl(r, String(record.externalId))]) {
      for (const tag of [current, `W/${current}`, `"7", ${current}`, '*']) {
        const res = await ctx.app.inject({ method: 'GET', url, headers: { ...headers, 'if-none-match': tag } });
        expect(res.statusCode, `${url} ${tag}`).toBe(304);
        expect(res.body).toBe('');
        expect(res.headers['etag']).toBe(current);
      }
      const stale = await ctx.app.inject({ method: 'GET', url, headers: { ...headers, 'if-none-match': '"2"' } });
      expect(stale.statusCode).toBe(200);
      expect(stale.json()).toEqual(record);
    }
    // After a change the old tag no longer matches.
    await ctx.app.inject({
      method: 'PATCH',
      url: `${base}/${record.id}`,
      headers,
      payload: { [c.changeField.field]: c.changeField.value(1) },
    });
    const after = await ctx.app.inject({ method: 'GET', url: `${base}/${record.id}`, headers: { ...headers, 'if-none-match': current } });
    expect(after.statusCode).toBe(200);
    expect(after.headers['etag']).toEqual(tagOfVersion(2));
  });

  it('PUT replaces: a stale If-Match is 412 version_conflict and changes nothing; the current one gives version+1', async () => {
    const r = region(4);
    const headers = await tokenFor(r);
    const record = await create(ctx.app, headers, c.collection, c.makeBody(r, 1));
    const replacement = { ...c.makeBody(r, 1), [c.changeField.field]: c.changeField.value(1) };

    const stale = await ctx.app.inject({
      method: 'PUT',
      url: `${base}/${record.id}`,
      headers: { ...headers, 'if-match': '"5"' },
      payload: replacement,
    });
    expect(stale.statusCode).toBe(412);
    expect(problemOf(stale)).toMatchObject({ status: 412, code: 'version_conflict', currentVersion: 1 });
    const unchanged = await ctx.app.inject({ method: 'GET', url: `${base}/${record.id}`, headers });
    expect(unchanged.json()).toEqual(record);

    const ok = await ctx.app.inject({
      method: 'PUT',
      url: `${base}/${record.id}`,
      headers: { ...headers, 'if-match': '"1"' },
      payload: replacement,
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.headers['etag']).toEqual(tagOfVersion(2));
    expect(ok.json()).toMatchObject({ id: record.id, version: 2, [c.changeField.field]: c.changeField.value(1) });
    expect(ok.json<RecordJson>().createdAt).toBe(record.createdAt);

    // The tag that was current a moment ago is now stale.
    const again = await ctx.app.inject({
      method: 'PUT',
      url: `${base}/${record.id}`,
      headers: { ...headers, 'if-match': '"1"' },
      payload: c.makeBody(r, 1),
    });
    expect(again.statusCode).toBe(412);
    expect(problemOf(again).currentVersion).toBe(2);

    // Without If-Match the replace is unconditional.
    const blind = await ctx.app.inject({ method: 'PUT', url: `${base}/${record.id}`, headers, payload: c.makeBody(r, 1) });
    expect(blind.statusCode).toBe(200);
    expect(blind.json()).toMatchObject({ version: 3, [c.changeField.field]: c.makeBody(r, 1)[c.changeField.field] });
  });

  it.each(['application/merge-patch+json', 'application/json'])('PATCH as %s changes one field and keeps the others', async (contentType) => {
    const r = region(contentType === 'application/json' ? 6 : 5);
    const headers = await tokenFor(r);
    const optional = c.optionalField;
    const record = await create(ctx.app, headers, c.collection, {
      ...c.makeBody(r, 1),
      ...(optional ? { [optional.field]: optional.value(r, 1) } : {}),
    });

    const res = await ctx.app.inject({
      method: 'PATCH',
      url: `${base}/${record.id}`,
      headers: { ...headers, 'content-type': contentType, 'if-match': '"1"' },
      payload: JSON.stringify({ [c.changeField.field]: c.changeField.value(1) }),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['etag']).toEqual(tagOfVersion(2));
    const { updatedAt: _u1, ...expected } = { ...record, version: 2, [c.changeField.field]: c.changeField.value(1) };
    const { updatedAt: _u2, ...patched } = res.json<RecordJson>();
    expect(patched).toEqual(expected);

    const stale = await ctx.app.inject({
      method: 'PATCH',
      url: `${base}/${record.id}`,
      headers: { ...headers, 'content-type': contentType, 'if-match': '"1"' },
      payload: JSON.stringify({ [c.changeField.field]: c.changeField.value(2) }),
    });
    expect(stale.statusCode).toBe(412);
    expect(problemOf(stale).code).toBe('version_conflict');

    if (!optional) return; // the collection has no optional field to remove
    // null removes an optional field (RFC 7396).
    const removed = await ctx.app.inject({
      method: 'PATCH',
      url: `${base}/${record.id}`,
      headers: { ...headers, 'content-type': contentType },
      payload: JSON.stringify({ [optional.field]: null }),
    });
    expect(removed.statusCode, removed.body).toBe(200);
    expect(removed.json()).toMatchObject({ version: 3, [optional.field]: null, [c.changeField.field]: c.changeField.value(1) });
    const read = await ctx.app.inject({ method: 'GET', url: `${base}/${record.id}`, headers });
    expect(read.json()[optional.field]).toBeNull();
  });

  it('PATCH cannot make a record invalid, and an empty patch writes nothing', async () => {
    const r = region(7);
    const headers = await tokenFor(r);
    const record = await create(ctx.app, headers, c.collection, c.makeBody(r, 1));
    // Removing a required field fails validation at its path.
    const required = Object.keys(c.makeBody(r, 1)).find((k) => k !== 'regionCode' && k !== 'externalId' && k !== c.optionalField?.field);
    const bad = await ctx.app.inject({
      method: 'PATCH',
      url: `${base}/${record.id}`,
      headers: { ...headers, 'content-type': 'application/merge-patch+json' },
      payload: JSON.stringify({ [String(required)]: null }),
    });
    expect(bad.statusCode).toBe(400);
    expect(problemOf(bad).errors?.map((e) => e.path)).toContain(`/${required}`);
    const empty = await ctx.app.inject({
      method: 'PATCH',
      url: `${base}/${record.id}`,
      headers: { ...headers, 'content-type': 'application/merge-patch+json' },
      payload: '{}',
    });
    expect(empty.statusCode).toBe(200);
    expect(empty.json()).toEqual(record);
  });

  it('an unchanged upsert answers 200 with the same version and adds nothing to the change feed', async () => {
    const r = region(8);
    const headers = await tokenFor(r);
    const head = await feedHead(ctx.app, headers);
    const { regionCode: _r, externalId: _e, ...data } = c.makeBody(r, 1);
    const first = await ctx.app.inject({ method: 'PUT', url: externalUrl(r, 'UP-1'), headers, payload: data });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.headers['location']).toBe(`${base}/${first.json().id}`);
    const created = first.json<RecordJson>();
    expect(created).toMatchObject({ externalId: 'UP-1', regionCode: r, version: 1 });

    for (const payload of [data, { ...data, regionCode: r, externalId: 'UP-1' }]) {
      const again = await ctx.app.inject({ method: 'PUT', url: externalUrl(r, 'UP-1'), headers, payload });
      expect(again.statusCode).toBe(200);
      expect(again.headers['etag']).toEqual(tagOfVersion(1));
      expect(again.json()).toEqual(created);
    }
    // So does a PUT by id with the same content.
    const replaced = await ctx.app.inject({ method: 'PUT', url: `${base}/${created.id}`, headers, payload: { ...data, regionCode: r, externalId: 'UP-1' } });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toEqual(created);

    const changed = await ctx.app.inject({
      method: 'PUT',
      url: externalUrl(r, 'UP-1'),
      headers,
      payload: { ...data, [c.changeField.field]: c.changeField.value(1) },
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json().version).toBe(2);

    const { items } = await drainFeed(ctx.app, headers, { after: head, collections: c.collection });
    expect(items.map((i) => [i.id, i.op, i.version])).toEqual([
      [created.id, 'upsert', 1],
      [created.id, 'upsert', 2],
    ]);
  });

  it('the upsert refuses a body whose region or key disagrees with the path', async () => {
    const r = region(9);
    const headers = await tokenFor(r);
    const { regionCode: _r, externalId: _e, ...data } = c.makeBody(r, 1);
    const wrongKey = await ctx.app.inject({ method: 'PUT', url: externalUrl(r, 'K-1'), headers, payload: { ...data, externalId: 'K-2' } });
    expect(wrongKey.statusCode).toBe(400);
    expect(problemOf(wrongKey).errors).toEqual([expect.objectContaining({ path: '/externalId' })]);
    const wrongRegion = await ctx.app.inject({ method: 'PUT', url: externalUrl(r, 'K-1'), headers, payload: { ...data, regionCode: region(10) } });
    expect(wrongRegion.statusCode).toBe(400);
    expect(problemOf(wrongRegion).errors).toEqual([expect.objectContaining({ path: '/regionCode' })]);
    const none = await ctx.app.inject({ method: 'GET', url: externalUrl(r, 'K-1'), headers });
    expect(none.statusCode).toBe(404);
  });

  it('DELETE answers 204; the record is gone, the feed keeps a tombstone, and the key can be used again', async () => {
    const r = region(11);
    const headers = await tokenFor(r);
    const head = await feedHead(ctx.app, headers);
    const record = await create(ctx.app, headers, c.collection, c.makeBody(r, 1));

    const stale = await ctx.app.inject({ method: 'DELETE', url: `${base}/${record.id}`, headers: { ...headers, 'if-match': '"9"' } });
    expect(stale.statusCode).toBe(412);

    const del = await ctx.app.inject({ method: 'DELETE', url: `${base}/${record.id}`, headers });
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    for (const url of [`${base}/${record.id}`, externalUrl(r, String(record.externalId))]) {
      const res = await ctx.app.inject({ method: 'GET', url, headers });
      expect(res.statusCode, url).toBe(404);
      expect(problemOf(res).code).toBe('not_found');
    }
    const list = await ctx.app.inject({ method: 'GET', url: `${base}?regionCode=${r}`, headers });
    expect(list.json().items).toEqual([]);
    const twice = await ctx.app.inject({ method: 'DELETE', url: `${base}/${record.id}`, headers });
    expect(twice.statusCode).toBe(404);
    const patchGone = await ctx.app.inject({ method: 'PATCH', url: `${base}/${record.id}`, headers, payload: {} });
    expect(patchGone.statusCode).toBe(404);

    const { items } = await drainFeed(ctx.app, headers, { after: head, collections: c.collection });
    expect(items.map((i) => ({ id: i.id, op: i.op, version: i.version, record: i.record === null }))).toEqual([
      { id: record.id, op: 'upsert', version: 1, record: false },
      { id: record.id, op: 'delete', version: 2, record: true },
    ]);
    expect(items[1]).toMatchObject({ externalId: record.externalId, regionCode: r });

    const { regionCode: _r, externalId: _e, ...data } = c.makeBody(r, 1);
    const reborn = await ctx.app.inject({ method: 'PUT', url: externalUrl(r, String(record.externalId)), headers, payload: data });
    expect(reborn.statusCode, reborn.body).toBe(201);
    expect(reborn.json().id).not.toBe(record.id);
    // The key's versions go on from the tombstone's (docs/decisions.md, "Versions continue across a delete").
    expect(reborn.json().version).toBe(3);
    const byKey = await ctx.app.inject({ method: 'GET', url: externalUrl(r, String(record.externalId)), headers });
    expect(byKey.json().id).toBe(reborn.json().id);
  });

  it('a record re-created under a deleted key goes on from its versions: no tag of the deleted record earns a 304 or passes If-Match', async () => {
    const r = region(18);
    const headers = await tokenFor(r);
    const head = await feedHead(ctx.app, headers);
    const url = externalUrl(r, 'AGAIN');
    const { regionCode: _r, externalId: _e, ...data } = c.makeBody(r, 1);
    const changed = { ...data, [c.changeField.field]: c.changeField.value(1) };
    const first = await ctx.app.inject({ method: 'PUT', url, headers, payload: data });
    expect(first.statusCode, first.body).toBe(201);
    const second = await ctx.app.inject({ method: 'PUT', url, headers: { ...headers, 'if-match': String(first.headers['etag']) }, payload: changed });
    expect(second.statusCode, second.body).toBe(200);
    const oldTags = [String(first.headers['etag']), String(second.headers['etag'])];
    expect(oldTags).toEqual([tagOfVersion(1), tagOfVersion(2)]);
    expect((await ctx.app.inject({ method: 'DELETE', url, headers })).statusCode).toBe(204);

    // The key has no live record: an If-Match naming the deleted one's versions (3 is its tombstone's) creates nothing.
    for (const tag of ['"2"', '"3"', oldTags[1]!]) {
      const res = await ctx.app.inject({ method: 'PUT', url, headers: { ...headers, 'if-match': tag }, payload: data });
      expect(res.statusCode, tag).toBe(412);
      expect(problemOf(res).code).toBe('version_conflict');
    }
    expect((await ctx.app.inject({ method: 'GET', url, headers })).statusCode).toBe(404);

    const reborn = await ctx.app.inject({ method: 'PUT', url, headers, payload: data });
    expect(reborn.statusCode, reborn.body).toBe(201);
    const record = reborn.json<RecordJson>();
    expect(record.id).not.toBe(first.json<RecordJson>().id);
    expect(record.version).toBe(4);
    expect(reborn.headers['etag']).toEqual(tagOfVersion(4));

    // A cache holding the deleted record's tag gets the new record, not a 304.
    for (const tag of [...oldTags, '"3"']) {
      const res = await ctx.app.inject({ method: 'GET', url, headers: { ...headers, 'if-none-match': tag } });
      expect(res.statusCode, tag).toBe(200);
      expect(res.json<RecordJson>().id).toBe(record.id);
    }
    // A writer holding it is refused, and the new record is left as it was.
    for (const tag of oldTags) {
      const res = await ctx.app.inject({ method: 'PUT', url, headers: { ...headers, 'if-match': tag }, payload: changed });
      expect(res.statusCode, tag).toBe(412);
    }
    expect((await ctx.app.inject({ method: 'GET', url, headers })).json<RecordJson>().version).toBe(4);
    const current = await ctx.app.inject({ method: 'PUT', url, headers: { ...headers, 'if-match': String(reborn.headers['etag']) }, payload: changed });
    expect(current.statusCode, current.body).toBe(200);
    expect(current.json<RecordJson>().version).toBe(5);

    // POST with the key goes on from the tombstone too.
    expect((await ctx.app.inject({ method: 'DELETE', url, headers })).statusCode).toBe(204);
    const posted = await create(ctx.app, headers, c.collection, { ...c.makeBody(r, 1), externalId: 'AGAIN' });
    expect(posted.version).toBe(7);

    // The feed: each record's own versions, in order, never one number twice for the key.
    const { items } = await drainFeed(ctx.app, headers, { after: head, collections: c.collection });
    const ids = [first.json<RecordJson>().id, record.id, posted.id];
    expect(items.map((i) => [ids.indexOf(i.id), i.op, i.version])).toEqual([
      [0, 'upsert', 1],
      [0, 'upsert', 2],
      [0, 'delete', 3],
      [1, 'upsert', 4],
      [1, 'upsert', 5],
      [1, 'delete', 6],
      [2, 'upsert', 7],
    ]);
  });

  it('a batch upsert re-creating a deleted key goes on from its versions; a key never used starts at 1', async () => {
    const r = region(19);
    const headers = await tokenFor(r);
    const batch = async (operations: object[]) => {
      const res = await ctx.app.inject({ method: 'POST', url: '/v1/batch', headers, payload: { operations } });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ results: BatchResultJson[] }>().results;
    };
    const upsert = (externalId: string, n: number, ifMatch?: number) => ({
      op: 'upsert',
      collection: c.collection,
      regionCode: r,
      externalId,
      ...(ifMatch === undefined ? {} : { ifMatch }),
      data: { ...c.makeBody(r, n), externalId },
    });
    const made = await batch([upsert('B-1', 1)]);
    expect(made).toEqual([expect.objectContaining({ status: 201, version: 1 })]);
    const oldTag = String((await ctx.app.inject({ method: 'GET', url: externalUrl(r, 'B-1'), headers })).headers['etag']);
    const removed = await batch([{ op: 'delete', collection: c.collection, regionCode: r, externalId: 'B-1' }]);
    expect(removed).toEqual([expect.objectContaining({ status: 204, version: 2 })]);

    // One run: an If-Match naming the tombstone refused, a key never used and the deleted key created side by side.
    const results = await batch([upsert('B-1', 1, 2), upsert('B-2', 2), upsert('B-1', 1)]);
    expect(results.map((x) => [x.status, x.version ?? x.error?.code])).toEqual([
      [412, 'version_conflict'],
      [201, 1],
      [201, 3],
    ]);
    expect(results[2]!.id).not.toBe(made[0]!.id);
    const stale = await ctx.app.inject({ method: 'GET', url: externalUrl(r, 'B-1'), headers: { ...headers, 'if-none-match': oldTag } });
    expect(stale.statusCode).toBe(200);
    expect(stale.headers['etag']).toEqual(tagOfVersion(3));
    const refused = await batch([upsert('B-1', 2, 1)]);
    expect(refused).toEqual([expect.objectContaining({ status: 412 })]);
  });

  it('DELETE by external key works like DELETE by id', async () => {
    const r = region(12);
    const headers = await tokenFor(r);
    const record = await create(ctx.app, headers, c.collection, c.makeBody(r, 1));
    const res = await ctx.app.inject({ method: 'DELETE', url: externalUrl(r, String(record.externalId)), headers });
    expect(res.statusCode).toBe(204);
    expect((await ctx.app.inject({ method: 'GET', url: `${base}/${record.id}`, headers })).statusCode).toBe(404);
    expect((await ctx.app.inject({ method: 'DELETE', url: externalUrl(r, String(record.externalId)), headers })).statusCode).toBe(404);
  });

  it('lists with limit and nextCursor: every record exactly once, then nextCursor null', async () => {
    const r = region(13);
    const headers = await tokenFor(r);
    const ids = new Set<string>();
    for (let n = 1; n <= 7; n++) ids.add((await create(ctx.app, headers, c.collection, c.makeBody(r, n))).id);
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `${base}?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await ctx.app.inject({ method: 'GET', url, headers });
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json<{ items: RecordJson[]; nextCursor: string | null }>();
      pageSizes.push(page.items.length);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
    } while (cursor && pageSizes.length < 10);
    expect(pageSizes).toEqual([3, 3, 1]);
    expect(seen).toHaveLength(7);
    expect(new Set(seen)).toEqual(ids);

    const exact = await ctx.app.inject({ method: 'GET', url: `${base}?limit=7`, headers });
    expect(exact.json().items).toHaveLength(7);
    expect(exact.json().nextCursor).toBeNull();
    const third = String(c.makeBody(r, 3)['externalId']);
    const byKey = await ctx.app.inject({ method: 'GET', url: `${base}?externalId=${encodeURIComponent(third)}`, headers });
    expect(byKey.json().items.map((i: RecordJson) => i.externalId)).toEqual([third]);

    for (const limit of ['0', '501', 'x']) {
      const bad = await ctx.app.inject({ method: 'GET', url: `${base}?limit=${limit}`, headers });
      expect(bad.statusCode, limit).toBe(400);
      expect(problemOf(bad).errors?.[0]?.path).toBe('/limit');
    }
  });

  it('filters by regionCode within the caller’s coverage', async () => {
    const city = `${c.regionPrefix}00`;
    const [r1, r2] = [region(14), region(15)];
    const cityHeaders = await bearer({ region: city, scope });
    const a = await create(ctx.app, cityHeaders, c.collection, c.makeBody(r1, 1));
    const b = await create(ctx.app, cityHeaders, c.collection, c.makeBody(r2, 1));
    const only1 = await ctx.app.inject({ method: 'GET', url: `${base}?regionCode=${r1}`, headers: cityHeaders });
    expect(only1.json().items.map((i: RecordJson) => i.id)).toEqual([a.id]);
    const only2 = await ctx.app.inject({ method: 'GET', url: `${base}?regionCode=${r2}`, headers: cityHeaders });
    expect(only2.json().items.map((i: RecordJson) => i.id)).toEqual([b.id]);
    // A county token filtering for its city still sees only its county.
    const countyHeaders = await tokenFor(r1);
    const wider = await ctx.app.inject({ method: 'GET', url: `${base}?regionCode=${city}`, headers: countyHeaders });
    expect(wider.json().items.map((i: RecordJson) => i.id)).toEqual([a.id]);
    const bad = await ctx.app.inject({ method: 'GET', url: `${base}?regionCode=41`, headers: cityHeaders });
    expect(bad.statusCode).toBe(400);
  });

  it('filters by updatedAfter: only records changed after the instant', async () => {
    const r = region(16);
    const headers = await tokenFor(r);
    const a = await create(ctx.app, headers, c.collection, c.makeBody(r, 1));
    const b = await create(ctx.app, headers, c.collection, c.makeBody(r, 2));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const patched = await ctx.app.inject({
      method: 'PATCH',
      url: `${base}/${a.id}`,
      headers,
      payload: { [c.changeField.field]: c.changeField.value(1) },
    });
    const aNow = patched.json<RecordJson>();
    expect(Date.parse(aNow.updatedAt)).toBeGreaterThan(Date.parse(b.updatedAt));

    const list = async (after: string) => {
      const res = await ctx.app.inject({ method: 'GET', url: `${base}?updatedAfter=${encodeURIComponent(after)}`, headers });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ items: RecordJson[] }>().items.map((i) => i.id).sort();
    };
    expect(await list(new Date(Date.parse(a.createdAt) - 1000).toISOString())).toEqual([a.id, b.id].sort());
    expect(await list(b.updatedAt)).toEqual([a.id]);
    // An instant exactly as the API printed it is not "after" itself.
    expect(await list(aNow.updatedAt)).toEqual([]);
    // Offsets other than Z name the same instant.
    const shanghai = new Date(Date.parse(b.updatedAt) + 8 * 3600_000).toISOString().replace('Z', '+08:00');
    expect(await list(shanghai)).toEqual([a.id]);
    const bad = await ctx.app.inject({ method: 'GET', url: `${base}?updatedAfter=yesterday`, headers });
    expect(bad.statusCode).toBe(400);
  });
});

describe('org-units: level filter and references (DESIGN §3, §6)', () => {
  const tokenFor = (region: string) => bearer({ region, scope: 'records:read records:write' });

  it('filters by level', async () => {
    const r = '411201';
    const headers = await tokenFor(r);
    const county = await givenOrgUnit(ctx.app, headers, r, 'L-1', { level: 'county' });
    const street = await givenOrgUnit(ctx.app, headers, r, 'L-2', { level: 'street' });
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/org-units?level=street', headers });
    expect(res.json().items.map((i: RecordJson) => i.id)).toEqual([street.id]);
    const counties = await ctx.app.inject({ method: 'GET', url: '/v1/org-units?level=county', headers });
    expect(counties.json().items.map((i: RecordJson) => i.id)).toEqual([county.id]);
    const bad = await ctx.app.inject({ method: 'GET', url: '/v1/org-units?level=galaxy', headers });
    expect(bad.statusCode).toBe(400);
    expect(problemOf(bad).errors?.[0]).toMatchObject({ path: '/level', in: 'query' });
  });

  it('accepts a reference by externalId or by id and returns both', async () => {
    const city = '411200';
    const r = '411202';
    const headers = await tokenFor(city);
    const cityUnit = await givenOrgUnit(ctx.app, headers, city, 'CITY', { level: 'city' });
    const county = await givenOrgUnit(ctx.app, headers, r, 'COUNTY', { level: 'county', parentId: cityUnit.id });
    expect(county).toMatchObject({ parentId: cityUnit.id, parentExternalId: 'CITY' });

    const street = await givenOrgUnit(ctx.app, headers, r, 'STREET', { level: 'street', parentExternalId: 'COUNTY' });
    expect(street).toMatchObject({ parentId: county.id, parentExternalId: 'COUNTY' });
    const read = await ctx.app.inject({ method: 'GET', url: `/v1/org-units/${street.id}`, headers });
    expect(read.json()).toMatchObject({ parentId: county.id, parentExternalId: 'COUNTY' });

    // Both given and naming the same record is fine; naming different records is refused.
    const same = await ctx.app.inject({
      method: 'PUT',
      url: `/v1/org-units/external/${r}/STREET`,
      headers,
      payload: { name: '执法大队 STREET', level: 'street', parentId: county.id, parentExternalId: 'COUNTY' },
    });
    expect(same.statusCode).toBe(200);
    expect(same.json().version).toBe(1);
    const other = await givenOrgUnit(ctx.app, headers, r, 'COUNTY-2', { level: 'county', parentId: cityUnit.id });
    const clash = await ctx.app.inject({
      method: 'PUT',
      url: `/v1/org-units/external/${r}/STREET`,
      headers,
      payload: { name: '执法大队 STREET', level: 'street', parentId: other.id, parentExternalId: 'COUNTY' },
    });
    expect(clash.statusCode).toBe(422);
    expect(problemOf(clash)).toMatchObject({ code: 'rule_violation', errors: [expect.objectContaining({ path: '/parentExternalId' })] });

    // A merge patch can re-point the reference by key, and remove it with null.
    const repointed = await ctx.app.inject({
      method: 'PATCH',
      url: `/v1/org-units/${street.id}`,
      headers: { ...headers, 'content-type': 'application/merge-patch+json' },
      payload: JSON.stringify({ parentExternalId: 'COUNTY-2' }),
    });
    expect(repointed.statusCode, repointed.body).toBe(200);
    expect(repointed.json()).toMatchObject({ parentId: other.id, parentExternalId: 'COUNTY-2', version: 2 });
    const detached = await ctx.app.inject({
      method: 'PATCH',
      url: `/v1/org-units/${street.id}`,
      headers: { ...headers, 'content-type': 'application/merge-patch+json' },
      payload: JSON.stringify({ parentExternalId: null }),
    });
    expect(detached.json()).toMatchObject({ parentId: null, parentExternalId: null, version: 3 });

    const children = await ctx.app.inject({ method: 'GET', url: `/v1/org-units?parentId=${cityUnit.id}`, headers });
    expect(children.json().items.map((i: RecordJson) => i.externalId).sort()).toEqual(['COUNTY', 'COUNTY-2']);
  });

  it('refuses a reference that does not resolve, at the field that named it', async () => {
    const r = '411203';
    const headers = await tokenFor(r);
    const byKey = await ctx.app.inject({
      method: 'POST',
      url: '/v1/org-units',
      headers,
      payload: anOrgUnit({ regionCode: r, externalId: 'ORPHAN', parentExternalId: 'NOBODY' }),
    });
    expect(byKey.statusCode).toBe(422);
    expect(problemOf(byKey)).toMatchObject({ code: 'reference_not_found', errors: [expect.objectContaining({ path: '/parentExternalId' })] });
    const byId = await ctx.app.inject({
      method: 'POST',
      url: '/v1/org-units',
      headers,
      payload: anOrgUnit({ regionCode: r, externalId: 'ORPHAN', parentId: '00000000-0000-4000-8000-000000000000' }),
    });
    expect(byId.statusCode).toBe(422);
    expect(problemOf(byId)).toMatchObject({ code: 'reference_not_found', errors: [expect.objectContaining({ path: '/parentId' })] });
    expect((await ctx.app.inject({ method: 'GET', url: `/v1/org-units/external/${r}/ORPHAN`, headers })).statusCode).toBe(404);
  });

  it('refuses a reference to a record of a region the caller does not cover: 422 reference_not_found', async () => {
    const foreign = await givenOrgUnit(ctx.app, await tokenFor('411300'), '411300', 'NANYANG', { level: 'city' });
    const r = '411204';
    const headers = await tokenFor('411200');
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/org-units',
      headers,
      payload: anOrgUnit({ regionCode: r, externalId: 'X', parentId: foreign.id }),
    });
    expect(res.statusCode).toBe(422);
    expect(problemOf(res)).toMatchObject({ code: 'reference_not_found', errors: [expect.objectContaining({ path: '/parentId' })] });
    // The answer is the same as for an id that exists nowhere: nothing reveals the foreign record.
    expect(problemOf(res).detail).not.toMatch(/411300/);

    // A caller covering both regions finds the record, but a parent must cover its child's region.
    const province = await bearer({ region: '410000', scope: 'records:read records:write' });
    const misplaced = await ctx.app.inject({
      method: 'POST',
      url: '/v1/org-units',
      headers: province,
      payload: anOrgUnit({ regionCode: r, externalId: 'X', parentId: foreign.id }),
    });
    expect(misplaced.statusCode).toBe(422);
    expect(problemOf(misplaced)).toMatchObject({ code: 'rule_violation', errors: [expect.objectContaining({ path: '/parentId' })] });
  });

  it('refuses a unit as its own parent or ancestor', async () => {
    const r = '411205';
    const headers = await tokenFor(r);
    const top = await givenOrgUnit(ctx.app, headers, r, 'TOP', { level: 'county' });
    const mid = await givenOrgUnit(ctx.app, headers, r, 'MID', { level: 'street', parentExternalId: 'TOP' });
    const self = await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${top.id}`, headers, payload: { parentId: top.id } });
    expect(self.statusCode).toBe(422);
    expect(problemOf(self).code).toBe('rule_violation');
    const cycle = await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${top.id}`, headers, payload: { parentId: mid.id } });
    expect(cycle.statusCode).toBe(422);
    expect(problemOf(cycle).code).toBe('rule_violation');
    expect((await ctx.app.inject({ method: 'GET', url: `/v1/org-units/${top.id}`, headers })).json()).toMatchObject({ parentId: null, version: 1 });
  });

  it('refuses to delete a unit a live child still references (409 still_referenced), and allows it once the child is gone', async () => {
    const r = '411206';
    const headers = await tokenFor(r);
    const parent = await givenOrgUnit(ctx.app, headers, r, 'P', { level: 'county' });
    const child = await givenOrgUnit(ctx.app, headers, r, 'C', { level: 'street', parentExternalId: 'P' });
    for (const url of [`/v1/org-units/${parent.id}`, `/v1/org-units/external/${r}/P`]) {
      const res = await ctx.app.inject({ method: 'DELETE', url, headers });
      expect(res.statusCode).toBe(409);
      expect(problemOf(res).code).toBe('still_referenced');
    }
    expect((await ctx.app.inject({ method: 'GET', url: `/v1/org-units/${parent.id}`, headers })).json().version).toBe(1);
    expect((await ctx.app.inject({ method: 'DELETE', url: `/v1/org-units/${child.id}`, headers })).statusCode).toBe(204);
    expect((await ctx.app.inject({ method: 'DELETE', url: `/v1/org-units/${parent.id}`, headers })).statusCode).toBe(204);
  });
});
