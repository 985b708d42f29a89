import { and, eq, getTableName, isNull, sql, type SQL } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { writeDataset } from '../../src/cli/seed.js';
import { collectionRegistry, collections } from '../../src/collections/index.js';
import { assistants, cases, credentials, officers } from '../../src/db/schema/index.js';
import { queryRows } from '../../src/db/client.js';
import { todayInShanghai } from '../../src/domain/dates.js';
import { maskIdCard, maskPhone } from '../../src/domain/masking.js';
import { demoDataset } from '../../src/demo/generator.js';
import { compiledList } from '../../src/records/compiled-read.js';
import { fillMaskedBodies, fillMaskedForms } from '../../src/records/masked-forms.js';
import { coverageRange, coveredBy } from '../../src/records/region-scope.js';
import { bodySelectionOf, selectRows } from '../../src/records/store.js';
import type { StoredRow } from '../../src/records/definition.js';
import { instant, RawJson } from '../../src/records/render.js';
import { createPiiCipher } from '../../src/security/pii.js';
import { bearer, isPostgres, TEST_PII_KEY, useTestApp } from '../support/context.js';

// The read path's stored and compiled forms (the performance work of the read path) give what the plain
// forms give: masked values stored at write time equal the mask of the decrypted value, a list statement
// compiled once per collection returns the rows the query builder returns, and records made from their
// kept masked bodies equal the records rendered from the columns.

const ctx = useTestApp();
const registry = collectionRegistry(collections);
const cipher = createPiiCipher(TEST_PII_KEY);
const today = todayInShanghai();
const dataset = demoDataset({ seed: 'read-path', officers: 40, today });
let seeded: Promise<unknown> | undefined;

function seed() {
  seeded ??= bearer({ region: '410000', scope: 'records:read records:write pii:read identities:bulk' }).then((headers) =>
    writeDataset(ctx.app, dataset, { authorization: headers.authorization }),
  );
  return seeded;
}

describe('stored masked forms', () => {
  it('equal the mask of the decrypted value for every officer and assistant', async () => {
    await seed();
    for (const table of ['officers', 'assistants']) {
      const rows = await queryRows<{ id_card_number_cipher: string; id_card_number_masked: string; phone_cipher: string | null; phone_masked: string | null }>(
        ctx.database.db,
        sql`select id_card_number_cipher, id_card_number_masked, phone_cipher, phone_masked from ${sql.identifier(table)}`,
      );
      expect(rows.length, table).toBeGreaterThan(10);
      for (const row of rows) {
        expect(row.id_card_number_masked).toBe(maskIdCard(cipher.decrypt(row.id_card_number_cipher)));
        expect(row.phone_masked).toBe(row.phone_cipher === null ? null : maskPhone(cipher.decrypt(row.phone_cipher)));
      }
    }
  });

  it('are not needed: a row written before they were stored reads the same, and start-up stores them', async () => {
    await seed();
    const headers = await bearer({ region: '410000', scope: 'records:read' });
    const stored = async () =>
      (
        await queryRows<{ id: string; id_card_number_masked: string | null; phone_masked: string | null }>(
          ctx.database.db,
          sql`select id, id_card_number_masked, phone_masked from officers where deleted_at is null and phone_cipher is not null order by id limit 3`,
        )
      );
    const people = await stored();
    const before = await Promise.all(people.map(async (o) => (await ctx.app.inject({ method: 'GET', url: `/v1/officers/${o.id}`, headers })).json()));
    expect(before[0].idCardNumber).toMatch(/^\d{3}\*{11}[\dX]{4}$/);
    await ctx.database.db.execute(sql`update officers set id_card_number_masked = null, phone_masked = null where id in ${sql.raw(`(${people.map((o) => `'${o.id}'`).join(', ')})`)}`);
    const after = await Promise.all(people.map(async (o) => (await ctx.app.inject({ method: 'GET', url: `/v1/officers/${o.id}`, headers })).json()));
    expect(after).toEqual(before);
    expect(await fillMaskedForms(ctx.database, collections, cipher)).toBe(people.length);
    expect(await stored()).toEqual(people);
    expect(await fillMaskedForms(ctx.database, collections, cipher)).toBe(0);
  });
});

describe.runIf(isPostgres())('compiled list statements (PostgreSQL)', () => {
  const callers = ['410000', '410100', '410105', '411000'];
  const filtersOf: Record<string, (region: string) => (SQL | undefined)[]> = {
    officers: () => [eq(officers.employmentStatus, 'active')],
    credentials: () => [eq(credentials.kind, 'enforcement')],
    assistants: () => [eq(assistants.status, 'active')],
    cases: () => [eq(cases.major, true)],
  };

  it('return the rows the query builder returns, for every collection, caller and filter', async () => {
    await seed();
    const pool = ctx.database.pool!;
    let compared = 0;
    for (const def of collections) {
      for (const region of callers) {
        const [lo, hi] = coverageRange(region);
        const sources = { lo: sql`${lo}`, hi: sql`${hi}`, today: sql`${today}` };
        const conditions = [undefined, ...(filtersOf[def.name]?.(region) ?? [])];
        for (const extra of conditions) {
          const where = and(isNull(def.table.deletedAt), coveredBy(def.table.regionCode, region), extra);
          for (const limit of [1, 7, 500]) {
            // The record's own times stay in PostgreSQL's text form, which the renderer reads as the same instant.
            const times = (rows: StoredRow[]) => rows.map((row) => ({ ...row, createdAt: instant(row.createdAt), updatedAt: instant(row.updatedAt) }));
            const built = await selectRows(ctx.database.db, def, registry, where, { limit, orderById: true, sources });
            const { ids, rows: compiled } = await compiledList(pool, def, registry, { where, limit, lo, hi, today });
            expect(ids).toEqual(compiled.map((row) => row.id));
            // The body form too, whose JSON sources stay text (RawJson), the same values once parsed.
            const builtBodies = await ctx.database.db.select(bodySelectionOf(def, registry, sources)).from(def.table).where(where).orderBy(def.table.id).limit(limit);
            const { rows: compiledBodies } = await compiledList(pool, def, registry, { where, limit, lo, hi, today }, 'body');
            const parsed = (rows: Record<string, unknown>[]) =>
              rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof RawJson ? JSON.parse(v.text) : v])));
            expect(times(parsed(compiledBodies) as StoredRow[]), `${def.name} bodies as ${region}, limit ${limit}`).toEqual(times(builtBodies as StoredRow[]));
            for (const row of compiled) expect(typeof row.updatedAt).toBe('string');
            expect(times(compiled), `${def.name} as ${region}, limit ${limit}`).toEqual(times(built));
            compared += built.length;
          }
        }
      }
    }
    // The demo set reaches every collection, so the comparison saw real rows (and summaries) everywhere.
    expect(compared).toBeGreaterThan(1000);
  });

  it('answer the list route: an officer page with its summaries as the read by id shows them', async () => {
    await seed();
    const headers = await bearer({ region: '410100', scope: 'records:read' });
    const page = (await ctx.app.inject({ method: 'GET', url: '/v1/officers?limit=20&employmentStatus=active', headers })).json();
    expect(page.items.length).toBeGreaterThan(0);
    for (const item of page.items) {
      const one = (await ctx.app.inject({ method: 'GET', url: `/v1/officers/${item.id}`, headers })).json();
      expect(item).toEqual(one);
    }
  });

  it('leave out what left the page between its two statements: moved out of the reader\'s regions or of its filter, or deleted', async () => {
    const writer = await bearer({ region: '410108', scope: 'records:read records:write' });
    const keys = ['RACE-A', 'RACE-B', 'RACE-C', 'RACE-D', 'RACE-E'];
    for (const key of keys) {
      const res = await ctx.app.inject({ method: 'PUT', url: `/v1/org-units/external/410108/${key}`, headers: writer, payload: { name: `惠济区执法中队 ${key}`, level: 'street' } });
      expect(res.statusCode, res.body).toBe(201);
    }
    const pool = ctx.database.pool!;
    const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<{ rows: { ids?: string[] }[] }>;
    let chosen: string[] | undefined;
    // Between the statement choosing the page and the one reading it, another client commits a move out of
    // the reader's city, a move to another district of it (out of the page's filter) and a delete.
    (pool as unknown as { query: typeof query }).query = async (...args: unknown[]) => {
      const result = await query(...args);
      const text = (args[0] as { text?: string } | undefined)?.text ?? '';
      if (chosen === undefined && text.startsWith('select coalesce(array_agg')) {
        chosen = result.rows[0]?.ids ?? [];
        await query(`update org_units set region_code = '410305' where id = $1`, [chosen[0]]);
        await query(`update org_units set region_code = '410122' where id = $1`, [chosen[1]]);
        await query(`update org_units set deleted_at = now() where id = $1`, [chosen[2]]);
      }
      return result;
    };
    const reader = await bearer({ region: '410100', scope: 'records:read pii:read' });
    let first: { items: { id: string; regionCode: string }[]; nextCursor: string | null };
    try {
      first = (await ctx.app.inject({ method: 'GET', url: '/v1/org-units?regionCode=410108&limit=3', headers: reader })).json();
    } finally {
      (pool as unknown as { query: typeof query }).query = query;
    }
    expect(chosen).toHaveLength(4);
    expect(first.items.map((item) => item.id)).toEqual([]);
    // The next page starts after the three records the first chose, not over again.
    expect(first.nextCursor).not.toBeNull();
    const second = (await ctx.app.inject({ method: 'GET', url: `/v1/org-units?regionCode=410108&limit=3&cursor=${first.nextCursor}`, headers: reader })).json();
    const rest = second.items.map((item: { id: string }) => item.id);
    expect(rest).toHaveLength(2);
    expect(rest[0]).toBe(chosen![3]);
    for (const gone of chosen!.slice(0, 3)) expect(rest).not.toContain(gone);
    expect(second.items.every((item: { regionCode: string }) => item.regionCode === '410108')).toBe(true);
    expect(second.nextCursor).toBeNull();
  });
});

describe('kept masked bodies', () => {
  const masked = (region = '410000') => bearer({ region, scope: 'records:read' });
  const full = (region = '410000') => bearer({ region, scope: 'records:read pii:read' });

  /** Every record of a collection, page by page, as the caller sees it. */
  async function readAll(collection: string, headers: { authorization: string }) {
    const items: Record<string, unknown>[] = [];
    let url: string | null = `/v1/${collection}?limit=500`;
    while (url) {
      const response: { statusCode: number; headers: Record<string, unknown>; json(): { items: Record<string, unknown>[]; nextCursor: string | null } } =
        await ctx.app.inject({ method: 'GET', url, headers });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      // Written compactly throughout, the summaries from the database too.
      expect((response as unknown as { body: string }).body).not.toMatch(/" : |, "/);
      const page = response.json();
      items.push(...page.items);
      url = page.nextCursor ? `/v1/${collection}?limit=500&cursor=${page.nextCursor}` : null;
    }
    return items;
  }

  /** What a caller without pii:read must see of a record read in full: personal fields masked, birth dates hidden. */
  function maskedFrom(collection: string, record: Record<string, unknown>) {
    const out = { ...record };
    for (const p of registry.get(collection)?.pii ?? []) {
      const value = out[p.field];
      if (p.kind === 'birth_date') out[p.field] = null;
      else if (typeof value === 'string') out[p.field] = p.kind === 'id_card' ? maskIdCard(value) : maskPhone(value);
    }
    return out;
  }

  it('are kept for every live record, and a masked read made from them equals the full read masked', async () => {
    await seed();
    let compared = 0;
    // A province reader, and a district reader, who sees no keys of records referred to in other districts.
    for (const [def, region] of collections.flatMap((d) => [[d, '410000'] as const, [d, '410105'] as const])) {
      const [maskedHeaders, fullHeaders] = await Promise.all([masked(region), full(region)]);
      const table = sql.identifier(getTableName(def.table));
      const [missing] = await queryRows<{ n: number }>(
        ctx.database.db,
        sql`select count(*)::int as n from ${table} where deleted_at is null and (masked_body is null or masked_body_format is null)`,
      );
      expect(missing!.n, def.name).toBe(0);
      const seen = await readAll(def.name, maskedHeaders);
      const shown = await readAll(def.name, fullHeaders);
      expect(seen.map((r) => r['id']), def.name).toEqual(shown.map((r) => r['id']));
      seen.forEach((record, i) => expect(record, `${def.name} ${String(record['id'])} as ${region}`).toEqual(maskedFrom(def.name, shown[i]!)));
      compared += seen.length;
      // By id too, with the same entity tag either way.
      for (const record of shown.slice(0, 3)) {
        const one = await ctx.app.inject({ method: 'GET', url: `/v1/${def.name}/${String(record['id'])}`, headers: maskedHeaders });
        const all = await ctx.app.inject({ method: 'GET', url: `/v1/${def.name}/${String(record['id'])}`, headers: fullHeaders });
        expect(one.json()).toEqual(maskedFrom(def.name, all.json()));
        expect(one.headers.etag, def.name).toBe(all.headers.etag);
        const again = await ctx.app.inject({
          method: 'GET',
          url: `/v1/${def.name}/${String(record['id'])}`,
          headers: { ...maskedHeaders, 'if-none-match': String(one.headers.etag) },
        });
        expect(again.statusCode).toBe(304);
      }
    }
    expect(compared).toBeGreaterThan(800);
  });

  it('are what a masked read shows, and a missing or outdated one is rendered afresh, then kept again', async () => {
    await seed();
    const headers = await masked();
    const pick = async (table: string) =>
      (await queryRows<{ id: string }>(ctx.database.db, sql`select id from ${sql.identifier(table)} where deleted_at is null order by id limit 4`)).map(
        (r) => r.id,
      );
    const officerIds = await pick('officers');
    const credentialIds = await pick('credentials');
    const read = async (collection: string, ids: string[]) =>
      Promise.all(ids.map(async (id) => (await ctx.app.inject({ method: 'GET', url: `/v1/${collection}/${id}`, headers })).json()));
    const officersBefore = await read('officers', officerIds);
    const credentialsBefore = await read('credentials', credentialIds);
    const listed = async () => (await readAll('officers', headers)).filter((r) => officerIds.includes(String(r['id'])));
    const listedBefore = await listed();

    // Records kept whole would be sent instead of their bodies (record-views.test.ts): forgotten here.
    const forgetViews = () => ctx.database.db.execute(sql`delete from record_views`);

    // The body is what is shown: a changed body shows through (to masked readers only).
    const [first] = officerIds;
    await ctx.database.db.execute(sql`update officers set masked_body = jsonb_set(masked_body::jsonb, '{name}', '"KEPT"')::text where id = ${first}`);
    await forgetViews();
    expect((await read('officers', [first!]))[0].name).toBe('KEPT');
    const fullView = await ctx.app.inject({ method: 'GET', url: `/v1/officers/${first}`, headers: await full() });
    expect(fullView.json().name).toBe(officersBefore[0].name);

    // Missing, or kept in another format: rendered from the columns, the same as before.
    const ids = (list: string[]) => sql.raw(`(${list.map((id) => `'${id}'`).join(', ')})`);
    await ctx.database.db.execute(sql`update officers set masked_body = null where id in ${ids(officerIds.slice(0, 2))}`);
    await ctx.database.db.execute(
      sql`update officers set masked_body = jsonb_set(masked_body::jsonb, '{name}', '"OLDER"')::text, masked_body_format = 'older' where id in ${ids(officerIds.slice(2))}`,
    );
    await ctx.database.db.execute(sql`update credentials set masked_body = null where id in ${ids(credentialIds)}`);
    await forgetViews();
    expect(await read('officers', officerIds)).toEqual(officersBefore);
    expect(await read('credentials', credentialIds)).toEqual(credentialsBefore);
    expect(await listed()).toEqual(listedBefore);

    expect(await fillMaskedBodies(ctx.database, collections, registry, cipher)).toBe(officerIds.length + credentialIds.length);
    expect(await fillMaskedBodies(ctx.database, collections, registry, cipher)).toBe(0);
    expect(await read('officers', officerIds)).toEqual(officersBefore);
    expect(await read('credentials', credentialIds)).toEqual(credentialsBefore);
    expect(await listed()).toEqual(listedBefore);
  });
});
