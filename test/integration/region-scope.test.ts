/**
 * Region coverage on every verb (DESIGN §5): AA0000 covers AA****, AABB00 covers AABB**, anything else
 * covers itself. Reading outside the coverage answers 404 (never revealing the record), writing 403.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, useTestApp } from '../support/context.js';
import { auditEntries, drainFeed, givenOrgUnit, problemOf, type Headers, type RecordJson } from '../support/fixtures.js';

const ctx = useTestApp();

const ZHENGZHOU = '410100';
const ZHONGYUAN = '410102'; // a district of Zhengzhou
const KAIFENG = '410200';
const HENAN = '410000';
const WUHAN = '420100'; // Hubei

const world = {} as Record<'city' | 'district' | 'kaifeng' | 'wuhan', RecordJson>;
const tokens = {} as Record<'zhengzhou' | 'zhongyuan' | 'kaifeng' | 'henan' | 'wuhan', Headers>;

beforeAll(async () => {
  tokens.zhengzhou = await bearer({ region: ZHENGZHOU, sub: 'zz-platform' });
  tokens.zhongyuan = await bearer({ region: ZHONGYUAN, sub: 'zy-platform' });
  tokens.kaifeng = await bearer({ region: KAIFENG, sub: 'kf-platform' });
  tokens.henan = await bearer({ region: HENAN, sub: 'province' });
  tokens.wuhan = await bearer({ region: WUHAN, sub: 'wh-platform' });
  world.city = await givenOrgUnit(ctx.app, tokens.zhengzhou, ZHENGZHOU, 'ZZ-CITY', { name: '郑州市城市管理局', level: 'city' });
  world.district = await givenOrgUnit(ctx.app, tokens.zhengzhou, ZHONGYUAN, 'ZY-1', {
    name: '中原区城市管理执法大队',
    level: 'county',
    parentId: world.city.id,
  });
  world.kaifeng = await givenOrgUnit(ctx.app, tokens.kaifeng, KAIFENG, 'KF-CITY', { name: '开封市城市管理局', level: 'city' });
  world.wuhan = await givenOrgUnit(ctx.app, tokens.wuhan, WUHAN, 'WH-CITY', { name: '武汉市城市管理执法委员会', level: 'city' });
});

async function listIds(headers: Headers, query = ''): Promise<string[]> {
  const res = await ctx.app.inject({ method: 'GET', url: `/v1/org-units?limit=500${query}`, headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: RecordJson[] }>().items.map((i) => i.id);
}

async function status(method: 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST', url: string, headers: Headers, payload?: unknown) {
  const res = await ctx.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  return res;
}

describe('reads', () => {
  it('a city token (410100) reads its city’s and its districts’ records', async () => {
    for (const record of [world.city, world.district]) {
      const byId = await status('GET', `/v1/org-units/${record.id}`, tokens.zhengzhou);
      expect(byId.statusCode).toBe(200);
      const byKey = await status('GET', `/v1/org-units/external/${record.regionCode}/${record.externalId}`, tokens.zhengzhou);
      expect(byKey.json()).toEqual(byId.json());
    }
    const ids = await listIds(tokens.zhengzhou);
    expect(ids).toEqual(expect.arrayContaining([world.city.id, world.district.id]));
    expect(ids).not.toContain(world.kaifeng.id);
    expect(ids).not.toContain(world.wuhan.id);
  });

  it('a district token (410102) sees only its own district', async () => {
    expect((await status('GET', `/v1/org-units/${world.district.id}`, tokens.zhongyuan)).statusCode).toBe(200);
    expect((await status('GET', `/v1/org-units/${world.city.id}`, tokens.zhongyuan)).statusCode).toBe(404);
    expect((await status('GET', `/v1/org-units/external/${ZHENGZHOU}/ZZ-CITY`, tokens.zhongyuan)).statusCode).toBe(404);
    expect(await listIds(tokens.zhongyuan)).toEqual([world.district.id]);
    // Asking for the whole city does not widen the coverage.
    expect(await listIds(tokens.zhongyuan, `&regionCode=${ZHENGZHOU}`)).toEqual([world.district.id]);
  });

  it('another city (410200) gets 404 for a 410100 record, by id and by key, exactly as for one that does not exist', async () => {
    const nowhere = await status('GET', '/v1/org-units/00000000-0000-4000-8000-000000000000', tokens.kaifeng);
    for (const url of [
      `/v1/org-units/${world.city.id}`,
      `/v1/org-units/external/${ZHENGZHOU}/ZZ-CITY`,
      `/v1/org-units/${world.district.id}`,
      `/v1/org-units/external/${ZHONGYUAN}/ZY-1`,
    ]) {
      const res = await status('GET', url, tokens.kaifeng);
      expect(res.statusCode, url).toBe(404);
      const problem = problemOf(res);
      expect(problem.code).toBe('not_found');
      expect(problem.detail).toBe(problemOf(nowhere).detail);
      expect(res.headers['etag']).toBeUndefined();
      // Conditional requests reveal nothing either.
      const conditional = await ctx.app.inject({ method: 'GET', url, headers: { ...tokens.kaifeng, 'if-none-match': '"1"' } });
      expect(conditional.statusCode).toBe(404);
    }
  });

  it('lists of another city hold nothing of 410100, whatever the filter', async () => {
    const ids = await listIds(tokens.kaifeng);
    expect(ids).toEqual([world.kaifeng.id]);
    expect(await listIds(tokens.kaifeng, `&regionCode=${ZHENGZHOU}`)).toEqual([]);
    expect(await listIds(tokens.kaifeng, `&regionCode=${ZHONGYUAN}`)).toEqual([]);
    expect(await listIds(tokens.kaifeng, '&externalId=ZZ-CITY')).toEqual([]);
    expect(await listIds(tokens.kaifeng, `&parentId=${world.city.id}`)).toEqual([]);
  });

  it('the province token (410000) sees all of Henan but nothing of Hubei (420100)', async () => {
    const ids = await listIds(tokens.henan);
    expect(ids).toEqual(expect.arrayContaining([world.city.id, world.district.id, world.kaifeng.id]));
    expect(ids).not.toContain(world.wuhan.id);
    expect((await status('GET', `/v1/org-units/${world.kaifeng.id}`, tokens.henan)).statusCode).toBe(200);
    expect((await status('GET', `/v1/org-units/${world.wuhan.id}`, tokens.henan)).statusCode).toBe(404);
    expect((await status('GET', `/v1/org-units/external/${WUHAN}/WH-CITY`, tokens.henan)).statusCode).toBe(404);
    expect(await listIds(tokens.henan, `&regionCode=${WUHAN}`)).toEqual([]);
    // And Wuhan sees none of Henan.
    expect(await listIds(tokens.wuhan)).toEqual([world.wuhan.id]);
  });
});

describe('writes', () => {
  it('another city gets 404 on PUT, PATCH and DELETE of a 410100 record, by id and by key, and changes nothing', async () => {
    const { city } = world;
    const body = { regionCode: ZHENGZHOU, externalId: 'ZZ-CITY', name: 'hijacked', level: 'city' };
    const attempts = [
      await status('PUT', `/v1/org-units/${city.id}`, tokens.kaifeng, body),
      await ctx.app.inject({ method: 'PUT', url: `/v1/org-units/${city.id}`, headers: { ...tokens.kaifeng, 'if-match': '"1"' }, payload: body }),
      await status('PATCH', `/v1/org-units/${city.id}`, tokens.kaifeng, { name: 'hijacked' }),
      await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${city.id}`, headers: { ...tokens.kaifeng, 'if-match': '"7"' }, payload: { name: 'x' } }),
      await status('DELETE', `/v1/org-units/${city.id}`, tokens.kaifeng),
      await ctx.app.inject({ method: 'DELETE', url: `/v1/org-units/${city.id}`, headers: { ...tokens.kaifeng, 'if-match': '"7"' } }),
    ];
    for (const res of attempts) {
      expect(res.statusCode, res.body).toBe(404);
      expect(problemOf(res).code).toBe('not_found');
    }
    const after = await status('GET', `/v1/org-units/${city.id}`, tokens.zhengzhou);
    expect(after.json()).toEqual(city);
  });

  it('another city gets 403 forbidden_region on POST, upsert, delete by key and batch into 410100', async () => {
    const post = await status('POST', '/v1/org-units', tokens.kaifeng, { regionCode: ZHENGZHOU, externalId: 'KF-SNEAK', name: 'x', level: 'county' });
    expect(post.statusCode).toBe(403);
    expect(problemOf(post)).toMatchObject({ code: 'forbidden_region', status: 403 });

    for (const key of ['KF-SNEAK', 'ZZ-CITY']) {
      const upsert = await status('PUT', `/v1/org-units/external/${ZHENGZHOU}/${key}`, tokens.kaifeng, { name: 'x', level: 'city' });
      expect(upsert.statusCode, key).toBe(403);
      expect(problemOf(upsert).code).toBe('forbidden_region');
    }
    const batch = await status('POST', '/v1/batch', tokens.kaifeng, {
      operations: [
        { op: 'upsert', collection: 'org-units', regionCode: ZHENGZHOU, externalId: 'ZZ-CITY', data: { name: 'x', level: 'city' } },
        { op: 'delete', collection: 'org-units', regionCode: ZHENGZHOU, externalId: 'ZZ-CITY' },
      ],
    });
    expect(batch.statusCode).toBe(200);
    const results = batch.json<{ results: { status: number; error?: { code: string } }[] }>().results;
    expect(results[0]).toMatchObject({ status: 403, error: { code: 'forbidden_region' } });
    // Deleting by key an unseen record is a read miss: 404 (or 403), never success.
    expect([403, 404]).toContain(results[1]?.status);
    const deleteByKey = await status('DELETE', `/v1/org-units/external/${ZHENGZHOU}/ZZ-CITY`, tokens.kaifeng);
    expect([403, 404]).toContain(deleteByKey.statusCode);

    expect(await listIds(tokens.zhengzhou, '&externalId=KF-SNEAK')).toEqual([]);
    expect((await status('GET', `/v1/org-units/${world.city.id}`, tokens.zhengzhou)).json()).toEqual(world.city);
  });

  it('a district token cannot write into its city, nor move its own record out of its coverage', async () => {
    const up = await status('PUT', `/v1/org-units/external/${ZHENGZHOU}/ZY-SNEAK`, tokens.zhongyuan, { name: 'x', level: 'county' });
    expect(up.statusCode).toBe(403);
    expect(problemOf(up).code).toBe('forbidden_region');
    const move = await status('PATCH', `/v1/org-units/${world.district.id}`, tokens.zhongyuan, { regionCode: ZHENGZHOU });
    expect(move.statusCode).toBe(403);
    expect(problemOf(move).code).toBe('forbidden_region');
    const moveAway = await status('PATCH', `/v1/org-units/${world.district.id}`, tokens.zhengzhou, { regionCode: KAIFENG });
    expect(moveAway.statusCode).toBe(403);
    expect((await status('GET', `/v1/org-units/${world.district.id}`, tokens.zhengzhou)).json()).toEqual(world.district);
  });

  it('a city token writes into its districts; the province into any Henan region but not into Hubei', async () => {
    const district = await status('PUT', `/v1/org-units/external/410103/EQ-1`, tokens.zhengzhou, { name: '二七区执法大队', level: 'county' });
    expect(district.statusCode).toBe(201);
    const province = await status('PUT', `/v1/org-units/external/411700/ZMD-1`, tokens.henan, { name: '驻马店市城市管理局', level: 'city' });
    expect(province.statusCode).toBe(201);
    const hubei = await status('PUT', `/v1/org-units/external/${WUHAN}/HN-SNEAK`, tokens.henan, { name: 'x', level: 'city' });
    expect(hubei.statusCode).toBe(403);
    expect(problemOf(hubei).code).toBe('forbidden_region');
  });
});

describe('change feed and audit log', () => {
  it('the feed of another city carries nothing of 410100; the province’s feed carries Henan but not Hubei', async () => {
    const kaifeng = (await drainFeed(ctx.app, tokens.kaifeng)).items;
    expect(kaifeng.map((i) => i.id)).toContain(world.kaifeng.id);
    expect(kaifeng.every((i) => i.regionCode === KAIFENG)).toBe(true);

    const zhongyuan = (await drainFeed(ctx.app, tokens.zhongyuan)).items;
    expect(new Set(zhongyuan.map((i) => i.id))).toEqual(new Set([world.district.id]));

    const henan = (await drainFeed(ctx.app, tokens.henan)).items;
    const henanIds = new Set(henan.map((i) => i.id));
    for (const record of [world.city, world.district, world.kaifeng]) expect(henanIds.has(record.id)).toBe(true);
    expect(henanIds.has(world.wuhan.id)).toBe(false);
    expect(henan.every((i) => i.regionCode.startsWith('41'))).toBe(true);
  });

  it('the audit log of another city holds nothing of 410100; the province’s holds Henan but not Hubei', async () => {
    const kaifeng = await auditEntries(ctx.app, tokens.kaifeng, {});
    expect(kaifeng.map((e) => e.recordId)).toContain(world.kaifeng.id);
    expect(kaifeng.every((e) => e.regionCode === KAIFENG)).toBe(true);
    expect(await auditEntries(ctx.app, tokens.kaifeng, { recordId: world.city.id })).toEqual([]);
    expect(await auditEntries(ctx.app, tokens.kaifeng, { regionCode: ZHENGZHOU })).toEqual([]);

    const henan = await auditEntries(ctx.app, tokens.henan, {});
    const ids = new Set(henan.map((e) => e.recordId));
    for (const record of [world.city, world.district, world.kaifeng]) expect(ids.has(record.id)).toBe(true);
    expect(ids.has(world.wuhan.id)).toBe(false);
    expect(await auditEntries(ctx.app, tokens.henan, { recordId: world.wuhan.id })).toEqual([]);
  });
});
