/**
 * The change feed (DESIGN §4): every committed change in the caller's regions exactly once, in order,
 * also when concurrent transactions commit out of sequence order.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { collectionRegistry } from '../../src/collections/index.js';
import { queryRows, type Database } from '../../src/db/client.js';
import { todayInShanghai } from '../../src/domain/dates.js';
import { createRecordEngine } from '../../src/records/engine.js';
import { runWrite, type CallContext } from '../../src/records/write-scope.js';
import { createPiiCipher } from '../../src/security/pii.js';
import { bearer, isPostgres, TEST_PII_KEY, useTestApp } from '../support/context.js';
import {
  drainFeed,
  feedHead,
  givenOrgUnit,
  problemOf,
  readFeedPage,
  type ChangeJson,
  type Headers,
  type RecordJson,
} from '../support/fixtures.js';
import { anOfficer, anOrgUnit, put } from '../support/people-fixtures.js';

const ctx = useTestApp();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('feed basics', () => {
  it('each entry’s record equals the record as it was read right after that version was written', async () => {
    const r = '410601';
    const headers = await bearer({ region: r });
    const head = await feedHead(ctx.app, headers);
    const parent = await givenOrgUnit(ctx.app, headers, r, 'P', { level: 'county' });
    const asOf: RecordJson[] = [];
    const read = async (id: string) => (await ctx.app.inject({ method: 'GET', url: `/v1/org-units/${id}`, headers })).json<RecordJson>();
    const child = await givenOrgUnit(ctx.app, headers, r, 'C', { name: 'v1', level: 'street' });
    asOf.push(await read(child.id));
    await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${child.id}`, headers, payload: { name: 'v2', parentExternalId: 'P' } });
    asOf.push(await read(child.id));
    await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${child.id}`, headers, payload: { parentId: null, parentExternalId: null } });
    asOf.push(await read(child.id));
    await ctx.app.inject({ method: 'DELETE', url: `/v1/org-units/${child.id}`, headers });

    const { items } = await drainFeed(ctx.app, headers, { after: head });
    expect(items.map((i) => [i.externalId, i.version, i.op])).toEqual([
      ['P', 1, 'upsert'],
      ['C', 1, 'upsert'],
      ['C', 2, 'upsert'],
      ['C', 3, 'upsert'],
      ['C', 4, 'delete'],
    ]);
    expect(items[0]?.record).toEqual(parent);
    expect(items.slice(1, 4).map((i) => i.record)).toEqual(asOf);
    expect(asOf[1]).toMatchObject({ parentId: parent.id, parentExternalId: 'P', name: 'v2' });
    expect(items[4]?.record).toBeNull();
    for (const item of items) {
      expect(item).toMatchObject({ collection: 'org-units', regionCode: r });
      expect(Date.parse(item.changedAt)).not.toBeNaN();
    }
    expect(items.map((i) => i.id)).toEqual([parent.id, child.id, child.id, child.id, child.id]);
  });

  it('filters by collections and refuses an unknown collection', async () => {
    const r = '410602';
    const headers = await bearer({ region: r });
    const head = await feedHead(ctx.app, headers);
    const unit = await givenOrgUnit(ctx.app, headers, r, 'U');
    const ours = await drainFeed(ctx.app, headers, { after: head, collections: 'org-units' });
    expect(ours.items.map((i) => i.id)).toEqual([unit.id]);
    const spaced = await drainFeed(ctx.app, headers, { after: head, collections: ' org-units , ' });
    expect(spaced.items.map((i) => i.id)).toEqual([unit.id]);

    // Another registered collection, if any: its filter leaves the org unit out.
    const other = [...collectionRegistry().keys()].find((name) => name !== 'org-units');
    if (other) {
      expect((await drainFeed(ctx.app, headers, { after: head, collections: other })).items).toEqual([]);
      expect((await drainFeed(ctx.app, headers, { after: head, collections: `${other},org-units` })).items.map((i) => i.id)).toEqual([unit.id]);
    }

    // An empty `after` starts at the beginning, and the cursor given back is one the feed accepts, also to a
    // district reader with no entries at all.
    const quiet = await bearer({ region: '410698' });
    const fromEmpty = await ctx.app.inject({ method: 'GET', url: '/v1/changes?after=', headers: quiet });
    expect(fromEmpty.statusCode).toBe(200);
    const { nextCursor } = fromEmpty.json() as { nextCursor: string };
    expect(nextCursor).not.toBe('');
    expect((await ctx.app.inject({ method: 'GET', url: `/v1/changes?after=${nextCursor}`, headers: quiet })).statusCode).toBe(200);

    // Naming none is refused too: it matched nothing, and a city's cursor moved past every entry.
    for (const collections of ['spaceships', 'org-units,spaceships', 'ORG-UNITS', '', ',', ' , ']) {
      const res = await ctx.app.inject({ method: 'GET', url: `/v1/changes?collections=${encodeURIComponent(collections)}`, headers });
      expect(res.statusCode, collections).toBe(400);
      expect(problemOf(res)).toMatchObject({ code: 'validation_failed', errors: [expect.objectContaining({ path: '/collections', in: 'query' })] });
    }
  });

  it('refuses a cursor it never issued to the reader, for every kind of reader', async () => {
    // A cursor from another database, or from before a restore, would otherwise answer empty pages for ever.
    const writer = await bearer({ region: '410000' });
    const cursorAt = (seq: number) => Buffer.from(`s${seq}`).toString('base64url');
    const lastSeq = async () =>
      Number((await queryRows<{ n: string }>(ctx.database.db, sql`select last_seq as n from change_sequence where id = 1`))[0]!.n);
    await givenOrgUnit(ctx.app, writer, '410108', 'ISSUED-OWN');
    const own = await lastSeq();
    await givenOrgUnit(ctx.app, writer, '410105', 'ISSUED-OTHER');
    for (const region of ['410100', '410000']) {
      const headers = await bearer({ region });
      const ahead = await ctx.app.inject({ method: 'GET', url: `/v1/changes?after=${cursorAt((await lastSeq()) + 1000)}`, headers });
      expect(ahead.statusCode, region).toBe(400);
      expect(problemOf(ahead)).toMatchObject({ code: 'validation_failed', errors: [expect.objectContaining({ path: '/after', in: 'query' })] });
      // The head itself is a cursor the feed issued: an empty page, not a refusal.
      const atHead = await ctx.app.inject({ method: 'GET', url: `/v1/changes?after=${cursorAt(await lastSeq())}`, headers });
      expect(atHead.statusCode, region).toBe(200);
    }
    // A district reader is only ever given the numbers of its own entries: past its last one it is refused,
    // whatever other regions wrote since — the answer tells it nothing of them.
    const district = await bearer({ region: '410108' });
    const atOwn = await ctx.app.inject({ method: 'GET', url: `/v1/changes?after=${cursorAt(own)}`, headers: district });
    expect(atOwn.statusCode).toBe(200);
    expect(atOwn.json()).toEqual({ items: [], nextCursor: cursorAt(own) });
    const pastOwn = await ctx.app.inject({ method: 'GET', url: `/v1/changes?after=${cursorAt(own + 1)}`, headers: district });
    expect(pastOwn.statusCode).toBe(400);
    // A cursor spelled otherwise (padded) is not one the feed issued.
    const spelled = await ctx.app.inject({ method: 'GET', url: `/v1/changes?after=${cursorAt(own)}%3D%3D`, headers: district });
    expect(spelled.statusCode).toBe(400);
  });

  it('resumes from a cursor: pages join without gaps or repeats, and an empty page keeps the cursor', async () => {
    const r = '410603';
    const headers = await bearer({ region: r });
    const head = await feedHead(ctx.app, headers);
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) ids.push((await givenOrgUnit(ctx.app, headers, r, `U-${n}`)).id);

    const pages: ChangeJson[][] = [];
    let cursor = head;
    for (;;) {
      const page = await readFeedPage(ctx.app, headers, { after: cursor, limit: 2 });
      if (page.items.length === 0) {
        expect(page.nextCursor).toBe(cursor);
        break;
      }
      pages.push(page.items);
      cursor = page.nextCursor;
    }
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    const all = pages.flat();
    expect(all.map((i) => i.id)).toEqual(ids);
    expect(all.map((i) => i.seq)).toEqual([...all.map((i) => i.seq)].sort((a, b) => a - b));

    // Later changes come after the saved cursor, and only they.
    await ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${ids[2]}`, headers, payload: { name: 'renamed' } });
    const later = await drainFeed(ctx.app, headers, { after: cursor });
    expect(later.items.map((i) => [i.id, i.version])).toEqual([[ids[2], 2]]);
    // Starting without a cursor reads from the beginning.
    const fromStart = await drainFeed(ctx.app, headers);
    expect(fromStart.items.map((i) => i.id)).toEqual([...ids, ids[2]]);
  });

  it('validates limit', async () => {
    const headers = await bearer({ region: '410604' });
    for (const limit of ['0', '1001', 'many']) {
      const res = await ctx.app.inject({ method: 'GET', url: `/v1/changes?limit=${limit}`, headers });
      expect(res.statusCode, limit).toBe(400);
    }
    const empty = await ctx.app.inject({ method: 'GET', url: '/v1/changes', headers });
    expect(empty.json()).toEqual({ items: [], nextCursor: expect.any(String) });
  });
});

interface Written {
  id: string;
  version: number;
}

describe('exactly once, in order, under concurrent writers', () => {
  it('a reader following nextCursor while ~20 writers commit sees every change once, in seq order, versions ascending', async () => {
    const city = '410700';
    const writers = isPostgres() ? 20 : 6;
    const rounds = isPostgres() ? 12 : 5;
    const reader = await bearer({ region: city, scope: 'records:read' });
    const start = await feedHead(ctx.app, reader);

    const committed: Written[] = [];
    const record = (id: string | undefined, version: number | undefined) => {
      if (!id || version === undefined) throw new Error('write answered without id/version');
      committed.push({ id, version });
    };

    async function writer(w: number) {
      const region = `4107${String(w + 1).padStart(2, '0')}`;
      const headers = await bearer({ region, scope: 'records:write', sub: `writer-${w}` });
      for (let round = 0; round < rounds; round++) {
        // Single upserts: a new record, then a change to an older one (so records gain versions).
        for (const [i, key] of [`S-${round}`, `S-${Math.floor(round / 2)}`].entries()) {
          const res = await ctx.app.inject({
            method: 'PUT',
            url: `/v1/org-units/external/${region}/${key}`,
            headers,
            payload: { name: `w${w} r${round} #${i}`, level: 'street' },
          });
          if (res.statusCode !== 200 && res.statusCode !== 201) throw new Error(`upsert answered ${res.statusCode}: ${res.body}`);
          const body = res.json<RecordJson>();
          record(body.id, body.version);
        }
        // A small batch, atomic every other round, touching new and existing records.
        const res = await ctx.app.inject({
          method: 'POST',
          url: '/v1/batch',
          headers,
          payload: {
            atomic: round % 2 === 0,
            operations: [
              { op: 'upsert', collection: 'org-units', regionCode: region, externalId: `B-${round}-a`, data: { name: `b${round}`, level: 'street' } },
              { op: 'upsert', collection: 'org-units', regionCode: region, externalId: `B-${round}-b`, data: { name: `b${round}`, level: 'street' } },
              { op: 'upsert', collection: 'org-units', regionCode: region, externalId: `S-${round}`, data: { name: `batched ${round}`, level: 'street' } },
              ...(round > 0 ? [{ op: 'delete', collection: 'org-units', regionCode: region, externalId: `B-${round - 1}-b` }] : []),
            ],
          },
        });
        if (res.statusCode !== 200) throw new Error(`batch answered ${res.statusCode}: ${res.body}`);
        for (const result of res.json<{ results: { status: number; id?: string; version?: number }[] }>().results) {
          if (result.status >= 300) throw new Error(`batch operation failed: ${JSON.stringify(result)}`);
          record(result.id, result.version);
        }
      }
    }

    let writing = true;
    const seen: ChangeJson[] = [];
    const tail = (async () => {
      let cursor = start;
      for (;;) {
        const stillWriting = writing;
        const page = await readFeedPage(ctx.app, reader, { after: cursor, limit: 37 });
        seen.push(...page.items);
        cursor = page.nextCursor;
        // Once the writers are done and a page comes back empty, everything committed has been read.
        if (page.items.length === 0) {
          if (!stillWriting) return;
          await sleep(2);
        }
      }
    })();

    try {
      await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
    } finally {
      writing = false;
    }
    await tail;

    const key = (c: Written) => `${c.id}@${c.version}`;
    const expected = new Set(committed.map(key));
    expect(expected.size).toBe(committed.length); // every write made a new version
    const seenKeys = seen.map(key);
    expect(new Set(seenKeys).size, 'no change seen twice').toBe(seenKeys.length);
    expect([...expected].filter((k) => !seenKeys.includes(k)), 'no committed change skipped').toEqual([]);
    expect(seenKeys.filter((k) => !expected.has(k)), 'nothing seen that was not written').toEqual([]);

    for (let i = 1; i < seen.length; i++) expect(seen[i]!.seq).toBeGreaterThan(seen[i - 1]!.seq);
    const versions = new Map<string, number[]>();
    for (const item of seen) versions.set(item.id, [...(versions.get(item.id) ?? []), item.version]);
    for (const [id, list] of versions) expect(list, id).toEqual(list.map((_, i) => i + 1));
    expect(seen.length).toBe(writers * rounds * 5 + writers * (rounds - 1));
  });
});

describe.skipIf(!isPostgres())('a transaction that commits late is not skipped (PostgreSQL)', () => {
  const engineFor = () => createRecordEngine({ database: ctx.database, registry: collectionRegistry(), cipher: createPiiCipher(TEST_PII_KEY) });
  const callFor = (region: string, sub: string): CallContext => ({
    principal: { sub, clientId: 'feed-test', scopes: new Set(['records:read', 'records:write']), region, exp: Math.floor(Date.now() / 1000) + 600 },
    requestId: `${sub}-request`,
    today: todayInShanghai(),
  });

  /** Sessions of this database waiting for a lock (B queued behind A). */
  const lockWaiters = async () =>
    Number(
      (
        await queryRows<{ n: number }>(
          ctx.database.db,
          sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
        )
      )[0]?.n,
    );

  /**
   * Runs an engine upsert in its own transaction (its own pool connection), pausing at `where`: after the
   * record is written but before the feed row is added, or after everything (feed row included) just
   * before COMMIT. Returns when paused, with a function that lets it finish.
   */
  async function pausedWrite(where: 'before-feed' | 'before-commit', region: string, key: string) {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let paused!: () => void;
    const reached = new Promise<void>((resolve) => (paused = resolve));
    const held: Database = {
      ...ctx.database,
      transaction: (fn) =>
        ctx.database.transaction(async (tx) => {
          const result = await fn(tx);
          if (where === 'before-commit') {
            paused();
            await gate;
          }
          return result;
        }),
    };
    const engine = engineFor();
    const def = engine.definition('org-units');
    const done = runWrite(held, callFor(region, 'writer-a'), async (scope) => {
      const outcome = await engine.upsert(scope, def, { regionCode: region, externalId: key, data: { name: `held ${key}`, level: 'street' }, ifMatch: undefined });
      if (where === 'before-feed') {
        paused();
        await gate;
      }
      return outcome;
    });
    await Promise.race([reached, done]);
    return { release, done };
  }

  it.each(['before-commit', 'before-feed'] as const)(
    'A pauses %s, B writes and commits meanwhile; a reader between them still gets A after it commits',
    async (where) => {
      const city = where === 'before-commit' ? '410800' : '410900';
      const [ra, rb] = [`${city.slice(0, 4)}01`, `${city.slice(0, 4)}02`];
      const reader = await bearer({ region: city, scope: 'records:read' });
      const start = await feedHead(ctx.app, reader);

      const a = await pausedWrite(where, ra, 'A');
      const b = ctx.app.inject({
        method: 'PUT',
        url: `/v1/org-units/external/${rb}/B`,
        headers: await bearer({ region: rb, scope: 'records:write' }),
        payload: { name: 'B', level: 'street' },
      });
      // Let B go as far as it can while A is open: to its commit, or until it waits for a lock A holds.
      const bFinished = b.then(() => true);
      for (let i = 0; i < 250; i++) {
        if (await Promise.race([bFinished, sleep(10).then(() => false)])) break;
        if ((await lockWaiters()) > 0) break;
      }
      const between = await readFeedPage(ctx.app, reader, { after: start });
      a.release();
      const [aOutcome, bRes] = await Promise.all([a.done, b]);
      expect(bRes.statusCode, bRes.body).toBe(201);
      const rest = await drainFeed(ctx.app, reader, { after: between.nextCursor });

      const seen = [...between.items, ...rest.items];
      expect(seen.map((i) => `${i.externalId}@${i.version}`).sort()).toEqual(['A@1', 'B@1']);
      expect(seen.find((i) => i.externalId === 'A')?.id).toBe(aOutcome.row.id);
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.seq).toBeGreaterThan(seen[i - 1]!.seq);
      if (where === 'before-feed') {
        // A had not taken a sequence number yet: B committed first and was already visible.
        expect(between.items.map((i) => i.externalId)).toEqual(['B']);
      }
    },
  );
});

describe('region scope of the feed', () => {
  it('shows a caller only the changes of regions it covers', async () => {
    const mine = await bearer({ region: '410605' });
    const theirs = await bearer({ region: '410606' });
    const headMine = await feedHead(ctx.app, mine);
    const headTheirs = await feedHead(ctx.app, theirs);
    const a = await givenOrgUnit(ctx.app, mine, '410605', 'MINE');
    await givenOrgUnit(ctx.app, theirs, '410606', 'THEIRS');
    expect((await drainFeed(ctx.app, mine, { after: headMine })).items.map((i) => i.id)).toEqual([a.id]);
    expect((await drainFeed(ctx.app, theirs, { after: headTheirs })).items.map((i) => i.externalId)).toEqual(['THEIRS']);
  });
});


describe('what an entry carries', () => {
  it('an officer’s entries render each version as a read right after it did, masked or in full per scope', async () => {
    const r = '410611';
    const masked = await bearer({ region: r, scope: 'records:read records:write' });
    const full = await bearer({ region: r });
    const unit = await put(ctx.app, 'org-units', r, 'LEAN-OU', anOrgUnit());
    const body = anOfficer({ orgUnitExternalId: 'LEAN-OU', phone: '13800001111', position: null });
    const heads = { masked: await feedHead(ctx.app, masked), full: await feedHead(ctx.app, full) };
    // A read also embeds the credential summary, computed at read time: not part of the stored record.
    const read = async (headers: Headers, id: string) => {
      const { summary, ...record } = (await ctx.app.inject({ method: 'GET', url: `/v1/officers/${id}`, headers })).json<RecordJson>();
      expect(summary).toBeDefined();
      return record as RecordJson;
    };
    const asOf: { masked: RecordJson[]; full: RecordJson[] } = { masked: [], full: [] };
    const remember = async (id: string) => {
      asOf.masked.push(await read(masked, id));
      asOf.full.push(await read(full, id));
    };
    const officer = await put(ctx.app, 'officers', r, 'LEAN-1', body);
    await remember(officer.id);
    await put(ctx.app, 'officers', r, 'LEAN-1', { ...body, phone: '13900002222', position: '科员' });
    await remember(officer.id);
    await put(ctx.app, 'officers', r, 'LEAN-1', { ...body, phone: null, position: '科长', orgUnitExternalId: null, orgUnitId: unit.id });
    await remember(officer.id);

    for (const who of ['masked', 'full'] as const) {
      const headers = who === 'masked' ? masked : full;
      const { items } = await drainFeed(ctx.app, headers, { after: heads[who], collections: 'officers' });
      expect(items.map((i) => i.version), who).toEqual([1, 2, 3]);
      // Also after the record moved on: each entry shows its own version.
      expect(
        items.map((i) => i.record),
        who,
      ).toEqual(asOf[who]);
    }
    expect(asOf.masked[0]).toMatchObject({ phone: '138****1111', orgUnitExternalId: 'LEAN-OU' });
    expect(asOf.full[1]).toMatchObject({ phone: '13900002222', position: '科员' });
    expect(asOf.full[2]).toMatchObject({ phone: null, orgUnitId: unit.id });
  });
});

describe('views kept with the entries', () => {
  it('a masked reader is sent the view kept at write time when it covers what the view shows; others are rendered for', async () => {
    const city = '410600';
    const readers = {
      city: await bearer({ region: city, scope: 'records:read' }),
      district: await bearer({ region: '410621', scope: 'records:read' }),
      full: await bearer({ region: '410621', scope: 'records:read pii:read' }),
    };
    const heads = {
      city: await feedHead(ctx.app, readers.city),
      district: await feedHead(ctx.app, readers.district),
      full: await feedHead(ctx.app, readers.full),
    };
    // An officer of one district in a unit of another: the unit's key shows only to readers covering both.
    const unit = await put(ctx.app, 'org-units', '410622', 'VIEW-OU', anOrgUnit());
    const written = await ctx.app.inject({
      method: 'PUT',
      url: '/v1/officers/external/410621/VIEW-1',
      headers: await bearer({ region: city }),
      payload: anOfficer({ orgUnitId: unit.id }),
    });
    expect(written.statusCode, written.body).toBe(201);
    const officer = written.json<RecordJson>();
    const read = async (who: keyof typeof readers) => {
      const { summary: _summary, ...record } = (await ctx.app.inject({ method: 'GET', url: `/v1/officers/${officer.id}`, headers: readers[who] })).json<RecordJson>();
      return record;
    };
    const entry = async (who: keyof typeof readers) => {
      const { items } = await drainFeed(ctx.app, readers[who], { after: heads[who], collections: 'officers' });
      expect(items, who).toHaveLength(1);
      return items[0]!.record;
    };
    const asRead = { city: await read('city'), district: await read('district'), full: await read('full') };
    expect(asRead.city).toMatchObject({ orgUnitExternalId: 'VIEW-OU' });
    expect(asRead.district).toMatchObject({ orgUnitExternalId: null, idCardNumber: expect.stringContaining('*') });
    for (const who of ['city', 'district', 'full'] as const) expect(await entry(who), who).toEqual(asRead[who]);

    // The city reader's entry is the kept view itself: what is kept is what is sent.
    const [kept] = await queryRows<{ scope: string; seq: string }>(
      ctx.database.db,
      sql`select masked_record_scope as scope, seq from changes where record_id = ${officer.id}`,
    );
    expect(kept?.scope).toBe('410622');
    await ctx.database.db.execute(sql`update changes set masked_record = jsonb_set(masked_record::jsonb, '{name}', '"KEPT"')::text where seq = ${kept!.seq}`);
    expect(await entry('city')).toMatchObject({ name: 'KEPT' });
    expect(await entry('district')).toEqual(asRead.district);
    expect(await entry('full')).toEqual(asRead.full);
    // A view kept in another render format (an earlier release) is not sent: the snapshot is rendered afresh.
    await ctx.database.db.execute(sql`update changes set masked_record_format = 'earlier' where seq = ${kept!.seq}`);
    expect(await entry('city')).toEqual(asRead.city);
  });
});

describe('pages of city and province readers', () => {
  it('are full across long stretches of other regions’ entries, and miss nothing', async () => {
    const writer = await bearer({ region: '410000' });
    const city = await bearer({ region: '410800' });
    const district = await bearer({ region: '410802' });
    const province = await bearer({ region: '410000' });
    const heads = { city: await feedHead(ctx.app, city), district: await feedHead(ctx.app, district), province: await feedHead(ctx.app, province) };
    const others = async (from: number, count: number) => {
      const operations = Array.from({ length: count }, (_, i) => ({
        op: 'upsert',
        collection: 'org-units',
        regionCode: '410901',
        externalId: `WIN-${from + i}`,
        data: anOrgUnit({ level: 'street' }),
      }));
      const res = await ctx.app.inject({ method: 'POST', url: '/v1/batch', headers: writer, payload: { operations } });
      expect(res.statusCode).toBe(200);
    };
    const a = await givenOrgUnit(ctx.app, writer, '410801', 'WIN-A');
    await others(0, 700);
    const b = await givenOrgUnit(ctx.app, writer, '410802', 'WIN-B');
    await others(700, 700);
    const c = await givenOrgUnit(ctx.app, writer, '410800', 'WIN-C');

    const first = await readFeedPage(ctx.app, city, { after: heads.city, limit: 2 });
    expect(first.items.map((i) => i.id)).toEqual([a.id, b.id]);
    const second = await readFeedPage(ctx.app, city, { after: first.nextCursor, limit: 2 });
    expect(second.items.map((i) => i.id)).toEqual([c.id]);
    const third = await readFeedPage(ctx.app, city, { after: second.nextCursor, limit: 2 });
    expect(third).toEqual({ items: [], nextCursor: second.nextCursor });

    expect((await drainFeed(ctx.app, district, { after: heads.district })).items.map((i) => i.id)).toEqual([b.id]);
    const all = await drainFeed(ctx.app, province, { after: heads.province, limit: 1000 });
    expect(all.items).toHaveLength(1403);
    expect(all.items.map((i) => i.seq)).toEqual([...all.items.map((i) => i.seq)].sort((x, y) => x - y));
    expect([all.items[0]?.id, all.items[701]?.id, all.items[1402]?.id]).toEqual([a.id, b.id, c.id]);
  });

  it('go on past a stretch of sequence numbers that holds no entry', async () => {
    // Numbers are handed out without gaps, but a reader must not stall on one (a restore, entries pruned by
    // hand): here 20,000 numbers with no entry, then a short gap inside the next window.
    const writer = await bearer({ region: '410000' });
    const city = await bearer({ region: '411000' });
    const province = await bearer({ region: '410000' });
    const heads = { city: await feedHead(ctx.app, city), province: await feedHead(ctx.app, province) };
    const a = await givenOrgUnit(ctx.app, writer, '411002', 'GAP-A');
    await ctx.database.db.execute(sql`update change_sequence set last_seq = last_seq + 20000 where id = 1`);
    const b = await givenOrgUnit(ctx.app, writer, '411002', 'GAP-B');
    await ctx.database.db.execute(sql`update change_sequence set last_seq = last_seq + 5 where id = 1`);
    const c = await givenOrgUnit(ctx.app, writer, '411003', 'GAP-C');
    for (const reader of [city, province]) {
      const head = reader === city ? heads.city : heads.province;
      const page = await readFeedPage(ctx.app, reader, { after: head, limit: 10 });
      expect(page.items.map((i) => i.id)).toEqual([a.id, b.id, c.id]);
      expect(await readFeedPage(ctx.app, reader, { after: page.nextCursor, limit: 10 })).toEqual({ items: [], nextCursor: page.nextCursor });
    }
  });

  it('move the cursor past other regions’ entries even when none is theirs, so a poll does not read them again', async () => {
    const writer = await bearer({ region: '410000' });
    const city = await bearer({ region: '411100' });
    const head = await feedHead(ctx.app, city);
    const operations = Array.from({ length: 300 }, (_, i) => ({
      op: 'upsert',
      collection: 'org-units',
      regionCode: '411201',
      externalId: `PASS-${i}`,
      data: anOrgUnit({ level: 'street' }),
    }));
    expect((await ctx.app.inject({ method: 'POST', url: '/v1/batch', headers: writer, payload: { operations } })).statusCode).toBe(200);
    const empty = await readFeedPage(ctx.app, city, { after: head, limit: 10 });
    expect(empty.items).toEqual([]);
    expect(empty.nextCursor).not.toBe(head);
    // The next poll starts after them: nothing repeats, nothing of the city's is skipped.
    const own = await givenOrgUnit(ctx.app, writer, '411102', 'PASS-OWN');
    const next = await readFeedPage(ctx.app, city, { after: empty.nextCursor, limit: 10 });
    expect(next.items.map((i) => i.id)).toEqual([own.id]);
    expect(await readFeedPage(ctx.app, city, { after: next.nextCursor, limit: 10 })).toEqual({ items: [], nextCursor: next.nextCursor });
  });
});
