/**
 * Hostile input never answers 500 (DESIGN §5): NUL characters and lone surrogates anywhere in a body,
 * query string or path; JSON nested deeper than the service accepts; signed tokens whose claims have the
 * wrong type. Each is refused with a 4xx problem that names where the bad value is.
 */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { bearer, testConfig, TEST_JWT_SECRET, useTestApp } from '../support/context.js';
import { MAX_JSON_CONTAINERS } from '../../src/http/hostile-input.js';
import { problemOf } from '../support/fixtures.js';
import { aCredential, anOrgUnit, put, seedOfficer } from '../support/people-fixtures.js';

const ctx = useTestApp();

/** A JSON body with a raw lone surrogate escape, which JSON.stringify would not produce from a test literal. */
const LONE_SURROGATE = '\ud800';

async function putRaw(url: string, region: string, body: string, contentType = 'application/json') {
  return ctx.app.inject({
    method: 'PUT',
    url,
    headers: { ...(await bearer({ region })), 'content-type': contentType },
    payload: body,
  });
}

function expectRefused(res: { statusCode: number; headers: Record<string, unknown>; body: string; json(): unknown }, path: string) {
  expect(res.statusCode, res.body).toBe(400);
  const problem = problemOf(res as Parameters<typeof problemOf>[0]);
  expect(problem.code).toBe('validation_failed');
  expect(problem.errors).toContainEqual(expect.objectContaining({ path }));
}

describe('NUL characters', () => {
  it('in a text field of a single write (name, position, credentialNumber) are 400 at their path', async () => {
    const region = '410201';
    const { officer } = await seedOfficer(ctx.app, region, 'NUL-1', { credential: false });
    const headers = await bearer({ region });

    const unit = await ctx.app.inject({
      method: 'PUT',
      url: `/v1/org-units/external/${region}/NUL-OU`,
      headers,
      payload: anOrgUnit({ name: 'bad\u0000name' }),
    });
    expectRefused(unit, '/name');

    const position = await ctx.app.inject({
      method: 'PATCH',
      url: `/v1/officers/${officer.id}`,
      headers,
      payload: { position: '中队\u0000长' },
    });
    expectRefused(position, '/position');

    const credential = await ctx.app.inject({
      method: 'POST',
      url: '/v1/credentials',
      headers,
      payload: { regionCode: region, ...aCredential({ officerId: officer.id, credentialNumber: 'X\u0000Y' }) },
    });
    expectRefused(credential, '/credentialNumber');
  });

  it('in a 1000-operation batch is one 400 naming the operations, answered quickly', async () => {
    const region = '410202';
    const operations = Array.from({ length: 1000 }, (_, i) => ({
      op: 'upsert',
      collection: 'org-units',
      regionCode: region,
      externalId: `B-${i}`,
      data: anOrgUnit({ name: `unit\u0000${i}` }),
    }));
    const started = performance.now();
    const res = await ctx.app.inject({ method: 'POST', url: '/v1/batch', headers: await bearer({ region }), payload: { operations } });
    const elapsed = performance.now() - started;
    expectRefused(res, '/operations/0/data/name');
    expect(problemOf(res).errors!.length).toBeLessThanOrEqual(100);
    expect(elapsed).toBeLessThan(2000);
    const list = await ctx.app.inject({ method: 'GET', url: `/v1/org-units?regionCode=${region}`, headers: await bearer({ region }) });
    expect(list.json().items).toEqual([]);
  });

  it('in a list filter (namePrefix) and in audit filters is 400 naming the parameter', async () => {
    const headers = await bearer({ region: '410203' });
    const byName = await ctx.app.inject({ method: 'GET', url: '/v1/officers?namePrefix=%00', headers });
    expectRefused(byName, '/namePrefix');
    expect(problemOf(byName).errors![0]!.in).toBe('query');
    const bySub = await ctx.app.inject({ method: 'GET', url: '/v1/audit?sub=a%00b', headers });
    expectRefused(bySub, '/sub');
    const byCollection = await ctx.app.inject({ method: 'GET', url: '/v1/audit?collection=%00', headers });
    expectRefused(byCollection, '/collection');
  });

  it('in a path parameter is 400', async () => {
    const headers = await bearer({ region: '410203' });
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/org-units/external/410203/a%00b', headers });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).code).toBe('validation_failed');
  });

  it('in an object key is 400', async () => {
    const res = await putRaw('/v1/org-units/external/410203/KEY', '410203', '{"name":"n","level":"city","x\\u0000":1}');
    expectRefused(res, '/x\u0000');
  });
});

describe('whole numbers in a query string', () => {
  it('written other than in decimal digits (0x10, 1e2, 1.0, " 5", empty) are 400 at their parameter, not read as another number', async () => {
    const headers = await bearer({ region: '410203' });
    const urls = [
      ['/v1/officers?limit=0x10', '/limit'],
      ['/v1/officers?limit=1e2', '/limit'],
      ['/v1/officers?limit=%205', '/limit'],
      ['/v1/officers?limit=', '/limit'],
      ['/v1/changes?limit=1.0', '/limit'],
      ['/v1/audit?limit=0b11', '/limit'],
      ['/v1/stats/quarterly?year=0x7EA&quarter=1', '/year'],
      ['/v1/stats/quarterly?year=2026&quarter=1.0', '/quarter'],
      ['/v1/stats/annual?year=2.026e3', '/year'],
      ['/v1/compliance/credentials-expiring?days=3e1', '/days'],
      ['/v1/credentials?expiringWithinDays=0x1E', '/expiringWithinDays'],
    ] as const;
    for (const [url, path] of urls) {
      const res = await ctx.app.inject({ method: 'GET', url, headers });
      expectRefused(res, path);
      expect(problemOf(res).errors!.find((e) => e.path === path)!.message, url).toMatch(/decimal digits/);
    }
    // A number out of range is told its range.
    const tooBig = await ctx.app.inject({ method: 'GET', url: '/v1/officers?limit=501', headers });
    expectRefused(tooBig, '/limit');
    expect(problemOf(tooBig).errors![0]!.message).toMatch(/500/);
    // The plain spelling still works, as do leading zeros and the defaults.
    for (const url of ['/v1/officers?limit=16', '/v1/officers?limit=016', '/v1/officers', '/v1/stats/quarterly?year=2026&quarter=1']) {
      const res = await ctx.app.inject({ method: 'GET', url, headers });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
    }
  });
});

describe('bytes that are not UTF-8', () => {
  it('are 400 for a write and a merge patch, and change nothing: not stored as U+FFFD', async () => {
    const region = '410207';
    const url = `/v1/org-units/external/${region}/UTF`;
    const good = await put(ctx.app, 'org-units', region, 'UTF', anOrgUnit());
    // "执法" with its last byte cut, then a lone continuation byte, and a Latin-1 "é".
    for (const bytes of [[0xe6, 0x89, 0xa7, 0xe6, 0xb3], [0x80], [0xe9]]) {
      const name = Buffer.concat([Buffer.from('{"name":"'), Buffer.from(bytes), Buffer.from('","level":"city"}')]);
      for (const [method, contentType] of [
        ['PUT', 'application/json'],
        ['PATCH', 'application/merge-patch+json'],
      ] as const) {
        const res = await ctx.app.inject({
          method,
          url: method === 'PUT' ? url : `/v1/org-units/${good.id}`,
          headers: { ...(await bearer({ region })), 'content-type': contentType },
          payload: name,
        });
        expectRefused(res, '/');
        expect(problemOf(res).detail).toContain('UTF-8');
      }
    }
    const again = await put(ctx.app, 'org-units', region, 'UTF', anOrgUnit());
    expect(again).toMatchObject({ version: good.version, name: anOrgUnit().name });
  });
});

describe('query values whose percent-encoding is not UTF-8', () => {
  it('are 400 at their parameter (not searched for as the characters they came as); UTF-8 ones are read', async () => {
    const headers = await bearer({ region: '410203' });
    for (const value of ['%FF', '%ED%A0%80', '%', 'ab%2']) {
      const res = await ctx.app.inject({ method: 'GET', url: `/v1/officers?limit=5&namePrefix=${value}`, headers });
      expectRefused(res, '/namePrefix');
      expect(problemOf(res).errors![0]).toMatchObject({ in: 'query', message: 'is not valid percent-encoded UTF-8' });
    }
    const chinese = await ctx.app.inject({ method: 'GET', url: `/v1/officers?namePrefix=${encodeURIComponent('张')}&limit=5`, headers });
    expect(chinese.statusCode, chinese.body).toBe(200);
  });
});

describe('lone surrogates', () => {
  it('in a single write are 400 at their path, on create and on update', async () => {
    const region = '410204';
    const url = `/v1/org-units/external/${region}/SUR`;
    const created = await putRaw(url, region, JSON.stringify(anOrgUnit({ name: `a${LONE_SURROGATE}` })));
    expectRefused(created, '/name');
    const good = await put(ctx.app, 'org-units', region, 'SUR', anOrgUnit());
    const updated = await putRaw(url, region, `{"name":"\\udc00x","level":"city"}`);
    expectRefused(updated, '/name');
    // Nothing changed: an identical re-sync still answers the first version.
    const again = await put(ctx.app, 'org-units', region, 'SUR', anOrgUnit());
    expect(again.version).toBe(good.version);
  });

  it('in a batch are 400 at the operation path and write nothing', async () => {
    const region = '410205';
    const body = JSON.stringify({
      operations: [
        { op: 'upsert', collection: 'org-units', regionCode: region, externalId: 'OK', data: anOrgUnit() },
        { op: 'upsert', collection: 'org-units', regionCode: region, externalId: 'BAD', data: anOrgUnit({ name: `x${LONE_SURROGATE}` }) },
      ],
    });
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { ...(await bearer({ region })), 'content-type': 'application/json' },
      payload: body,
    });
    expectRefused(res, '/operations/1/data/name');
  });

  it('a well-formed surrogate pair (an emoji, a rare CJK character) is accepted and re-syncs without a new version', async () => {
    const region = '410206';
    const name = '执法大队 𠀋 🚓';
    const first = await put(ctx.app, 'org-units', region, 'PAIR', anOrgUnit({ name }));
    const second = await put(ctx.app, 'org-units', region, 'PAIR', anOrgUnit({ name }));
    expect(second.version).toBe(first.version);
    expect(second['name']).toBe(name);
  });
});

describe('deep JSON', () => {
  it('a merge patch nested 4000 levels is 400 (not a stack overflow)', async () => {
    const region = '410207';
    const unit = await put(ctx.app, 'org-units', region, 'DEEP', anOrgUnit());
    const deep = '{"a":'.repeat(4000) + '1' + '}'.repeat(4000);
    const res = await ctx.app.inject({
      method: 'PATCH',
      url: `/v1/org-units/${unit.id}`,
      headers: { ...(await bearer({ region })), 'content-type': 'application/merge-patch+json' },
      payload: `{"name":"x","extra":${deep}}`,
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(problemOf(res).code).toBe('validation_failed');
  });

  it('a batch nested 100,000 levels deep is refused quickly, before anything walks it', async () => {
    const region = '410208';
    const depth = 100_000;
    const data = '['.repeat(depth) + ']'.repeat(depth);
    const payload = `{"operations":[{"op":"upsert","collection":"org-units","regionCode":"${region}","externalId":"D","data":{"name":${data}}}]}`;
    const started = performance.now();
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { ...(await bearer({ region })), 'content-type': 'application/json' },
      payload,
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(problemOf(res).detail).toMatch(/nest/i);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it(`a batch of more than ${MAX_JSON_CONTAINERS} arrays and objects is refused before it is parsed`, async () => {
    const region = '410202';
    const headers = { ...(await bearer({ region })), 'content-type': 'application/json' };
    // n arrays and objects: the outer object, its array, and n - 2 objects in it.
    const body = (n: number) => `{"operations":[${'{},'.repeat(n - 3)}{}]}`;
    const many = await ctx.app.inject({ method: 'POST', url: '/v1/batch', headers, payload: body(MAX_JSON_CONTAINERS + 1) });
    expectRefused(many, '/');
    expect(problemOf(many).errors?.[0]?.message).toMatch(/more than 200000 arrays and objects/);
    // At the limit the parser takes it, and the batch's own schema answers (too many operations).
    const atLimit = await ctx.app.inject({ method: 'POST', url: '/v1/batch', headers, payload: body(MAX_JSON_CONTAINERS) });
    expectRefused(atLimit, '/operations');
  });

  it('nesting up to the limit is accepted by the parser (the record schema decides)', async () => {
    const region = '410209';
    const nested = '['.repeat(20) + ']'.repeat(20);
    const res = await putRaw(`/v1/org-units/external/${region}/N`, region, `{"name":"n","level":"city","extra":${nested}}`);
    expect(res.statusCode, res.body).toBe(201);
  });
});

describe('members that could reach a prototype', () => {
  it('__proto__ and constructor.prototype are 400 at their path, not "malformed JSON", and nothing is written', async () => {
    const region = '410202';
    const url = `/v1/org-units/external/${region}/PROTO-OU`;
    const unit = JSON.stringify(anOrgUnit());
    const proto = await putRaw(url, region, `{"__proto__":{"isAdmin":true},${unit.slice(1)}`);
    expectRefused(proto, '/__proto__');
    expect(problemOf(proto).errors?.[0]?.message).toMatch(/__proto__/);
    const batch = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { ...(await bearer({ region })), 'content-type': 'application/json' },
      payload: `{"operations":[{"op":"upsert","collection":"org-units","regionCode":"${region}","externalId":"PROTO-OU","data":{"constructor":{"prototype":{"x":1}},${unit.slice(1)}}]}`,
    });
    expectRefused(batch, '/operations/0/data/constructor');
    expect((await ctx.app.inject({ method: 'GET', url, headers: await bearer({ region }) })).statusCode).toBe(404);
    // A member merely named constructor is data like any other: the record schema decides.
    const named = await putRaw(url, region, `{"constructor":"x",${unit.slice(1)}`);
    expect(named.statusCode, named.body).toBe(201);
  });

  it('in a body over 1 MiB is 400 malformed_json: it is not parsed a second time to find the member', async () => {
    const region = '410202';
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { ...(await bearer({ region })), 'content-type': 'application/json' },
      payload: `{"pad":"${'x'.repeat(1_100_000)}","operations":[{"op":"upsert","collection":"org-units","regionCode":"${region}","externalId":"PROTO-BIG","data":{"__proto__":{}}}]}`,
    });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).code).toBe('malformed_json');
  });

  it('a body that is not JSON at all is still 400 malformed_json', async () => {
    const res = await putRaw('/v1/org-units/external/410202/PROTO-2', '410202', '{"__proto__":');
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).code).toBe('malformed_json');
  });
});

describe('tokens with claims of the wrong type', () => {
  const secret = new TextEncoder().encode(TEST_JWT_SECRET);
  const sign = (claims: Record<string, unknown>, sub: unknown = 'attacker') =>
    new SignJWT({ scope: 'records:read', region: '410100', client_id: 'c', sub, ...claims } as Record<string, unknown>)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setIssuer(testConfig.JWT_ISSUER)
      .setAudience(testConfig.JWT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(secret);

  it.each([
    ['sub is an object', {}, { nested: true }],
    ['sub is a number', {}, 42],
    ['sub contains NUL', {}, 'a\u0000b'],
    ['sub is a lone surrogate', {}, '\ud800'],
    ['sub is empty', {}, ''],
    ['scope is a number', { scope: 7 }, 'x'],
    ['scope is an array', { scope: ['records:read'] }, 'x'],
    ['region is a number', { region: 410100 }, 'x'],
    ['region is not 6 digits', { region: '41010' }, 'x'],
    ['region has NUL', { region: '41010\u0000' }, 'x'],
    ['client_id is an object', { client_id: { a: 1 } }, 'x'],
    ['client_id contains NUL', { client_id: 'c\u0000' }, 'x'],
  ])('%s → 401 problem', async (_name, claims, sub) => {
    const jwt = await sign(claims, sub);
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/org-units', headers: { authorization: `Bearer ${jwt}` } });
    expect(res.statusCode, res.body).toBe(401);
    expect(problemOf(res).code).toBe('unauthorized');
  });
});
