/**
 * The audit log (DESIGN §5): who (sub, client_id), when, what (collection, id, op, version), from which
 * request — written in the same transaction as the write, readable with audit:read, append-only.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { mintToken } from '../../src/security/tokens.js';
import { bearer, TEST_JWT_SECRET, testConfig, useTestApp } from '../support/context.js';
import { auditEntries, givenOrgUnit, problemOf, type AuditJson, type Headers, type RecordJson } from '../support/fixtures.js';

const ctx = useTestApp();

async function platformToken(region: string, sub: string, clientId: string): Promise<Headers> {
  const token = await mintToken({
    secret: TEST_JWT_SECRET,
    issuer: testConfig.JWT_ISSUER,
    audience: testConfig.JWT_AUDIENCE,
    region,
    scope: 'records:read records:write',
    sub,
    clientId,
  });
  return { authorization: `Bearer ${token}` };
}

const auditor = (region: string) => bearer({ region, scope: 'audit:read', sub: 'auditor' });

function messageChain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) parts.push(String((e as Error).message ?? e));
  return parts.join(' <- ');
}

describe('audit rows for every write', () => {
  it('create, update and delete each leave who, when, what and the request id; an unchanged write leaves none', async () => {
    const r = '411001';
    const writer = await platformToken(r, 'zz-sync-user', 'zz-platform');
    const withId = (id: string) => ({ ...writer, 'x-request-id': id });
    const before = Date.now();

    const created = await ctx.app.inject({
      method: 'POST',
      url: '/v1/org-units',
      headers: withId('req-create-1'),
      payload: { regionCode: r, externalId: 'A', name: 'a', level: 'county' },
    });
    expect(created.statusCode).toBe(201);
    const id = created.json<RecordJson>().id;
    const unchanged = await ctx.app.inject({ method: 'PUT', url: `/v1/org-units/external/${r}/A`, headers: withId('req-noop'), payload: { name: 'a', level: 'county' } });
    expect(unchanged.json().version).toBe(1);
    expect((await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${id}`, headers: withId('req-update-2'), payload: { name: 'b' } })).statusCode).toBe(200);
    expect((await ctx.app.inject({ method: 'DELETE', url: `/v1/org-units/${id}`, headers: withId('req-delete-3') })).statusCode).toBe(204);

    const entries = await auditEntries(ctx.app, await auditor(r), { recordId: id });
    expect(entries.map((e) => [e.op, e.version, e.requestId])).toEqual([
      ['delete', 3, 'req-delete-3'],
      ['update', 2, 'req-update-2'],
      ['create', 1, 'req-create-1'],
    ]);
    for (const entry of entries) {
      expect(entry).toMatchObject({
        sub: 'zz-sync-user',
        clientId: 'zz-platform',
        callerRegion: r,
        collection: 'org-units',
        recordId: id,
        regionCode: r,
      });
      expect(Date.parse(entry.at)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(entry.at)).toBeLessThanOrEqual(Date.now() + 1000);
    }
    expect(entries.map((e) => e.id)).toEqual([...entries.map((e) => e.id)].sort((a, b) => b - a));
  });

  it('batch operations are audited one by one under the batch’s request id', async () => {
    const r = '411002';
    const writer = await platformToken(r, 'batcher', 'zz-platform');
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { ...writer, 'x-request-id': 'batch-42' },
      payload: {
        operations: [
          { op: 'upsert', collection: 'org-units', regionCode: r, externalId: 'X', data: { name: 'x', level: 'county' } },
          { op: 'upsert', collection: 'org-units', regionCode: r, externalId: 'X', data: { name: 'x2', level: 'county' } },
          { op: 'delete', collection: 'org-units', regionCode: r, externalId: 'X' },
        ],
      },
    });
    const [first] = res.json<{ results: { id: string }[] }>().results;
    const entries = await auditEntries(ctx.app, await auditor(r), { recordId: String(first?.id) });
    expect(entries.map((e) => [e.op, e.version, e.requestId, e.sub])).toEqual([
      ['delete', 3, 'batch-42', 'batcher'],
      ['update', 2, 'batch-42', 'batcher'],
      ['create', 1, 'batch-42', 'batcher'],
    ]);
  });

  it('a write refused by a rule, a reference or a version check leaves no audit row', async () => {
    const r = '411003';
    const writer = await platformToken(r, 'w', 'c');
    const unit = await givenOrgUnit(ctx.app, writer, r, 'U');
    const attempts = [
      await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${unit.id}`, headers: writer, payload: { parentId: unit.id } }),
      await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${unit.id}`, headers: writer, payload: { parentExternalId: 'NOPE' } }),
      await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${unit.id}`, headers: { ...writer, 'if-match': '"4"' }, payload: { name: 'x' } }),
      await ctx.app.inject({ method: 'PUT', url: `/v1/org-units/external/${r}/V`, headers: writer, payload: { name: 'v', level: 'county', parentExternalId: 'NOPE' } }),
    ];
    expect(attempts.map((a) => a.statusCode)).toEqual([422, 422, 412, 422]);
    const entries = await auditEntries(ctx.app, await auditor(r), { collection: 'org-units' });
    expect(entries.map((e) => [e.recordId, e.op])).toEqual([[unit.id, 'create']]);
  });

  it('failed operations of a batch, and every operation of a rolled-back atomic batch, leave no audit row', async () => {
    const r = '411004';
    const writer = await platformToken(r, 'w', 'c');
    const op = (externalId: string, data: Record<string, unknown>) => ({ op: 'upsert', collection: 'org-units', regionCode: r, externalId, data });
    const partial = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: writer,
      payload: { operations: [op('OK', { name: 'ok', level: 'county' }), op('BAD', { name: 'bad', level: 'county', parentExternalId: 'NOPE' })] },
    });
    expect(partial.json().results.map((x: { status: number }) => x.status)).toEqual([201, 422]);
    const atomic = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: writer,
      payload: {
        atomic: true,
        operations: [op('T1', { name: 't1', level: 'county' }), op('OK', { name: 'changed', level: 'county' }), op('T2', { name: 't2', level: 'galaxy' })],
      },
    });
    expect(atomic.statusCode).toBe(422);
    const entries = await auditEntries(ctx.app, await auditor(r), {});
    expect(entries.map((e) => [e.op, e.version])).toEqual([['create', 1]]);
    expect(entries[0]?.recordId).toBe(partial.json().results[0].id);
  });
});

describe('reading the audit log', () => {
  it('needs audit:read', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/audit', headers: await bearer({ region: '411005', scope: 'records:read records:write' }) });
    expect(res.statusCode).toBe(403);
    expect(problemOf(res).code).toBe('insufficient_scope');
  });

  it('filters by recordId, op, collection, sub and region', async () => {
    const r = '411006';
    const alice = await platformToken(r, 'alice', 'c');
    const bob = await platformToken(r, 'bob', 'c');
    const a = await givenOrgUnit(ctx.app, alice, r, 'A');
    const b = await givenOrgUnit(ctx.app, bob, r, 'B');
    await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${a.id}`, headers: bob, payload: { name: 'renamed' } });
    await ctx.app.inject({ method: 'DELETE', url: `/v1/org-units/${b.id}`, headers: alice });
    const headers = await auditor(r);
    const pick = (entries: AuditJson[]) => entries.map((e) => `${e.op}:${e.recordId === a.id ? 'A' : 'B'}:${e.sub}`);

    expect(pick(await auditEntries(ctx.app, headers, { recordId: a.id }))).toEqual(['update:A:bob', 'create:A:alice']);
    expect(pick(await auditEntries(ctx.app, headers, { op: 'create' }))).toEqual(['create:B:bob', 'create:A:alice']);
    expect(pick(await auditEntries(ctx.app, headers, { op: 'delete' }))).toEqual(['delete:B:alice']);
    expect(pick(await auditEntries(ctx.app, headers, { sub: 'bob' }))).toEqual(['update:A:bob', 'create:B:bob']);
    expect(pick(await auditEntries(ctx.app, headers, { recordId: b.id, op: 'update' }))).toEqual([]);
    expect(await auditEntries(ctx.app, headers, { collection: 'org-units' })).toHaveLength(4);
    expect(await auditEntries(ctx.app, headers, { collection: 'no-such-collection' })).toEqual([]);
    expect(await auditEntries(ctx.app, headers, { regionCode: '411007' })).toEqual([]);
    const province = await bearer({ region: '410000', scope: 'audit:read' });
    expect(await auditEntries(ctx.app, province, { regionCode: r })).toHaveLength(4);

    const bad = await ctx.app.inject({ method: 'GET', url: '/v1/audit?op=approve', headers });
    expect(bad.statusCode).toBe(400);
    expect(problemOf(bad).errors?.[0]?.path).toBe('/op');
  });

  it('filters by time: from and to include an entry at exactly the instant it shows', async () => {
    const r = '411008';
    const writer = await platformToken(r, 'w', 'c');
    await givenOrgUnit(ctx.app, writer, r, 'A');
    const headers = await auditor(r);
    const [entry] = await auditEntries(ctx.app, headers, {});
    expect(entry).toBeDefined();
    const at = String(entry?.at);
    expect(await auditEntries(ctx.app, headers, { from: at })).toHaveLength(1);
    expect(await auditEntries(ctx.app, headers, { to: at })).toHaveLength(1);
    expect(await auditEntries(ctx.app, headers, { from: at, to: at })).toHaveLength(1);
    expect(await auditEntries(ctx.app, headers, { from: new Date(Date.parse(at) + 1).toISOString() })).toEqual([]);
    expect(await auditEntries(ctx.app, headers, { to: new Date(Date.parse(at) - 1).toISOString() })).toEqual([]);
  });

  it('pages newest first with limit and nextCursor, every entry exactly once', async () => {
    const r = '411009';
    const writer = await platformToken(r, 'w', 'c');
    for (let n = 0; n < 5; n++) await givenOrgUnit(ctx.app, writer, r, `U-${n}`);
    const headers = await auditor(r);
    const ids: number[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await ctx.app.inject({ method: 'GET', url, headers });
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json<{ items: AuditJson[]; nextCursor: string | null }>();
      sizes.push(page.items.length);
      ids.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor && sizes.length < 10);
    expect(sizes).toEqual([2, 2, 1]);
    expect(new Set(ids).size).toBe(5);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  });
});

describe('append-only', () => {
  async function someEntry() {
    const r = '411010';
    const writer = await platformToken(r, 'w', 'c');
    const unit = await givenOrgUnit(ctx.app, writer, r, `A-${Math.random().toString(36).slice(2, 8)}`);
    const [entry] = await auditEntries(ctx.app, await auditor(r), { recordId: unit.id });
    if (!entry) throw new Error('no audit entry');
    return entry;
  }

  const count = async () =>
    Number((await queryRows<{ n: number }>(ctx.database.db, sql`select count(*)::int as n from audit_log`))[0]?.n);

  it('refuses UPDATE and DELETE on audit_log, whoever connects', async () => {
    const entry = await someEntry();
    const n = await count();
    const update = await ctx.database.db.execute(sql`update audit_log set sub = 'someone else' where id = ${entry.id}`).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(messageChain(update)).toMatch(/append-only/);
    const del = await ctx.database.db.execute(sql`delete from audit_log where id = ${entry.id}`).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(messageChain(del)).toMatch(/append-only/);
    const wipe = await ctx.database.db.execute(sql`delete from audit_log`).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(messageChain(wipe)).toMatch(/append-only/);
    expect(await count()).toBe(n);
    const [still] = await queryRows<{ sub: string }>(ctx.database.db, sql`select sub from audit_log where id = ${entry.id}`);
    expect(still?.sub).toBe(entry.sub);
  });

  // TRUNCATE fires no row trigger; a statement trigger guards it. It runs in a transaction that is rolled back.
  it('refuses TRUNCATE of audit_log', async () => {
    await someEntry();
    const n = await count();
    const outcome = await ctx.database
      .transaction(async (tx) => {
        await tx.execute(sql`truncate audit_log`);
        throw new Error('TRUNCATE was accepted');
      })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(await count()).toBe(n);
    expect(messageChain(outcome)).toMatch(/append-only/);
  });
});
