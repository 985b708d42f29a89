/**
 * POST /v1/batch (DESIGN §4): operations in order, per-operation results; non-atomic operations stand
 * alone, atomic batches are all or nothing.
 */
import { describe, expect, it } from 'vitest';
import { bearer, useTestApp } from '../support/context.js';
import {
  drainFeed,
  feedHead,
  givenOrgUnit,
  problemOf,
  type BatchResultJson,
  type Headers,
  type RecordJson,
} from '../support/fixtures.js';

const ctx = useTestApp();

type Result = BatchResultJson;

type Op =
  | { op: 'upsert'; collection: string; regionCode: string; externalId: string; ifMatch?: number; data?: Record<string, unknown> }
  | { op: 'delete'; collection: string; regionCode: string; externalId: string; ifMatch?: number };

const upsert = (regionCode: string, externalId: string, data: Record<string, unknown> = {}, ifMatch?: number): Op => ({
  op: 'upsert',
  collection: 'org-units',
  regionCode,
  externalId,
  ...(ifMatch === undefined ? {} : { ifMatch }),
  data: { name: `执法中队 ${externalId}`, level: 'street', ...data },
});
const remove = (regionCode: string, externalId: string, ifMatch?: number): Op => ({
  op: 'delete',
  collection: 'org-units',
  regionCode,
  externalId,
  ...(ifMatch === undefined ? {} : { ifMatch }),
});

async function batch(headers: Headers, operations: Op[], atomic?: boolean) {
  return ctx.app.inject({ method: 'POST', url: '/v1/batch', headers, payload: { ...(atomic === undefined ? {} : { atomic }), operations } });
}

async function results(headers: Headers, operations: Op[], atomic?: boolean): Promise<Result[]> {
  const res = await batch(headers, operations, atomic);
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json<{ results: Result[] }>();
  expect(body.results.map((r) => r.index)).toEqual(operations.map((_, i) => i));
  return body.results;
}

async function get(headers: Headers, regionCode: string, externalId: string) {
  return ctx.app.inject({ method: 'GET', url: `/v1/org-units/external/${regionCode}/${externalId}`, headers });
}

const tokenFor = (region: string) => bearer({ region, scope: 'records:read records:write' });

describe('non-atomic batches', () => {
  it('one bad record does not sink the rest; results come in order with a problem per failure', async () => {
    const r = '410501';
    const headers = await tokenFor(r);
    const head = await feedHead(ctx.app, headers);
    const out = await results(headers, [
      upsert(r, 'A'),
      upsert(r, 'B', { level: 'galaxy' }),
      upsert(r, 'C', { parentExternalId: 'NO-SUCH-UNIT' }),
      upsert(r, 'D', { name: '' }),
      upsert(r, 'E'),
    ]);
    expect(out.map((x) => x.status)).toEqual([201, 400, 422, 400, 201]);
    expect(out[1]?.error).toMatchObject({ code: 'validation_failed', status: 400, errors: [{ path: '/operations/1/data/level' }] });
    expect(out[2]?.error).toMatchObject({ code: 'reference_not_found', errors: [{ path: '/operations/2/data/parentExternalId' }] });
    expect(out[3]?.error).toMatchObject({ code: 'validation_failed', errors: [{ path: '/operations/3/data/name' }] });
    expect(out[1]?.error?.requestId).toMatch(/\S/);
    expect(out[0]).toMatchObject({ id: expect.any(String), version: 1 });

    for (const [key, status] of [['A', 200], ['B', 404], ['C', 404], ['D', 404], ['E', 200]] as const) {
      expect((await get(headers, r, key)).statusCode, key).toBe(status);
    }
    const { items } = await drainFeed(ctx.app, headers, { after: head });
    expect(items.map((i) => i.externalId)).toEqual(['A', 'E']);
  });

  it('a failed operation undoes only itself, not the earlier changes to the same record', async () => {
    const r = '410502';
    const headers = await tokenFor(r);
    await givenOrgUnit(ctx.app, headers, r, 'A', { name: 'old', level: 'street' });
    const out = await results(headers, [
      upsert(r, 'A', { name: 'renamed' }),
      upsert(r, 'A', { name: 'renamed again', parentExternalId: 'MISSING' }),
      upsert(r, 'A', { name: 'renamed' }),
    ]);
    expect(out.map((x) => [x.status, x.version])).toEqual([
      [200, 2],
      [422, undefined],
      [200, 2],
    ]);
    expect((await get(headers, r, 'A')).json()).toMatchObject({ name: 'renamed', version: 2 });
  });

  it('runs operations in order: a child may reference a parent created earlier in the same batch by externalId', async () => {
    const r = '410503';
    const headers = await tokenFor(r);
    const out = await results(headers, [
      upsert(r, 'PARENT', { level: 'county' }),
      upsert(r, 'CHILD', { parentExternalId: 'PARENT' }),
      upsert(r, 'GRANDCHILD', { parentExternalId: 'CHILD' }),
    ]);
    expect(out.map((x) => x.status)).toEqual([201, 201, 201]);
    const child = (await get(headers, r, 'CHILD')).json<RecordJson>();
    expect(child).toMatchObject({ parentId: out[0]?.id, parentExternalId: 'PARENT' });
    expect((await get(headers, r, 'GRANDCHILD')).json()).toMatchObject({ parentId: child.id, parentExternalId: 'CHILD' });

    // Order matters: the reference before its target fails, the same reference after it succeeds.
    const reversed = await results(headers, [upsert(r, 'LATE-CHILD', { parentExternalId: 'LATE-PARENT' }), upsert(r, 'LATE-PARENT', { level: 'county' })]);
    expect(reversed.map((x) => x.status)).toEqual([422, 201]);
  });

  it('deletes answer 204 with the tombstone version; a missing record is 404; a record still referenced is 409', async () => {
    const r = '410504';
    const headers = await tokenFor(r);
    const head = await feedHead(ctx.app, headers);
    const a = await givenOrgUnit(ctx.app, headers, r, 'A');
    await givenOrgUnit(ctx.app, headers, r, 'P', { level: 'county' });
    await givenOrgUnit(ctx.app, headers, r, 'C', { parentExternalId: 'P' });
    const out = await results(headers, [remove(r, 'A'), remove(r, 'A'), remove(r, 'NEVER'), remove(r, 'P'), remove(r, 'C'), remove(r, 'P')]);
    expect(out.map((x) => x.status)).toEqual([204, 404, 404, 409, 204, 204]);
    expect(out[0]).toMatchObject({ id: a.id, version: 2 });
    expect(out[3]?.error?.code).toBe('still_referenced');
    expect((await get(headers, r, 'A')).statusCode).toBe(404);
    const { items } = await drainFeed(ctx.app, headers, { after: head });
    expect(items.filter((i) => i.op === 'delete').map((i) => i.externalId)).toEqual(['A', 'C', 'P']);
  });

  it('ifMatch per operation: a stale version is 412 version_conflict, the current one applies', async () => {
    const r = '410505';
    const headers = await tokenFor(r);
    await givenOrgUnit(ctx.app, headers, r, 'A');
    await givenOrgUnit(ctx.app, headers, r, 'B');
    const out = await results(headers, [
      upsert(r, 'A', { name: 'x' }, 3),
      upsert(r, 'A', { name: 'y' }, 1),
      upsert(r, 'A', { name: 'z' }, 1),
      remove(r, 'B', 5),
      upsert(r, 'NEW', {}, 1),
      remove(r, 'B', 1),
    ]);
    expect(out.map((x) => x.status)).toEqual([412, 200, 412, 412, 412, 204]);
    expect(out[0]?.error).toMatchObject({ code: 'version_conflict', currentVersion: 1 });
    expect(out[2]?.error).toMatchObject({ code: 'version_conflict', currentVersion: 2 });
    expect((await get(headers, r, 'A')).json()).toMatchObject({ name: 'y', version: 2 });
    expect((await get(headers, r, 'NEW')).statusCode).toBe(404);
  });

  it('an unchanged upsert answers 200 with the same version and writes no change', async () => {
    const r = '410506';
    const headers = await tokenFor(r);
    const a = await givenOrgUnit(ctx.app, headers, r, 'A', { name: '执法中队 A', level: 'street' });
    const head = await feedHead(ctx.app, headers);
    const out = await results(headers, [upsert(r, 'A'), upsert(r, 'A', { regionCode: r, externalId: 'A' })]);
    expect(out).toEqual([
      { index: 0, status: 200, id: a.id, version: 1 },
      { index: 1, status: 200, id: a.id, version: 1 },
    ]);
    expect((await drainFeed(ctx.app, headers, { after: head })).items).toEqual([]);
    expect((await get(headers, r, 'A')).json()).toEqual(a);
  });

  it('an upsert without data, or with data disagreeing with the operation’s key, fails alone', async () => {
    const r = '410507';
    const headers = await tokenFor(r);
    const out = await results(headers, [
      { op: 'upsert', collection: 'org-units', regionCode: r, externalId: 'NODATA' },
      upsert(r, 'K1', { externalId: 'K2' }),
      upsert(r, 'OK'),
    ]);
    expect(out.map((x) => x.status)).toEqual([400, 400, 201]);
    expect(out[0]?.error?.errors?.[0]?.path).toBe('/operations/0/data');
    expect(out[1]?.error?.errors?.[0]?.path).toBe('/operations/1/data/externalId');
  });
});

describe('atomic batches', () => {
  it('all succeed together', async () => {
    const r = '410511';
    const headers = await tokenFor(r);
    const out = await results(headers, [upsert(r, 'P', { level: 'county' }), upsert(r, 'C', { parentExternalId: 'P' })], true);
    expect(out.map((x) => x.status)).toEqual([201, 201]);
    expect((await get(headers, r, 'C')).json()).toMatchObject({ parentId: out[0]?.id });
  });

  it('one failure rolls back all: 422 batch_rolled_back with failedIndex; no earlier op is visible or in the feed', async () => {
    const r = '410512';
    const headers = await tokenFor(r);
    const existing = await givenOrgUnit(ctx.app, headers, r, 'KEEP', { name: 'before' });
    const gone = await givenOrgUnit(ctx.app, headers, r, 'GONE');
    const head = await feedHead(ctx.app, headers);
    const res = await batch(
      headers,
      [
        upsert(r, 'NEW-1'),
        upsert(r, 'KEEP', { name: 'after' }),
        remove(r, 'GONE'),
        upsert(r, 'NEW-2', { parentExternalId: 'NEW-1' }),
        upsert(r, 'BAD', { level: 'galaxy' }),
        upsert(r, 'NEW-3'),
      ],
      true,
    );
    expect(res.statusCode, res.body).toBe(422);
    const problem = problemOf(res);
    expect(problem).toMatchObject({ code: 'batch_rolled_back', status: 422, failedIndex: 4 });
    expect(problem.errors).toEqual([expect.objectContaining({ path: '/operations/4/data/level' })]);
    expect(problem['failure']).toMatchObject({ code: 'validation_failed' });

    for (const key of ['NEW-1', 'NEW-2', 'BAD', 'NEW-3']) expect((await get(headers, r, key)).statusCode, key).toBe(404);
    expect((await get(headers, r, 'KEEP')).json()).toEqual(existing);
    expect((await get(headers, r, 'GONE')).json()).toEqual(gone);
    expect((await drainFeed(ctx.app, headers, { after: head })).items).toEqual([]);
  });

  it('a stale ifMatch or a rule failure also rolls back, naming the operation', async () => {
    const r = '410513';
    const headers = await tokenFor(r);
    await givenOrgUnit(ctx.app, headers, r, 'A');
    const stale = await batch(headers, [upsert(r, 'B'), upsert(r, 'A', { name: 'x' }, 2)], true);
    expect(stale.statusCode).toBe(422);
    expect(problemOf(stale)).toMatchObject({ code: 'batch_rolled_back', failedIndex: 1, failure: { code: 'version_conflict' } });
    const forbidden = await batch(headers, [upsert(r, 'B'), upsert('410100', 'B')], true);
    expect(forbidden.statusCode).toBe(422);
    expect(problemOf(forbidden)).toMatchObject({ failedIndex: 1, failure: { code: 'forbidden_region' } });
    expect((await get(headers, r, 'B')).statusCode).toBe(404);
  });
});

describe('batch limits', () => {
  it('more than 1000 operations is 400 and nothing runs; 1000 are accepted', async () => {
    const r = '410521';
    const headers = await tokenFor(r);
    const tooMany = Array.from({ length: 1001 }, (_, i) => upsert(r, `N-${i}`));
    const res = await batch(headers, tooMany);
    expect(res.statusCode).toBe(400);
    expect(problemOf(res)).toMatchObject({ code: 'validation_failed', errors: [expect.objectContaining({ path: '/operations' })] });
    expect((await get(headers, r, 'N-0')).statusCode).toBe(404);

    // 1000 is within the limit (an atomic batch stops at its first failure, so this stays quick).
    const thousand = Array.from({ length: 1000 }, (_, i) => remove(r, `N-${i}`));
    const ok = await batch(headers, thousand, true);
    expect(ok.statusCode).toBe(422);
    expect(problemOf(ok)).toMatchObject({ failedIndex: 0, failure: { code: 'not_found' } });
  });

  it('an empty batch, an unknown collection or an unknown op is 400', async () => {
    const headers = await tokenFor('410522');
    const empty = await ctx.app.inject({ method: 'POST', url: '/v1/batch', headers, payload: { operations: [] } });
    expect(empty.statusCode).toBe(400);
    const unknown = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers,
      payload: { operations: [{ op: 'upsert', collection: 'spaceships', regionCode: '410522', externalId: 'X', data: {} }] },
    });
    expect(unknown.statusCode).toBe(400);
    expect(problemOf(unknown).errors?.[0]?.path).toBe('/operations/0/collection');
    const badOp = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers,
      payload: { operations: [{ op: 'merge', collection: 'org-units', regionCode: '410522', externalId: 'X' }] },
    });
    expect(badOp.statusCode).toBe(400);
    expect(problemOf(badOp).errors?.[0]?.path).toBe('/operations/0/op');
  });
});
