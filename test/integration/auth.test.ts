import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { bearer, TEST_JWT_SECRET, testConfig, token, useTestApp } from '../support/context.js';
import { problemOf } from '../support/fixtures.js';

const ctx = useTestApp();

const REGION = '410181';
const ORG_UNITS = `/v1/org-units?regionCode=${REGION}`;

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function claims(overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: testConfig.JWT_ISSUER,
    aud: testConfig.JWT_AUDIENCE,
    sub: 'intruder',
    scope: 'records:read records:write audit:read',
    region: REGION,
    iat: now,
    exp: now + 600,
    ...overrides,
  };
}

async function expectUnauthorized(authorization: string | undefined, url = ORG_UNITS) {
  const res = await ctx.app.inject({ method: 'GET', url, headers: authorization === undefined ? {} : { authorization } });
  expect(res.statusCode, res.body).toBe(401);
  expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
  const problem = problemOf(res);
  expect(problem).toMatchObject({ status: 401, code: 'unauthorized' });
  return problem;
}

describe('authentication (DESIGN §5)', () => {
  it('answers 401 unauthorized with WWW-Authenticate when no token is sent', async () => {
    const problem = await expectUnauthorized(undefined);
    expect(problem.detail).toMatch(/Bearer/);
  });

  it.each([
    ['a Basic header', 'Basic dXNlcjpwYXNz'],
    ['a bare "Bearer"', 'Bearer'],
    ['a token that is not a JWT', 'Bearer not-a-jwt'],
    ['three garbage segments', 'Bearer aaa.bbb.ccc'],
    ['two tokens', 'Bearer a.b.c d.e.f'],
  ])('answers 401 for a malformed Authorization header: %s', async (_label, header) => {
    await expectUnauthorized(header);
  });

  it('accepts a valid token (the baseline the other cases differ from)', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: ORG_UNITS, headers: await bearer({ region: REGION }) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ items: [], nextCursor: null });
  });

  it('refuses a token signed with another secret (forged signature)', async () => {
    const forged = await token({ region: REGION, secret: 'another-secret-that-is-at-least-32-characters' });
    const problem = await expectUnauthorized(`Bearer ${forged}`);
    expect(problem.detail).toMatch(/signature/i);
  });

  it('refuses a valid token whose payload was altered after signing', async () => {
    const genuine = await token({ region: REGION, scope: 'records:read' });
    const [header, , signature] = genuine.split('.');
    const tampered = `${header}.${b64url(claims({ region: '410000', scope: 'records:read records:write audit:read' }))}.${signature}`;
    await expectUnauthorized(`Bearer ${tampered}`);
  });

  it('refuses an expired token', async () => {
    const expired = await token({ region: REGION, ttlSeconds: -60 });
    const problem = await expectUnauthorized(`Bearer ${expired}`);
    expect(problem.detail).toMatch(/expired/i);
  });

  it('refuses a token it accepted before once it has expired, and checks scopes on every request', async () => {
    // Three seconds: `exp` is counted in whole seconds from a rounded-down `iat`, so one second may be all but
    // over before the first request, on a busy machine.
    const short = await token({ region: REGION, scope: 'records:read', ttlSeconds: 3 });
    const exp = (JSON.parse(Buffer.from(short.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number }).exp;
    const authorization = `Bearer ${short}`;
    // Accepted, so now held verified; the second request is answered from there, the scope still checked.
    for (let i = 0; i < 2; i++) {
      expect((await ctx.app.inject({ method: 'GET', url: ORG_UNITS, headers: { authorization } })).statusCode).toBe(200);
      const write = await ctx.app.inject({ method: 'PUT', url: `/v1/org-units/external/${REGION}/CACHED`, headers: { authorization }, payload: {} });
      expect(write.statusCode, write.body).toBe(403);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, exp * 1000 - Date.now()) + 50));
    const problem = await expectUnauthorized(authorization);
    expect(problem.detail).toMatch(/expired/i);
  });

  it('refuses a token for another audience', async () => {
    const problem = await expectUnauthorized(`Bearer ${await token({ region: REGION, audience: 'some-other-service' })}`);
    expect(problem.detail).toMatch(/aud/);
  });

  it('refuses a token from another issuer', async () => {
    const problem = await expectUnauthorized(`Bearer ${await token({ region: REGION, issuer: 'https://evil.example' })}`);
    expect(problem.detail).toMatch(/iss/);
  });

  it('refuses an unsigned token (alg "none")', async () => {
    for (const header of [{ alg: 'none' }, { alg: 'none', typ: 'JWT' }, { alg: 'None' }]) {
      await expectUnauthorized(`Bearer ${b64url(header)}.${b64url(claims())}.`);
    }
  });

  it('refuses a token signed with an algorithm other than the pinned HS256', async () => {
    const secret = new TextEncoder().encode(TEST_JWT_SECRET);
    const hs512 = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS512' }).sign(secret);
    const problem = await expectUnauthorized(`Bearer ${hs512}`);
    expect(problem.detail).toMatch(/algorithm/i);
  });

  it('refuses a token without the region claim, and one with a malformed region', async () => {
    const secret = new TextEncoder().encode(TEST_JWT_SECRET);
    const { region: _omitted, ...withoutRegion } = claims();
    const noRegion = await new SignJWT(withoutRegion).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(secret);
    expect((await expectUnauthorized(`Bearer ${noRegion}`)).detail).toMatch(/region/);
    const badRegion = await new SignJWT(claims({ region: '4101' })).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(secret);
    expect((await expectUnauthorized(`Bearer ${badRegion}`)).detail).toMatch(/region/);
  });

  it('refuses a token without exp', async () => {
    const secret = new TextEncoder().encode(TEST_JWT_SECRET);
    const { exp: _omitted, ...withoutExp } = claims();
    const noExp = await new SignJWT(withoutExp).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(secret);
    await expectUnauthorized(`Bearer ${noExp}`);
  });

  it('checks the token on every protected route (write, feed, batch, audit)', async () => {
    for (const [method, url] of [
      ['POST', '/v1/org-units'],
      ['PUT', `/v1/org-units/external/${REGION}/AUTH-1`],
      ['GET', '/v1/changes'],
      ['POST', '/v1/batch'],
      ['GET', '/v1/audit'],
    ] as const) {
      const res = await ctx.app.inject({ method, url, payload: method === 'GET' ? undefined : {} });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
    }
  });
});

describe('scopes (DESIGN §5)', () => {
  it('needs records:read to read records and the feed', async () => {
    const headers = await bearer({ region: REGION, scope: 'records:write audit:read' });
    for (const url of [ORG_UNITS, `/v1/org-units/external/${REGION}/AUTH-2`, '/v1/changes']) {
      const res = await ctx.app.inject({ method: 'GET', url, headers });
      expect(res.statusCode, url).toBe(403);
      expect(problemOf(res)).toMatchObject({ status: 403, code: 'insufficient_scope' });
      expect(problemOf(res).detail).toMatch(/records:read/);
    }
  });

  it('needs records:write to write, and writes nothing without it', async () => {
    const readOnly = await bearer({ region: REGION, scope: 'records:read audit:read' });
    const create = await ctx.app.inject({
      method: 'POST',
      url: '/v1/org-units',
      headers: readOnly,
      payload: { regionCode: REGION, externalId: 'AUTH-3', name: 'x', level: 'county' },
    });
    expect(create.statusCode).toBe(403);
    expect(problemOf(create)).toMatchObject({ code: 'insufficient_scope' });
    expect(problemOf(create).detail).toMatch(/records:write/);

    const upsert = await ctx.app.inject({
      method: 'PUT',
      url: `/v1/org-units/external/${REGION}/AUTH-3`,
      headers: readOnly,
      payload: { name: 'x', level: 'county' },
    });
    expect(upsert.statusCode).toBe(403);
    const batch = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: readOnly,
      payload: { operations: [{ op: 'upsert', collection: 'org-units', regionCode: REGION, externalId: 'AUTH-3', data: { name: 'x', level: 'county' } }] },
    });
    expect(batch.statusCode).toBe(403);

    const read = await ctx.app.inject({ method: 'GET', url: `/v1/org-units/external/${REGION}/AUTH-3`, headers: readOnly });
    expect(read.statusCode).toBe(404);
  });

  it('needs audit:read to read the audit log', async () => {
    const headers = await bearer({ region: REGION, scope: 'records:read records:write' });
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/audit', headers });
    expect(res.statusCode).toBe(403);
    expect(problemOf(res)).toMatchObject({ code: 'insufficient_scope' });
    expect(problemOf(res).detail).toMatch(/audit:read/);
    const allowed = await ctx.app.inject({ method: 'GET', url: '/v1/audit', headers: await bearer({ region: REGION, scope: 'audit:read' }) });
    expect(allowed.statusCode).toBe(200);
  });

  it('does not treat a scope prefix or a differently cased scope as the scope', async () => {
    for (const scope of ['records', 'records:reader', 'RECORDS:READ', 'records:read,records:write']) {
      const res = await ctx.app.inject({ method: 'GET', url: ORG_UNITS, headers: await bearer({ region: REGION, scope }) });
      expect(res.statusCode, scope).toBe(403);
    }
  });
});

describe('public routes', () => {
  it('serves /healthz, /readyz and /openapi.json without a token', async () => {
    const health = await ctx.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    const ready = await ctx.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    const openapi = await ctx.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(openapi.statusCode).toBe(200);
    const doc = openapi.json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/v1/org-units/external/{regionCode}/{externalId}');
  });

  it('ignores a bad token on a public route', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/healthz', headers: { authorization: 'Bearer garbage' } });
    expect(res.statusCode).toBe(200);
  });
});
