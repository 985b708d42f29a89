import { describe, expect, it } from 'vitest';
import { openTransaction, someoneWaitsOnALock } from '../support/concurrency.js';
import { bearer, isPostgres, useTestApp } from '../support/context.js';
import { daysFromToday, put, seedOfficer, today } from '../support/people-fixtures.js';

const ctx = useTestApp();

// Each test works in its own region code.

interface PostStatusBody {
  officerId?: string;
  officerExternalId?: string;
  status: string;
  post?: string | null;
  gridCode?: string | null;
  effectiveFrom: string;
}

const aPostStatus = (overrides: Partial<PostStatusBody>): PostStatusBody => ({
  status: 'on_duty',
  post: '巡查岗',
  gridCode: '410102-001-02',
  effectiveFrom: today(),
  ...overrides,
});

async function post(region: string, body: PostStatusBody) {
  return ctx.app.inject({ method: 'POST', url: '/v1/post-statuses', headers: await bearer({ region }), payload: { regionCode: region, ...body } });
}

async function readOfficer(region: string, id: string) {
  const res = await ctx.app.inject({ method: 'GET', url: `/v1/officers/${id}`, headers: await bearer({ region }) });
  expect(res.statusCode, res.body).toBe(200);
  return { etag: res.headers['etag'], summary: res.json().summary as { currentPostStatus: { id: string; status: string } | null } };
}

function expect持证上岗(res: { statusCode: number; json(): { code: string; detail: string; errors: { path: string }[] } }, officer: { id: string }) {
  expect(res.statusCode).toBe(422);
  const problem = res.json();
  expect(problem.code).toBe('rule_violation');
  expect(problem.detail).toContain('持证上岗');
  expect(problem.detail).toContain(officer.id);
}

describe('post statuses: 持证上岗', () => {
  it('accepts on_duty for an active officer holding a valid enforcement credential that day', async () => {
    const { officer } = await seedOfficer(ctx.app, '410102', 'PS1');
    const res = await post('410102', aPostStatus({ officerExternalId: 'PS1' }));
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ officerId: officer.id, officerExternalId: 'PS1', status: 'on_duty', post: '巡查岗' });
  });

  it('refuses on_duty without a credential, naming the rule and the officer; other statuses need none', async () => {
    const { officer } = await seedOfficer(ctx.app, '410103', 'PS2', { credential: false });
    expect持证上岗(await post('410103', aPostStatus({ officerId: officer.id })), officer);
    for (const status of ['off_duty', 'on_leave', 'training', 'suspended', 'seconded']) {
      const res = await post('410103', aPostStatus({ officerId: officer.id, status, effectiveFrom: daysFromToday(-['off_duty', 'on_leave', 'training', 'suspended', 'seconded'].indexOf(status)) }));
      expect(res.statusCode, `${status}: ${res.body}`).toBe(201);
    }
  });

  it('judges the credential on effectiveFrom: not yet issued, expired, suspended, or a supervision credential do not count', async () => {
    const { officer } = await seedOfficer(ctx.app, '410104', 'PS3', {
      credential: { issuedOn: daysFromToday(-100), expiresOn: daysFromToday(100) },
    });
    expect持证上岗(await post('410104', aPostStatus({ officerId: officer.id, effectiveFrom: daysFromToday(-101) })), officer);
    expect持证上岗(await post('410104', aPostStatus({ officerId: officer.id, effectiveFrom: daysFromToday(101) })), officer);
    expect((await post('410104', aPostStatus({ officerId: officer.id, effectiveFrom: daysFromToday(100) }))).statusCode).toBe(201);

    const other = await seedOfficer(ctx.app, '410104', 'PS3b', { credential: { kind: 'supervision' } });
    expect持证上岗(await post('410104', aPostStatus({ officerId: other.officer.id })), other.officer);
    const suspended = await seedOfficer(ctx.app, '410104', 'PS3c', { credential: { status: 'suspended' } });
    expect持证上岗(await post('410104', aPostStatus({ officerId: suspended.officer.id })), suspended.officer);
  });

  it('refuses on_duty for an officer who is not active, even with a credential', async () => {
    const { officer } = await seedOfficer(ctx.app, '410105', 'PS4', { officer: { employmentStatus: 'transferred' } });
    const res = await post('410105', aPostStatus({ officerId: officer.id }));
    expect持证上岗(res, officer);
    expect(res.json().detail).toContain('transferred');
  });

  it('checks the rule on PUT, PATCH, upsert and in a batch', async () => {
    const region = '410106';
    const headers = await bearer({ region });
    const { officer } = await seedOfficer(ctx.app, region, 'PS5', { credential: false });
    const leave = await put(ctx.app, 'post-statuses', region, 'PS5-1', aPostStatus({ officerId: officer.id, status: 'on_leave' }));
    const patch = await ctx.app.inject({ method: 'PATCH', url: `/v1/post-statuses/${leave.id}`, headers, payload: { status: 'on_duty' } });
    expect持证上岗(patch, officer);
    const replace = await ctx.app.inject({
      method: 'PUT',
      url: `/v1/post-statuses/${leave.id}`,
      headers,
      payload: { regionCode: region, ...aPostStatus({ officerId: officer.id }) },
    });
    expect持证上岗(replace, officer);
    const upsert = await ctx.app.inject({
      method: 'PUT',
      url: `/v1/post-statuses/external/${region}/PS5-2`,
      headers,
      payload: aPostStatus({ officerId: officer.id, effectiveFrom: daysFromToday(1) }),
    });
    expect持证上岗(upsert, officer);

    const batch = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers,
      payload: {
        operations: [
          { op: 'upsert', collection: 'post-statuses', regionCode: region, externalId: 'PS5-3', data: aPostStatus({ officerExternalId: 'PS5', effectiveFrom: daysFromToday(2) }) },
          // A credential created earlier in the same batch counts.
          {
            op: 'upsert',
            collection: 'credentials',
            regionCode: region,
            externalId: 'PS5-C',
            data: { officerExternalId: 'PS5', credentialNumber: 'PS5-豫执-1', kind: 'enforcement', issuingAuthority: '河南省人民政府', issuedOn: daysFromToday(-10), expiresOn: daysFromToday(1000), status: 'valid' },
          },
          { op: 'upsert', collection: 'post-statuses', regionCode: region, externalId: 'PS5-4', data: aPostStatus({ officerExternalId: 'PS5', effectiveFrom: daysFromToday(3) }) },
        ],
      },
    });
    expect(batch.statusCode, batch.body).toBe(200);
    const results = batch.json().results;
    expect(results.map((r: { status: number }) => r.status)).toEqual([422, 201, 201]);
    expect(results[0].error).toMatchObject({ code: 'rule_violation', errors: [{ path: '/operations/0/data/status' }] });
  });

  it('keeps one status per officer and day, at /effectiveFrom', async () => {
    const { officer } = await seedOfficer(ctx.app, '410107', 'PS6');
    expect((await post('410107', aPostStatus({ officerId: officer.id }))).statusCode).toBe(201);
    const again = await post('410107', aPostStatus({ officerId: officer.id, status: 'off_duty' }));
    expect(again.statusCode).toBe(422);
    expect(again.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: '/effectiveFrom' }] });
  });

  it('refuses an unknown status code at /status', async () => {
    const { officer } = await seedOfficer(ctx.app, '410108', 'PS7');
    const res = await post('410108', aPostStatus({ officerId: officer.id, status: 'patrolling' }));
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].path).toBe('/status');
  });
});

describe('post statuses: the officer summary', () => {
  it('embeds the latest status in effect today, ignores future ones, and follows changes', async () => {
    const region = '410109';
    const { officer } = await seedOfficer(ctx.app, region, 'SUM1');
    const headers = await bearer({ region });
    expect((await readOfficer(region, officer.id)).summary.currentPostStatus).toBeNull();
    const before = await readOfficer(region, officer.id);

    const older = await put(ctx.app, 'post-statuses', region, 'S-1', aPostStatus({ officerId: officer.id, status: 'training', effectiveFrom: daysFromToday(-20) }));
    const current = await put(ctx.app, 'post-statuses', region, 'S-2', aPostStatus({ officerId: officer.id, effectiveFrom: daysFromToday(-2) }));
    await put(ctx.app, 'post-statuses', region, 'S-3', aPostStatus({ officerId: officer.id, status: 'on_leave', effectiveFrom: daysFromToday(5) }));
    const after = await readOfficer(region, officer.id);
    expect(after.summary.currentPostStatus).toEqual({
      id: current.id,
      status: 'on_duty',
      post: '巡查岗',
      gridCode: '410102-001-02',
      effectiveFrom: daysFromToday(-2),
    });
    // The representation changed (its summary), so its ETag did too, though the record's version did not.
    expect(after.etag).not.toBe(before.etag);

    // Deleting the current one brings the older back; a list computes it for every officer of the page.
    const del = await ctx.app.inject({ method: 'DELETE', url: `/v1/post-statuses/${current.id}`, headers });
    expect(del.statusCode).toBe(204);
    const list = await ctx.app.inject({ method: 'GET', url: `/v1/officers?regionCode=${region}`, headers });
    const items = list.json().items as { id: string; summary: { currentPostStatus: { id: string } | null } }[];
    expect(items.find((o) => o.id === officer.id)?.summary.currentPostStatus?.id).toBe(older.id);
  });

  it('leaves out a status recorded in a region the reader does not cover', async () => {
    const { officer } = await seedOfficer(ctx.app, '410110', 'SUM2');
    // A city token may record the district officer's status under the city's region code.
    const city = await ctx.app.inject({
      method: 'POST',
      url: '/v1/post-statuses',
      headers: await bearer({ region: '410100' }),
      payload: { regionCode: '410100', ...aPostStatus({ officerId: officer.id }) },
    });
    expect(city.statusCode, city.body).toBe(201);
    expect((await readOfficer('410100', officer.id)).summary.currentPostStatus?.id).toBe(city.json().id);
    expect((await readOfficer('410110', officer.id)).summary.currentPostStatus).toBeNull();
  });

  it('filters by officer and status, and hides other regions’ statuses', async () => {
    const region = '410111';
    const a = await seedOfficer(ctx.app, region, 'F1');
    const b = await seedOfficer(ctx.app, region, 'F2', { credential: false });
    await put(ctx.app, 'post-statuses', region, 'F1-1', aPostStatus({ officerId: a.officer.id }));
    await put(ctx.app, 'post-statuses', region, 'F2-1', aPostStatus({ officerId: b.officer.id, status: 'off_duty' }));
    const ids = async (query: string, token = region) => {
      const res = await ctx.app.inject({ method: 'GET', url: `/v1/post-statuses?${query}`, headers: await bearer({ region: token }) });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().items.map((s: { externalId: string }) => s.externalId).sort();
    };
    expect(await ids(`officerId=${a.officer.id}`)).toEqual(['F1-1']);
    expect(await ids(`regionCode=${region}&status=off_duty`)).toEqual(['F2-1']);
    expect(await ids(`officerId=${a.officer.id}`, '410200')).toEqual([]);
  });
});

describe.skipIf(!isPostgres())('post statuses: 持证上岗 under a concurrent revocation (PostgreSQL)', () => {
  it('an on_duty write that meets an uncommitted revocation waits for it and is refused once it commits', async () => {
    const region = '410112';
    for (let trial = 0; trial < 3; trial++) {
      const key = `RACE-${trial}`;
      const { officer, credential } = await seedOfficer(ctx.app, region, key);
      const revoke = await openTransaction(ctx.url!, [
        { text: `update credentials set status = 'revoked', version = version + 1 where id = $1`, values: [credential!.id] },
      ]);
      const pending = post(region, aPostStatus({ officerId: officer.id }));
      await someoneWaitsOnALock(ctx.url!);
      await revoke.commit();
      const res = await pending;
      expect(res.statusCode, `trial ${trial}: ${res.body}`).toBe(422);
      expect(res.json().detail).toContain('持证上岗');
    }
  });

  it('a revocation that meets an uncommitted on_duty write waits for it', async () => {
    const region = '410113';
    const { officer, credential } = await seedOfficer(ctx.app, region, 'RACE2');
    // Hold what the rule holds: the credential row FOR SHARE, inside an open transaction.
    const reader = await openTransaction(ctx.url!, [{ text: 'select id from credentials where id = $1 for share', values: [credential!.id] }]);
    const revoke = ctx.app.inject({
      method: 'PATCH',
      url: `/v1/credentials/${credential!.id}`,
      headers: await bearer({ region }),
      payload: { status: 'revoked' },
    });
    expect(await someoneWaitsOnALock(ctx.url!)).toBe(true);
    await reader.commit();
    expect((await revoke).statusCode).toBe(200);
    expect持证上岗(await post(region, aPostStatus({ officerId: officer.id })), officer);
  });
});
