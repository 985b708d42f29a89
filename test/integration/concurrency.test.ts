/**
 * Rules that must hold between concurrent transactions (DESIGN §6 "Rules hold under concurrency"). Each test
 * runs real parallel transactions on PostgreSQL (requests interleave on the app's connection pool) and
 * repeats them: a rule that is only checked with a SELECT passes some trials and fails others.
 */
import { describe, expect, it } from 'vitest';
import { bearer, isPostgres, useTestApp } from '../support/context.js';
import { drainFeed, problemOf, type BatchResultJson } from '../support/fixtures.js';
import { aCredential, anIdentity, anOfficer, anOrgUnit, put } from '../support/people-fixtures.js';

// The races here refuse many writes of one client on purpose: the identity throttle is not under test.
const ctx = useTestApp({ IDENTITY_PROBE_BUDGET_PER_MINUTE: 100_000 });
const TRIALS = 25;

async function countActiveOfficersWithHash(idCardNumber: string): Promise<number> {
  const res = await ctx.app.inject({
    method: 'GET',
    url: `/v1/officers?idCardNumber=${idCardNumber}&employmentStatus=active`,
    headers: await bearer({ region: '410000' }),
  });
  expect(res.statusCode).toBe(200);
  return res.json<{ items: unknown[] }>().items.length;
}

describe.skipIf(!isPostgres())('uniqueness between concurrent writers', () => {
  it('two clients creating active officers with one ID number: exactly one succeeds, every trial', async () => {
    const region = '411101';
    const headers = { ...(await bearer({ region })), 'content-type': 'application/json' };
    const unit = await put(ctx.app, 'org-units', region, 'U', anOrgUnit());
    let bothSucceeded = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const identity = anIdentity();
      const body = (n: number) => anOfficer({ ...identity, orgUnitId: unit.id, badgeNumber: null, phone: null, name: `并发${n}` });
      const [a, b] = await Promise.all(
        [1, 2].map((n) =>
          ctx.app.inject({ method: 'PUT', url: `/v1/officers/external/${region}/T${trial}-${n}`, headers, payload: body(n) }),
        ),
      );
      const statuses = [a!.statusCode, b!.statusCode].sort();
      if (statuses[0] === 201 && statuses[1] === 201) bothSucceeded++;
      expect(statuses).toEqual([201, 422]);
      const refused = [a!, b!].find((r) => r.statusCode === 422)!;
      expect(problemOf(refused)).toMatchObject({ code: 'rule_violation', errors: [{ path: '/idCardNumber' }] });
      expect(await countActiveOfficersWithHash(identity.idCardNumber)).toBe(1);
    }
    expect(bothSucceeded).toBe(0);
  });

  it('the same race through single-operation batches: exactly one active officer every trial', async () => {
    const region = '411102';
    const headers = await bearer({ region });
    const unit = await put(ctx.app, 'org-units', region, 'U', anOrgUnit());
    for (let trial = 0; trial < TRIALS; trial++) {
      const identity = anIdentity();
      const results = await Promise.all(
        [1, 2].map(async (n) => {
          const res = await ctx.app.inject({
            method: 'POST',
            url: '/v1/batch',
            headers,
            payload: {
              operations: [
                {
                  op: 'upsert',
                  collection: 'officers',
                  regionCode: region,
                  externalId: `B${trial}-${n}`,
                  data: anOfficer({ ...identity, orgUnitId: unit.id, badgeNumber: null, phone: null }),
                },
              ],
            },
          });
          expect(res.statusCode).toBe(200);
          return res.json<{ results: BatchResultJson[] }>().results[0]!;
        }),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 422]);
      expect(results.find((r) => r.status === 422)!.error).toMatchObject({ code: 'rule_violation' });
      expect(await countActiveOfficersWithHash(identity.idCardNumber)).toBe(1);
    }
  });

  it('two valid enforcement credentials of one kind for one officer at once: exactly one is accepted', async () => {
    const region = '411103';
    const headers = { ...(await bearer({ region })), 'content-type': 'application/json' };
    const unit = await put(ctx.app, 'org-units', region, 'U', anOrgUnit());
    for (let trial = 0; trial < TRIALS; trial++) {
      const officer = await put(ctx.app, 'officers', region, `O${trial}`, anOfficer({ orgUnitId: unit.id }));
      const responses = await Promise.all(
        [1, 2].map((n) =>
          ctx.app.inject({
            method: 'PUT',
            url: `/v1/credentials/external/${region}/C${trial}-${n}`,
            headers,
            payload: aCredential({ officerId: officer.id }),
          }),
        ),
      );
      expect(responses.map((r) => r.statusCode).sort()).toEqual([201, 422]);
      const refused = responses.find((r) => r.statusCode === 422)!;
      expect(problemOf(refused)).toMatchObject({ code: 'rule_violation', errors: [{ path: '/status' }] });
    }
  });

  it('concurrent PUTs of one new external key give one 201 and 200s, never a 409', async () => {
    const region = '411104';
    const headers = { ...(await bearer({ region })), 'content-type': 'application/json' };
    for (let trial = 0; trial < 10; trial++) {
      const responses = await Promise.all(
        Array.from({ length: 20 }, () =>
          ctx.app.inject({ method: 'PUT', url: `/v1/org-units/external/${region}/K${trial}`, headers, payload: anOrgUnit() }),
        ),
      );
      const statuses = responses.map((r) => r.statusCode);
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 200)).toHaveLength(19);
      // The same body everywhere: one version, one record.
      expect(new Set(responses.map((r) => r.json<{ id: string }>().id)).size).toBe(1);
      expect(new Set(responses.map((r) => r.json<{ version: number }>().version))).toEqual(new Set([1]));
    }
  });

  it('concurrent PUTs re-creating a deleted key give one 201 and 200s, at a version above the deleted record’s', async () => {
    const region = '411107';
    const headers = { ...(await bearer({ region })), 'content-type': 'application/json' };
    for (let trial = 0; trial < 10; trial++) {
      const url = `/v1/org-units/external/${region}/K${trial}`;
      await put(ctx.app, 'org-units', region, `K${trial}`, anOrgUnit({ name: '旧中队' }));
      expect((await ctx.app.inject({ method: 'DELETE', url, headers: await bearer({ region }) })).statusCode).toBe(204);
      const responses = await Promise.all(Array.from({ length: 20 }, () => ctx.app.inject({ method: 'PUT', url, headers, payload: anOrgUnit() })));
      const statuses = responses.map((r) => r.statusCode);
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 200)).toHaveLength(19);
      expect(new Set(responses.map((r) => r.json<{ id: string }>().id)).size).toBe(1);
      // The deleted record held 1 and 2 (its tombstone): the new one starts at 3.
      expect(new Set(responses.map((r) => r.json<{ version: number }>().version))).toEqual(new Set([3]));
    }
  });
});

describe.skipIf(!isPostgres())('references between concurrent writers', () => {
  it('creating an officer in a unit while another request deletes the unit never leaves a live officer on a tombstone', async () => {
    const region = '411105';
    const plain = await bearer({ region });
    const headers = { ...plain, 'content-type': 'application/json' };
    for (let trial = 0; trial < TRIALS; trial++) {
      const unit = await put(ctx.app, 'org-units', region, `U${trial}`, anOrgUnit());
      const [create, remove] = await Promise.all([
        ctx.app.inject({
          method: 'PUT',
          url: `/v1/officers/external/${region}/O${trial}`,
          headers,
          payload: anOfficer({ orgUnitId: unit.id }),
        }),
        ctx.app.inject({ method: 'DELETE', url: `/v1/org-units/${unit.id}`, headers: plain }),
      ]);
      // One of the two wins: either the unit is gone and the officer refused, or the officer exists and the delete refused.
      const outcome = `${create.statusCode}/${remove.statusCode}`;
      expect(['201/409', '422/204']).toContain(outcome);
      const unitNow = await ctx.app.inject({ method: 'GET', url: `/v1/org-units/${unit.id}`, headers });
      const officerNow = await ctx.app.inject({ method: 'GET', url: `/v1/officers/external/${region}/O${trial}`, headers });
      expect(officerNow.statusCode === 200 ? unitNow.statusCode : 200).toBe(200);
    }
  });
});

describe.skipIf(!isPostgres())('org-unit regions between concurrent writers', () => {
  // Each write alone is valid; together they would leave a child in a region its parent does not cover.
  const province = () => bearer({ region: '410000' });
  const covering = (parent: string, child: string) => child.startsWith(parent.endsWith('0000') ? parent.slice(0, 2) : parent.endsWith('00') ? parent.slice(0, 4) : parent);
  const regionOf = async (id: string) =>
    (await ctx.app.inject({ method: 'GET', url: `/v1/org-units/${id}`, headers: await province() })).json<{ regionCode: string }>().regionCode;

  it('a child created under a unit while the unit moves away: never both, every trial (PUT and batch)', async () => {
    const city = await bearer({ region: '410100' });
    const headers = { ...city, 'content-type': 'application/json' };
    for (let trial = 0; trial < TRIALS; trial++) {
      const parent = await put(ctx.app, 'org-units', '410100', `RA-P${trial}`, anOrgUnit());
      const child = { name: '二七区某中队', level: 'street', parentId: parent.id };
      // Odd trials create the child through a batch: the same rule, the same lock, in a batch's run.
      const create =
        trial % 2 === 0
          ? ctx.app.inject({ method: 'PUT', url: `/v1/org-units/external/410103/RA-C${trial}`, headers, payload: child })
          : ctx.app.inject({
              method: 'POST',
              url: '/v1/batch',
              headers,
              payload: { operations: [{ op: 'upsert', collection: 'org-units', regionCode: '410103', externalId: `RA-C${trial}`, data: child }] },
            });
      const move = ctx.app.inject({
        method: 'PATCH',
        url: `/v1/org-units/${parent.id}`,
        headers: { ...city, 'content-type': 'application/merge-patch+json' },
        payload: { regionCode: '410102', level: 'county' },
      });
      const [created, moved] = await Promise.all([create, move]);
      const createdStatus = trial % 2 === 0 ? created.statusCode : created.json<{ results: BatchResultJson[] }>().results[0]!.status;
      const outcome = `${createdStatus}/${moved.statusCode}`;
      expect(['201/422', '422/200']).toContain(outcome);
      const childNow = await ctx.app.inject({ method: 'GET', url: `/v1/org-units/external/410103/RA-C${trial}`, headers: city });
      if (childNow.statusCode === 200) expect(covering(await regionOf(parent.id), '410103')).toBe(true);
    }
  });

  it('a child moving while its parent moves: the two never both land, every trial', async () => {
    const city = await bearer({ region: '410100' });
    const patch = { ...city, 'content-type': 'application/merge-patch+json' };
    for (let trial = 0; trial < TRIALS; trial++) {
      const parent = await put(ctx.app, 'org-units', '410100', `RB-P${trial}`, anOrgUnit());
      const created = await ctx.app.inject({
        method: 'PUT',
        url: `/v1/org-units/external/410102/RB-C${trial}`,
        headers: { ...city, 'content-type': 'application/json' },
        payload: anOrgUnit({ level: 'street', parentId: parent.id }),
      });
      expect(created.statusCode).toBe(201);
      const child = created.json<{ id: string }>();
      // Alone, each is fine: the parent to the child's district, or the child to another district of the city.
      const [parentMove, childMove] = await Promise.all([
        ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${parent.id}`, headers: patch, payload: { regionCode: '410102', level: 'county' } }),
        ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${child.id}`, headers: patch, payload: { regionCode: '410103' } }),
      ]);
      expect(['200/422', '422/200']).toContain(`${parentMove.statusCode}/${childMove.statusCode}`);
      const [p, c] = [await regionOf(parent.id), await regionOf(child.id)];
      expect(covering(p, c), `parent in ${p}, child in ${c}`).toBe(true);
    }
  });
});

describe('org-unit hierarchy', () => {
  it('refuses a cycle of any depth (a chain of 13, then the first unit under the last)', async () => {
    const region = '411106';
    const headers = { ...(await bearer({ region })), 'content-type': 'application/json' };
    const chain: { id: string }[] = [];
    for (let i = 0; i < 13; i++) {
      chain.push(await put(ctx.app, 'org-units', region, `C${i}`, { ...anOrgUnit(), ...(i > 0 ? { parentId: chain[i - 1]!.id } : {}) }));
    }
    const res = await ctx.app.inject({
      method: 'PATCH',
      url: `/v1/org-units/${chain[0]!.id}`,
      headers: { ...headers, 'content-type': 'application/merge-patch+json' },
      payload: { parentId: chain[12]!.id },
    });
    expect(res.statusCode).toBe(422);
    expect(problemOf(res)).toMatchObject({ code: 'rule_violation', errors: [{ path: '/parentId' }] });
  });
});

describe('region moves in the change feed', () => {
  it("a record moved from 410102 to 410103 leaves the old district's feed; the city sees one upsert", async () => {
    const city = await bearer({ region: '411200' });
    const oldDistrict = await bearer({ region: '411202' });
    const newDistrict = await bearer({ region: '411203' });
    const heads = await Promise.all([city, oldDistrict, newDistrict].map(async (h) => (await drainFeed(ctx.app, h)).cursor));
    const unit = await put(ctx.app, 'org-units', '411202', 'MOVER', anOrgUnit({ level: 'street' }));
    const moved = await ctx.app.inject({
      method: 'PATCH',
      url: `/v1/org-units/${unit.id}`,
      headers: { ...city, 'content-type': 'application/merge-patch+json' },
      payload: { regionCode: '411203' },
    });
    expect(moved.statusCode).toBe(200);

    const [cityFeed = [], oldFeed = [], newFeed = []] = await Promise.all(
      [city, oldDistrict, newDistrict].map(async (h, i) => (await drainFeed(ctx.app, h, { after: heads[i] })).items.filter((c) => c.id === unit.id)),
    );
    // The old district: created, then removed from its view (a delete entry saying the record moved out).
    expect(oldFeed.map((c) => [c.op, c.version, c.regionCode])).toEqual([
      ['upsert', 1, '411202'],
      ['delete', 2, '411202'],
    ]);
    expect(oldFeed[1]).toMatchObject({ movedOut: true, record: null });
    // The new district sees the record arrive; the city, covering both, sees two upserts and no delete.
    expect(newFeed.map((c) => [c.op, c.version, c.regionCode])).toEqual([['upsert', 2, '411203']]);
    expect(cityFeed.map((c) => [c.op, c.version])).toEqual([
      ['upsert', 1],
      ['upsert', 2],
    ]);
    expect(cityFeed.every((c) => !c.movedOut)).toBe(true);

    // The old district's auditors see the move too; the new district's see the update.
    const audit = async (headers: Record<string, string>) => {
      const res = await ctx.app.inject({ method: 'GET', url: `/v1/audit?recordId=${unit.id}`, headers });
      expect(res.statusCode).toBe(200);
      return res.json<{ items: { op: string; version: number; regionCode: string; movedFrom: string | null }[] }>().items;
    };
    expect((await audit(oldDistrict)).map((a) => [a.op, a.version, a.regionCode, a.movedFrom])).toEqual([
      ['update', 2, '411203', '411202'],
      ['create', 1, '411202', null],
    ]);
    expect((await audit(newDistrict)).map((a) => [a.op, a.version])).toEqual([['update', 2]]);

    // Deleting it later reaches the new region's readers only; the old district already dropped it.
    const removed = await ctx.app.inject({ method: 'DELETE', url: `/v1/org-units/${unit.id}`, headers: city });
    expect(removed.statusCode).toBe(204);
    const after = await drainFeed(ctx.app, oldDistrict, { after: heads[1] });
    expect(after.items.filter((c) => c.id === unit.id)).toHaveLength(2);
  });
});

describe.skipIf(!isPostgres())('deadlocks between batches', () => {
  it('two batches locking two items in opposite orders are retried, never answered as a failed operation', async () => {
    const region = '410118';
    const unit = await put(ctx.app, 'org-units', region, 'DL-OU', anOrgUnit());
    const officer = await put(ctx.app, 'officers', region, 'DL-O', anOfficer({ orgUnitId: unit.id }));
    const items = await Promise.all(
      ['DL-E1', 'DL-E2'].map((key, i) =>
        put(ctx.app, 'equipment', region, key, { category: 'radio', model: 'R0', serialNumber: `DLSN${i}`, status: 'in_service', orgUnitId: unit.id }),
      ),
    );
    const headers = await bearer({ region });
    // Each changes one item (its write lock), then allocates the other (a share lock on it): crossed, they deadlock.
    const batch = (mine: number, atomic: boolean, n: number) => ({
      atomic,
      operations: [
        {
          op: 'upsert',
          collection: 'equipment',
          regionCode: region,
          externalId: `DL-E${mine + 1}`,
          data: { category: 'radio', model: `R${n}`, serialNumber: `DLSN${mine}`, status: 'in_service', orgUnitId: unit.id },
        },
        {
          op: 'upsert',
          collection: 'equipment-allocations',
          regionCode: region,
          externalId: `DL-A${mine}-${n}`,
          data: { equipmentId: items[1 - mine]!.id, holderType: 'officer', holderId: officer.id, allocatedOn: '2020-01-01', returnedOn: '2020-01-02' },
        },
      ],
    });
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, n) =>
        ctx.app.inject({ method: 'POST', url: '/v1/batch', headers, payload: batch(n % 2, n % 4 < 2, n) }),
      ),
    );
    for (const res of answers) {
      if (res.statusCode === 503) {
        // Still colliding after the retries: the client is told when to come back.
        expect(res.headers['retry-after'], res.body).toBeDefined();
        continue;
      }
      expect(res.statusCode, res.body).toBe(200);
      for (const result of res.json<{ results: BatchResultJson[] }>().results) expect(result.status, JSON.stringify(result)).toBeLessThan(300);
    }
  });
});
