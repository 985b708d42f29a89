import { gunzipSync, gzipSync } from 'node:zlib';
import helmet from '@fastify/helmet';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { collectionExamples } from '../../src/collections/examples.js';
import { collections } from '../../src/collections/index.js';
import { SECURITY_HEADER_OPTIONS, securityHeaders } from '../../src/plugins/http-conventions.js';
import { MAX_BATCH_OPERATIONS } from '../../src/routes/batch.js';
import { mintToken } from '../../src/security/tokens.js';
import { bearer, TEST_JWT_SECRET, testConfig, useTestApp } from '../support/context.js';
import { problemOf } from '../support/fixtures.js';

const examples = collectionExamples();
const writer = () => bearer({ region: '410100', scope: 'records:read records:write' });

describe('HTTP conventions', () => {
  const ctx = useTestApp({ CORS_ORIGINS: ['https://platform.zhengzhou.example'] });

  it('a wrong method on a known path is 405 with Allow, as a problem', async () => {
    const res = await ctx.app.inject({ method: 'DELETE', url: '/v1/officers', headers: await writer() });
    expect(res.statusCode).toBe(405);
    expect(res.headers['allow']).toBe('GET, HEAD, POST');
    expect(problemOf(res).code).toBe('method_not_allowed');
    const byId = await ctx.app.inject({ method: 'POST', url: '/v1/officers/00000000-0000-4000-8000-000000000000' });
    expect(byId.statusCode).toBe(405);
    expect(byId.headers['allow']).toBe('DELETE, GET, HEAD, PATCH, PUT');
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/nothing-here' })).statusCode).toBe(404);
  });

  it('personal data is never cached, and security headers fit an API', async () => {
    const headers = await writer();
    const { key, upsert } = examples.get('org-units')!;
    await ctx.app.inject({ method: 'PUT', url: `/v1/org-units/external/${key.regionCode}/${key.externalId}`, headers, payload: upsert });
    const officer = examples.get('officers')!;
    const put = await ctx.app.inject({
      method: 'PUT',
      url: `/v1/officers/external/${officer.key.regionCode}/${officer.key.externalId}`,
      headers,
      payload: officer.upsert,
    });
    expect(put.statusCode).toBe(201);
    for (const res of [put, await ctx.app.inject({ method: 'GET', url: '/v1/officers?regionCode=410100', headers })]) {
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
    }
    const problem = await ctx.app.inject({ method: 'GET', url: '/v1/officers/00000000-0000-4000-8000-000000000000', headers });
    expect(problem.headers['cache-control']).toBe('no-store');
  });

  it('sends exactly the security headers @fastify/helmet would, computed once, with the request id on every answer', async () => {
    const reference = Fastify();
    await reference.register(helmet, { global: true, ...SECURITY_HEADER_OPTIONS });
    reference.get('/', async () => ({}));
    const fromHelmet = (await reference.inject({ method: 'GET', url: '/' })).headers;
    await reference.close();
    const plain = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive']);
    const expected = Object.fromEntries(Object.entries(fromHelmet).filter(([name]) => !plain.has(name)));
    expect(Object.keys(expected).length).toBeGreaterThan(8);
    expect(securityHeaders()).toEqual(expected);

    const token = await writer();
    for (const [url, headers] of [
      ['/healthz', {}],
      ['/v1/officers', {}], // 401
      ['/v1/officers/00000000-0000-4000-8000-000000000000', token], // 404
      ['/v1/nothing-here', {}],
      ['/openapi.json', {}],
    ] as const) {
      const res = await ctx.app.inject({ method: 'GET', url, headers: { ...headers, 'x-request-id': `rid-${url.length}` } });
      expect(res.headers, url).toMatchObject(expected);
      expect(res.headers['x-request-id'], url).toBe(`rid-${url.length}`);
      // The documents carry no personal data and may be cached; everything else may not.
      expect(res.headers['cache-control'], url).toBe(url === '/openapi.json' ? undefined : 'no-store');
    }
  });

  it('compresses a large list for a client that accepts gzip', async () => {
    const headers = await writer();
    const operations = Array.from({ length: 60 }, (_, i) => ({
      op: 'upsert',
      collection: 'org-units',
      regionCode: '410102',
      externalId: `GZ-${i}`,
      data: { name: `郑州市中原区城市管理执法中队第${i}中队`, level: 'street' },
    }));
    expect((await ctx.app.inject({ method: 'POST', url: '/v1/batch', headers, payload: { operations } })).statusCode).toBe(200);
    const res = await ctx.app.inject({
      method: 'GET',
      url: '/v1/org-units?regionCode=410102&limit=100',
      headers: { ...headers, 'accept-encoding': 'gzip' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    const body = JSON.parse(gunzipSync(res.rawPayload).toString('utf8')) as { items: unknown[] };
    expect(body.items).toHaveLength(60);
    expect(res.rawPayload.length).toBeLessThan(gunzipSync(res.rawPayload).length / 3);
    // Compressed in one call, not streamed: the client learns the length up front (no chunked encoding).
    expect(gunzipSync(res.rawPayload).length).toBeGreaterThan(8 * 1024);
    expect(res.headers['content-length']).toBe(String(res.rawPayload.length));
    expect(res.headers['transfer-encoding']).toBeUndefined();
  });

  it('takes a compressed request body whatever the case of its coding, and ignores a coding on a request without one', async () => {
    const headers = await writer();
    for (const [coding, n] of [
      ['gzip', 1],
      ['GZIP', 2],
      ['x-gzip', 3],
    ] as const) {
      const res = await ctx.app.inject({
        method: 'PUT',
        url: `/v1/org-units/external/410106/GZ-${n}`,
        headers: { ...headers, 'content-type': 'application/json', 'content-encoding': coding },
        payload: gzipSync(JSON.stringify({ name: `压缩的请求 ${n}`, level: 'city' })),
      });
      expect(res.statusCode, `${coding}: ${res.body}`).toBe(201);
      expect(res.json()).toMatchObject({ name: `压缩的请求 ${n}` });
    }
    const bodiless = await ctx.app.inject({ method: 'GET', url: '/v1/org-units?regionCode=410106', headers: { ...headers, 'content-encoding': 'zstd' } });
    expect(bodiless.statusCode, bodiless.body).toBe(200);
  });

  it('answers a CORS preflight from a listed origin, and not from another', async () => {
    const preflight = (origin: string) =>
      ctx.app.inject({
        method: 'OPTIONS',
        url: '/v1/officers',
        headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization,content-type,if-match' },
      });
    const allowed = await preflight('https://platform.zhengzhou.example');
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://platform.zhengzhou.example');
    expect(allowed.headers['access-control-allow-headers']).toContain('if-match');
    // CORS answers a preflight from its own hook: the request id and security headers are set before it.
    expect(allowed.headers['x-request-id']).toBeTruthy();
    expect(allowed.headers['content-security-policy']).toBeTruthy();
    expect(allowed.headers['cache-control']).toBe('no-store');
    const refused = await preflight('https://evil.example');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    const get = await ctx.app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://platform.zhengzhou.example' } });
    expect(get.headers['access-control-allow-origin']).toBe('https://platform.zhengzhou.example');
    expect(get.headers['access-control-expose-headers']).toContain('etag');
  });

  it('refusals of the token check carry CORS and security headers too, so a browser client sees the 401 and 403', async () => {
    const origin = 'https://platform.zhengzhou.example';
    const noScope = await bearer({ region: '410100', scope: 'pii:read' });
    for (const headers of [{ origin }, { origin, authorization: 'Bearer not-a-token' }, { origin, ...noScope }]) {
      const res = await ctx.app.inject({ method: 'GET', url: '/v1/officers', headers });
      expect([401, 403], res.body).toContain(res.statusCode);
      expect(res.headers['access-control-allow-origin']).toBe(origin);
      expect(res.headers['access-control-expose-headers']).toContain('x-request-id');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    }
  });

  it('GET /v1 describes the collections, limits and scopes, and what the token may do', async () => {
    const anonymous = await ctx.app.inject({ method: 'GET', url: '/v1' });
    expect(anonymous.statusCode).toBe(200);
    const description = anonymous.json();
    expect(description.apiVersion).toBe('v1');
    expect(description.token).toBeNull();
    expect(description.collections.map((c: { name: string }) => c.name)).toEqual(collections.map((c) => c.name));
    const officers = description.collections.find((c: { name: string }) => c.name === 'officers');
    expect(officers.filters).toEqual(expect.arrayContaining(['regionCode', 'employmentStatus', 'namePrefix']));
    expect(officers.verbs).toContainEqual({ method: 'PUT', path: '/v1/officers/external/{regionCode}/{externalId}', scope: 'records:write' });
    expect(description.limits).toMatchObject({ batchOperations: MAX_BATCH_OPERATIONS, pageSizeMax: 500 });
    expect(description.rateLimit.limit).toBeGreaterThan(0);
    expect(description.scopes).toContain('pii:read');

    const withToken = await ctx.app.inject({ method: 'GET', url: '/v1', headers: await writer() });
    expect(withToken.json().token).toMatchObject({ region: '410100', scopes: ['records:read', 'records:write'] });
    expect((await ctx.app.inject({ method: 'GET', url: '/v1', headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401);
  });
});

describe('rate limiting per client', () => {
  const ctx = useTestApp({ RATE_LIMIT_MAX: 3, RATE_LIMIT_WINDOW_SECONDS: 60 });

  it('counts per client_id with RateLimit headers, then answers 429 problem+json with Retry-After', async () => {
    const asClient = async (clientId: string) => ({
      authorization: `Bearer ${await mintToken({
        secret: TEST_JWT_SECRET,
        issuer: testConfig.JWT_ISSUER,
        audience: testConfig.JWT_AUDIENCE,
        region: '410100',
        scope: 'records:read',
        sub: 'sync-bot',
        clientId,
        ttlSeconds: 600,
      })}`,
    });
    const a = await asClient('zhengzhou-platform');
    const b = await asClient('luoyang-platform');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await ctx.app.inject({ method: 'GET', url: '/v1/org-units', headers: a });
      statuses.push(res.statusCode);
      if (i === 0) {
        expect(res.headers['ratelimit-limit']).toBe('3');
        expect(res.headers['ratelimit-remaining']).toBe('2');
        expect(res.headers['ratelimit-reset']).toBeDefined();
      }
      if (res.statusCode === 429) {
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        expect(problemOf(res).code).toBe('rate_limited');
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    // Another client has its own budget.
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/org-units', headers: b })).statusCode).toBe(200);
  });
});
