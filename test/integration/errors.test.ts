/**
 * Every failure leaves as an RFC 9457 problem (DESIGN §3): application/problem+json with type, title,
 * status, a stable code and the request id; field errors as JSON Pointers; never a stack trace.
 */
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { bearer, useTestApp } from '../support/context.js';
import { givenOrgUnit, problemOf } from '../support/fixtures.js';
import { aCredential, seedOfficer } from '../support/people-fixtures.js';

const ctx = useTestApp();

const REGION = '410184';
const headersP = bearer({ region: REGION });

/** Asserts the common problem shape and returns the body. */
function expectProblem(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = problemOf(res);
  expect(problem).toMatchObject({ status, code, type: expect.stringMatching(/\S/), title: expect.stringMatching(/\S/) });
  expect(problem.type).toContain(code);
  expect(problem.requestId).toBe(res.headers['x-request-id']);
  expect(problem.requestId).toMatch(/\S/);
  expectNoInternals(res.body);
  return problem;
}

function expectNoInternals(body: string) {
  expect(body).not.toMatch(/"stack"/);
  expect(body).not.toMatch(/\n\s+at /);
  expect(body).not.toMatch(/\.(ts|js):\d+/);
  expect(body).not.toMatch(/node_modules|\/work\//);
  expect(body).not.toMatch(/FST_ERR|SQLSTATE|drizzle|syntax error at/i);
}

describe('problem details (RFC 9457)', () => {
  it('validation: 400 validation_failed with a JSON Pointer per bad field', async () => {
    const headers = await headersP;
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/org-units',
      headers,
      payload: { regionCode: REGION, externalId: 'E-1', level: 'galaxy', unifiedSocialCreditCode: 'NOT-A-CODE' },
    });
    const problem = expectProblem(res, 400, 'validation_failed');
    const paths = problem.errors?.map((e) => e.path).sort();
    expect(paths).toEqual(['/level', '/name', '/unifiedSocialCreditCode']);
    for (const error of problem.errors ?? []) {
      expect(error.message).toMatch(/\S/);
      expect(error.in).toBe('body');
    }
    // Nothing was written.
    expect((await ctx.app.inject({ method: 'GET', url: `/v1/org-units/external/${REGION}/E-1`, headers })).statusCode).toBe(404);
  });

  it('validation of the path, the query string and a bad external key name their part', async () => {
    const headers = await headersP;
    const id = expectProblem(await ctx.app.inject({ method: 'GET', url: '/v1/org-units/not-a-uuid', headers }), 400, 'validation_failed');
    expect(id.errors).toEqual([expect.objectContaining({ path: '/id', in: 'params' })]);
    const query = expectProblem(await ctx.app.inject({ method: 'GET', url: '/v1/org-units?limit=9999', headers }), 400, 'validation_failed');
    expect(query.errors).toEqual([expect.objectContaining({ path: '/limit', in: 'query' })]);
    const key = expectProblem(
      await ctx.app.inject({ method: 'PUT', url: `/v1/org-units/external/${REGION}/bad%20key`, headers, payload: { name: 'x', level: 'city' } }),
      400,
      'validation_failed',
    );
    expect(key.errors?.map((e) => e.path)).toEqual(['/externalId']);
    const region = expectProblem(
      await ctx.app.inject({ method: 'PUT', url: '/v1/org-units/external/4101/K', headers, payload: { name: 'x', level: 'city' } }),
      400,
      'validation_failed',
    );
    expect(region.errors?.map((e) => e.path)).toEqual(['/regionCode']);
  });

  it('a path that is not valid percent-encoding is a problem too, not the framework\'s own answer', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: `/v1/org-units/external/${REGION}/%FFbad`, headers: await headersP });
    const problem = expectProblem(res, 400, 'validation_failed');
    expect(problem.errors).toEqual([expect.objectContaining({ in: 'params' })]);
    expect(res.headers['x-request-id']).toBeTruthy();
    // Answered before any hook: the security headers are set with it.
    expect(res.headers['content-security-policy']).toBeTruthy();
    expect(res.headers['x-frame-options']).toBeTruthy();
  });

  it('a body that is not an object is a validation error at the root', async () => {
    const headers = await headersP;
    const res = await ctx.app.inject({ method: 'POST', url: '/v1/org-units', headers: { ...headers, 'content-type': 'application/json' }, payload: '[1,2]' });
    const problem = expectProblem(res, 400, 'validation_failed');
    expect(problem.errors?.[0]?.path).toBe('/');
  });

  it.each([
    ['POST', '/v1/org-units', 'application/json', '{"regionCode": "410184", "name": '],
    ['POST', '/v1/org-units', 'application/json', "{'single': 'quotes'}"],
    ['POST', '/v1/batch', 'application/json', '{"operations": [}'],
    ['PATCH', '/v1/org-units/00000000-0000-4000-8000-000000000000', 'application/merge-patch+json', '{"name":'],
  ])('malformed JSON: %s %s (%s) is 400 malformed_json', async (method, url, contentType, payload) => {
    const headers = await headersP;
    const res = await ctx.app.inject({ method: method as 'POST', url, headers: { ...headers, 'content-type': contentType }, payload });
    expectProblem(res, 400, 'malformed_json');
  });

  it('a body over 1 MiB is 413 payload_too_large', async () => {
    const headers = await headersP;
    const payload = JSON.stringify({ regionCode: REGION, externalId: 'BIG', name: 'x'.repeat(1024 * 1024 + 16), level: 'city' });
    const res = await ctx.app.inject({ method: 'POST', url: '/v1/org-units', headers: { ...headers, 'content-type': 'application/json' }, payload });
    expectProblem(res, 413, 'payload_too_large');
    expect((await ctx.app.inject({ method: 'GET', url: `/v1/org-units/external/${REGION}/BIG`, headers })).statusCode).toBe(404);
  });

  it('the batch route takes bodies over 1 MiB, up to its own limit', async () => {
    const headers = await headersP;
    const twoMiB = JSON.stringify({ operations: [], padding: 'x'.repeat(2 * 1024 * 1024) });
    const accepted = await ctx.app.inject({ method: 'POST', url: '/v1/batch', headers: { ...headers, 'content-type': 'application/json' }, payload: twoMiB });
    // Read in full and validated (an empty batch is refused), not cut off for its size.
    expectProblem(accepted, 400, 'validation_failed');
    const nineMiB = JSON.stringify({ operations: [], padding: 'x'.repeat(9 * 1024 * 1024) });
    const refused = await ctx.app.inject({ method: 'POST', url: '/v1/batch', headers: { ...headers, 'content-type': 'application/json' }, payload: nineMiB });
    expectProblem(refused, 413, 'payload_too_large');
  });

  it.each(['application/xml', 'text/csv', 'application/x-www-form-urlencoded'])('a body as %s is 415 unsupported_media_type', async (contentType) => {
    const headers = await headersP;
    const res = await ctx.app.inject({ method: 'POST', url: '/v1/org-units', headers: { ...headers, 'content-type': contentType }, payload: '<unit/>' });
    expectProblem(res, 415, 'unsupported_media_type');
  });

  it('an unknown route is 404 not_found, with or without a token', async () => {
    const headers = await headersP;
    for (const [method, url] of [
      ['GET', '/v1/nothing-here'],
      ['GET', '/v1/org-unit'],
      ['DELETE', '/v1/org-unit'], // a wrong method on a known path is 405: http-conventions.test.ts
      ['GET', '/'],
    ] as const) {
      expectProblem(await ctx.app.inject({ method, url, headers }), 404, 'not_found');
      expectProblem(await ctx.app.inject({ method, url }), 404, 'not_found');
    }
  });

  it('a cursor this service did not issue is 400, on lists, the feed, the audit log and compliance lists', async () => {
    const headers = await headersP;
    const listCursor = Buffer.from(JSON.stringify({ k: '00000000-0000-4000-8000-000000000000' })).toString('base64url');
    const at = (key: string, id = '00000000-0000-4000-8000-000000000000') => Buffer.from(JSON.stringify({ key, id })).toString('base64url');
    const complianceCursor = at('2026-01-01');
    // As issued, each is a cursor: a compliance cursor holds the key its check orders by.
    for (const url of [
      `/v1/org-units?cursor=${listCursor}`,
      `/v1/compliance/credentials-expiring?cursor=${complianceCursor}`,
      `/v1/compliance/cases-understaffed?cursor=${at('')}`,
      `/v1/compliance/training-overdue?cursor=${at('provincial')}`,
      `/v1/compliance/equipment-below-quota?cursor=${at('vehicle')}`,
    ]) {
      expect((await ctx.app.inject({ method: 'GET', url, headers })).statusCode, url).toBe(200);
    }
    for (const url of [
      '/v1/org-units?cursor=garbage',
      `/v1/org-units?cursor=${Buffer.from('{"k":"x"}').toString('base64url')}`,
      `/v1/officers?cursor=${Buffer.from(`{"k":"${'-'.repeat(36)}"}`).toString('base64url')}`,
      '/v1/changes?after=garbage',
      `/v1/changes?after=${Buffer.from('s-1').toString('base64url')}`,
      '/v1/audit?cursor=garbage!',
      // Issued cursors spelled otherwise: Node would decode each as the cursor it was made from.
      `/v1/org-units?cursor=${listCursor}!`,
      `/v1/org-units?cursor=${listCursor}%3D%3D`,
      `/v1/org-units?cursor=${listCursor.slice(0, 8)}%20${listCursor.slice(8)}`,
      `/v1/changes?after=${Buffer.from('s1').toString('base64url')}.`,
      `/v1/changes?after=${Buffer.from('s01').toString('base64url')}`,
      `/v1/audit?cursor=${Buffer.from('a007').toString('base64url')}`,
      `/v1/audit?cursor=${Buffer.from('a1').toString('base64url')}%3D`,
      `/v1/compliance/credentials-expiring?cursor=${complianceCursor}~`,
      // Keys and ids no check issues: not sent to the database (where they failed as 422), nor read as page one.
      `/v1/compliance/credentials-expiring?cursor=${at('abc')}`,
      `/v1/compliance/cases-overdue?cursor=${at('2026-13-45')}`,
      `/v1/compliance/cases-understaffed?cursor=${at('', '-'.repeat(36))}`,
      `/v1/compliance/cases-understaffed?cursor=${at('2026-01-01')}`,
      `/v1/compliance/training-overdue?cursor=${at('abc')}`,
      `/v1/compliance/equipment-below-quota?cursor=${at('vehicles')}`,
    ]) {
      const problem = expectProblem(await ctx.app.inject({ method: 'GET', url, headers }), 400, 'validation_failed');
      expect(problem.errors?.[0]?.in, url).toBe('query');
    }
  });

  it('an If-Match or If-None-Match that is not an entity tag is 400 and changes nothing', async () => {
    const headers = await headersP;
    const unit = await givenOrgUnit(ctx.app, headers, REGION, 'ETAG-1');
    // Not entity tags at all (a well-formed tag this service never issued, such as "x", fails the precondition: 412).
    for (const ifMatch of ['3', 'abc', '"3']) {
      const put = await ctx.app.inject({
        method: 'PUT',
        url: `/v1/org-units/${unit.id}`,
        headers: { ...headers, 'if-match': ifMatch },
        payload: { regionCode: REGION, externalId: 'ETAG-1', name: 'changed', level: 'county' },
      });
      const problem = expectProblem(put, 400, 'validation_failed');
      expect(problem.errors).toEqual([expect.objectContaining({ path: '/if-match', in: 'headers' })]);
    }
    const patch = await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${unit.id}`, headers: { ...headers, 'if-match': 'v1' }, payload: { name: 'changed' } });
    expectProblem(patch, 400, 'validation_failed');
    const del = await ctx.app.inject({ method: 'DELETE', url: `/v1/org-units/${unit.id}`, headers: { ...headers, 'if-match': 'v1' } });
    expectProblem(del, 400, 'validation_failed');
    const get = await ctx.app.inject({ method: 'GET', url: `/v1/org-units/${unit.id}`, headers: { ...headers, 'if-none-match': 'one' } });
    expectProblem(get, 400, 'validation_failed');
    expect((await ctx.app.inject({ method: 'GET', url: `/v1/org-units/${unit.id}`, headers })).json()).toEqual(unit);
  });

  it('echoes the client’s x-request-id in the header and in the problem', async () => {
    const headers = await headersP;
    const requestId = 'zz-platform:sync-2024.07.01_0001';
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/org-units/not-a-uuid', headers: { ...headers, 'x-request-id': requestId } });
    expect(res.headers['x-request-id']).toBe(requestId);
    expect(expectProblem(res, 400, 'validation_failed').requestId).toBe(requestId);
    const unauthorized = await ctx.app.inject({ method: 'GET', url: '/v1/org-units', headers: { 'x-request-id': requestId } });
    expect(expectProblem(unauthorized, 401, 'unauthorized').requestId).toBe(requestId);
    // Successful answers carry it too.
    const ok = await ctx.app.inject({ method: 'GET', url: '/v1/org-units', headers: { ...headers, 'x-request-id': requestId } });
    expect(ok.headers['x-request-id']).toBe(requestId);
  });

  it('replaces an unusable x-request-id with one of its own, and makes one when none is sent', async () => {
    const headers = await headersP;
    const ids = new Set<string>();
    for (const given of ['has spaces in it', 'x'.repeat(129), 'emoji-🙂', undefined]) {
      const res = await ctx.app.inject({
        method: 'GET',
        url: '/v1/nope',
        headers: { ...headers, ...(given === undefined ? {} : { 'x-request-id': given }) },
      });
      const problem = expectProblem(res, 404, 'not_found');
      expect(problem.requestId).not.toBe(given);
      expect(problem.requestId).toMatch(/^[A-Za-z0-9._:-]{1,100}$/);
      ids.add(problem.requestId);
    }
    expect(ids.size).toBe(4);
  });

  it('no error body carries a stack trace or internals (rule, reference and conflict errors included)', async () => {
    const headers = await headersP;
    const parent = await givenOrgUnit(ctx.app, headers, REGION, 'INT-P');
    await givenOrgUnit(ctx.app, headers, REGION, 'INT-C', { parentExternalId: 'INT-P' });
    const answers = [
      await ctx.app.inject({ method: 'DELETE', url: `/v1/org-units/${parent.id}`, headers }),
      await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${parent.id}`, headers, payload: { parentId: parent.id } }),
      await ctx.app.inject({ method: 'PUT', url: `/v1/org-units/external/${REGION}/INT-X`, headers, payload: { name: 'x', level: 'city', parentExternalId: 'NONE' } }),
      await ctx.app.inject({ method: 'PUT', url: `/v1/org-units/${parent.id}`, headers: { ...headers, 'if-match': '"9"' }, payload: { regionCode: REGION, name: 'x', level: 'city' } }),
      await ctx.app.inject({ method: 'POST', url: '/v1/org-units', headers, payload: { regionCode: '999999', name: 'x', level: 'city' } }),
    ];
    expect(answers.map((r) => [r.statusCode, problemOf(r).code])).toEqual([
      [409, 'still_referenced'],
      [422, 'rule_violation'],
      [422, 'reference_not_found'],
      [412, 'version_conflict'],
      [403, 'forbidden_region'],
    ]);
    for (const res of answers) expectProblem(res, res.statusCode, problemOf(res).code);
  });
});

describe('dates and instants outside the years 0001–9999', () => {
  it('are 400 at the field, in a list filter, an audit range and a record body, not a refusal from the database', async () => {
    const headers = await headersP;
    for (const value of ['0000-01-01T00:00:00Z', '0001-01-01T07:00:00+08:00', '9999-12-31T23:00:00-02:00']) {
      const list = await ctx.app.inject({ method: 'GET', url: `/v1/officers?updatedAfter=${encodeURIComponent(value)}`, headers });
      expect(expectProblem(list, 400, 'validation_failed').errors).toEqual([expect.objectContaining({ path: '/updatedAfter', in: 'query' })]);
      const audit = await ctx.app.inject({ method: 'GET', url: `/v1/audit?from=${encodeURIComponent(value)}`, headers });
      expect(expectProblem(audit, 400, 'validation_failed').errors).toEqual([expect.objectContaining({ path: '/from', in: 'query' })]);
    }
    // A value that is not an ISO instant at all gets that one error, not a second about its year.
    for (const value of ['2026-12-31T23:59:60Z', '2026-01-01T00:00:00+24:00', '10000-01-01T00:00:00Z']) {
      const list = await ctx.app.inject({ method: 'GET', url: `/v1/officers?updatedAfter=${encodeURIComponent(value)}`, headers });
      expect(expectProblem(list, 400, 'validation_failed').errors, value).toHaveLength(1);
    }
    for (const value of ['0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z']) {
      const list = await ctx.app.inject({ method: 'GET', url: `/v1/officers?updatedAfter=${encodeURIComponent(value)}`, headers });
      expect(list.statusCode, list.body).toBe(200);
    }
    const { officer } = await seedOfficer(ctx.app, REGION, 'YEAR-0', { credential: false });
    const credential = await ctx.app.inject({
      method: 'POST',
      url: '/v1/credentials',
      headers,
      payload: { ...aCredential({ issuedOn: '0000-01-01' }), regionCode: REGION, externalId: 'YEAR-0-C', officerId: officer.id },
    });
    expect(expectProblem(credential, 400, 'validation_failed').errors).toEqual([expect.objectContaining({ path: '/issuedOn', in: 'body' })]);
  });
});

describe('a request body in a Content-Encoding the service does not decode', () => {
  it('is 415 unsupported_media_type', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/org-units',
      headers: { ...(await headersP), 'content-type': 'application/json', 'content-encoding': 'compress' },
      payload: '{}',
    });
    expect(expectProblem(res, 415, 'unsupported_media_type').detail).toContain('compress');
  });
});
