import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { bearer, useTestApp } from '../support/context.js';

const ctx = useTestApp();

describe('org units', () => {
  it('upserts by external key: 201, then 200 with the same version for an unchanged body', async () => {
    const headers = await bearer({ region: '410100' });
    const body = { name: '郑州市城市管理局', level: 'city' };
    const first = await ctx.app.inject({ method: 'PUT', url: '/v1/org-units/external/410100/OU-1', headers, payload: body });
    expect(first.statusCode).toBe(201);
    expect(first.headers['etag']).toBe('"1"');
    expect(first.headers['location']).toBe(`/v1/org-units/${first.json().id}`);
    const again = await ctx.app.inject({ method: 'PUT', url: '/v1/org-units/external/410100/OU-1', headers, payload: body });
    expect(again.statusCode).toBe(200);
    expect(again.json().version).toBe(1);
    const changed = await ctx.app.inject({
      method: 'PUT',
      url: '/v1/org-units/external/410100/OU-1',
      headers,
      payload: { ...body, name: '郑州市城市管理局（新）' },
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json().version).toBe(2);
  });

  it('refuses a unified social credit code with a wrong check character, at its path', async () => {
    const headers = await bearer({ region: '410100' });
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/org-units',
      headers,
      payload: { regionCode: '410100', name: 'x', level: 'city', unifiedSocialCreditCode: '11410182005291054C' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: '/unifiedSocialCreditCode' }] });
  });
});

/**
 * A child's parent must be in a region covering the child's (the child-side rule refuses anything else at
 * /parentId). Moving the parent is held to the same relation: a new region that leaves out a live child is
 * refused at /regionCode, and a child outside the caller's regions is never named.
 */
describe('moving a parent unit to another region', () => {
  const json = (headers: Record<string, string>) => ({ ...headers, 'content-type': 'application/json' });
  const mergePatch = (headers: Record<string, string>) => ({ ...headers, 'content-type': 'application/merge-patch+json' });

  async function unit(headers: Record<string, string>, regionCode: string, externalId: string, body: Record<string, unknown> = {}) {
    const res = await ctx.app.inject({
      method: 'PUT',
      url: `/v1/org-units/external/${regionCode}/${externalId}`,
      headers: json(headers),
      payload: { name: `机构 ${externalId}`, level: 'county', ...body },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string; version: number } & Record<string, unknown>>();
  }

  const read = async (id: string) =>
    (await ctx.app.inject({ method: 'GET', url: `/v1/org-units/${id}`, headers: await bearer({ region: '410000' }) })).json<{
      regionCode: string;
      version: number;
    }>();

  it('refuses a city token moving a district unit away from its child (PATCH and PUT by id), at /regionCode, naming the child', async () => {
    const city = await bearer({ region: '410100' });
    const parent = await unit(city, '410102', 'MOVE-P');
    const child = await unit(city, '410102', 'MOVE-C', { level: 'street', parentId: parent.id });

    const patched = await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${parent.id}`, headers: mergePatch(city), payload: { regionCode: '410103' } });
    expect(patched.statusCode).toBe(422);
    const problem = patched.json<{ code: string; errors: { path: string; message: string }[] }>();
    expect(problem).toMatchObject({ code: 'rule_violation', errors: [{ path: '/regionCode' }] });
    expect(problem.errors[0]!.message).toContain('MOVE-C');
    expect(problem.errors[0]!.message).toContain('410102');

    const { id: _id, version: _version, createdAt: _c, updatedAt: _u, ...body } = parent;
    const replaced = await ctx.app.inject({ method: 'PUT', url: `/v1/org-units/${parent.id}`, headers: json(city), payload: { ...body, regionCode: '410103' } });
    expect(replaced.statusCode).toBe(422);
    expect(replaced.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: '/regionCode' }] });
    expect(await read(parent.id)).toMatchObject({ regionCode: '410102', version: 1 });
    expect(await read(child.id)).toMatchObject({ regionCode: '410102', version: 1 });
  });

  it('lets a parent move to a region that still covers its children, and ignores deleted children', async () => {
    const city = await bearer({ region: '410100' });
    const parent = await unit(city, '410104', 'KEEP-P');
    await unit(city, '410104', 'KEEP-C', { level: 'street', parentId: parent.id });
    // The district to its city: 410100 covers the child in 410104.
    const up = await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${parent.id}`, headers: mergePatch(city), payload: { regionCode: '410100', level: 'city' } });
    expect(up.statusCode, up.body).toBe(200);
    expect(up.json()).toMatchObject({ regionCode: '410100', version: 2 });
    // A unit whose only child is deleted moves anywhere the caller may write.
    const lone = await unit(city, '410105', 'LONE-P');
    const goneChild = await unit(city, '410105', 'LONE-C', { level: 'street', parentId: lone.id });
    expect((await ctx.app.inject({ method: 'DELETE', url: `/v1/org-units/${goneChild.id}`, headers: city })).statusCode).toBe(204);
    const moved = await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${lone.id}`, headers: mergePatch(city), payload: { regionCode: '410106' } });
    expect(moved.statusCode, moved.body).toBe(200);
  });

  it('refuses a province token moving a city unit to another city, and lets it move to the province', async () => {
    const province = await bearer({ region: '410000' });
    const parent = await unit(province, '410300', 'LY-P', { level: 'city' });
    await unit(province, '410302', 'LY-C1', { parentId: parent.id });
    await unit(province, '410303', 'LY-C2', { parentId: parent.id });
    const away = await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${parent.id}`, headers: mergePatch(province), payload: { regionCode: '410700' } });
    expect(away.statusCode).toBe(422);
    expect(away.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: '/regionCode', message: expect.stringMatching(/LY-C1|LY-C2/) }] });
    const up = await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${parent.id}`, headers: mergePatch(province), payload: { regionCode: '410000', level: 'province' } });
    expect(up.statusCode, up.body).toBe(200);
    // And back down to its own city: both children are in it.
    const back = await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${parent.id}`, headers: mergePatch(province), payload: { regionCode: '410300' } });
    expect(back.statusCode, back.body).toBe(200);
  });

  it('never names a child outside the caller\'s regions; a district token editing such a parent in place is untouched', async () => {
    const province = await bearer({ region: '410000' });
    const city = await bearer({ region: '410100' });
    const district = await bearer({ region: '410108' });
    // A Kaifeng child under a Kaifeng city unit; the parent then lands in a Zhengzhou district by hand, as data
    // written before this rule could: the child is now invisible to Zhengzhou callers.
    const parent = await unit(province, '410200', 'KF-P', { level: 'city' });
    const child = await unit(province, '410202', 'KF-SECRET', { name: '开封某机构', level: 'street', parentId: parent.id });
    await ctx.database.db.execute(sql`update org_units set region_code = '410108' where id = ${parent.id}`);

    const res = await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${parent.id}`, headers: mergePatch(city), payload: { regionCode: '410122' } });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: '/regionCode' }] });
    for (const secret of ['KF-SECRET', '410202', child.id, '开封某机构', '4102']) expect(res.body).not.toContain(secret);

    // The province sees the child, so its refusal names it.
    const named = await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${parent.id}`, headers: mergePatch(province), payload: { regionCode: '410122' } });
    expect(named.statusCode).toBe(422);
    expect(named.json<{ errors: { message: string }[] }>().errors[0]!.message).toContain('KF-SECRET');

    // The rule looks at moves only: the district owning the parent may still rename it.
    const renamed = await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${parent.id}`, headers: mergePatch(district), payload: { name: '惠济区大队' } });
    expect(renamed.statusCode, renamed.body).toBe(200);
    // …and a move that covers the child again is what mends it.
    const mended = await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${parent.id}`, headers: mergePatch(province), payload: { regionCode: '410000' } });
    expect(mended.statusCode, mended.body).toBe(200);
  });

  it('a district token cannot move a unit out of its region, nor can a batch, whose key holds the region', async () => {
    const district = await bearer({ region: '410181' });
    const parent = await unit(district, '410181', 'GY-P');
    const child = await unit(district, '410181', 'GY-C', { level: 'street', parentExternalId: 'GY-P' });
    expect(child.parentId).toBe(parent.id);
    // A district token may only write its own region: a move is refused before any rule.
    const move = await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${parent.id}`, headers: mergePatch(district), payload: { regionCode: '410182' } });
    expect(move.statusCode).toBe(403);
    // A batch upserts by key, and the key holds the region: a different regionCode in the data is refused.
    const batch = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: json(await bearer({ region: '410100' })),
      payload: {
        operations: [
          { op: 'upsert', collection: 'org-units', regionCode: '410181', externalId: 'GY-P', data: { name: '机构 GY-P', level: 'county', regionCode: '410182' } },
          { op: 'upsert', collection: 'org-units', regionCode: '410181', externalId: 'GY-C2', data: { name: '机构 GY-C2', level: 'street', parentExternalId: 'GY-P' } },
        ],
      },
    });
    expect(batch.statusCode).toBe(200);
    const results = batch.json<{ results: { status: number; error?: { errors?: { path: string }[] } }[] }>().results;
    expect(results.map((r) => r.status)).toEqual([400, 201]);
    expect(results[0]!.error).toMatchObject({ errors: [{ path: '/operations/0/data/regionCode' }] });
    expect(await read(parent.id)).toMatchObject({ regionCode: '410181', version: 1 });
  });
});
