import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { keepViewsStatement } from '../../src/records/record-views.js';
import { openTransaction, someoneWaitsOnALock } from '../support/concurrency.js';
import { bearer, isPostgres, useTestApp } from '../support/context.js';
import { aCredential, anAllocation, anEquipment, anOrgUnit, daysFromToday, put, seedAssistant, seedOfficer, today } from '../support/people-fixtures.js';

// Records kept whole for readers without pii:read (src/records/record-views.ts): a masked read is answered
// from the kept view while it is good, and any write that changes what the record shows — its own, a
// credential, a post status, equipment, a referenced unit moving — is seen by the very next read.

const ctx = useTestApp();
const readScope = 'records:read';

type Json = Record<string, unknown> & { summary?: Record<string, unknown> };

async function readAs(region: string, path: string, scope = readScope) {
  return ctx.app.inject({ method: 'GET', url: path, headers: await bearer({ region, scope }) });
}

/** The record as a masked reader and as a pii:read reader see it, the latter masked the way the former must be. */
async function maskedAndFull(region: string, path: string) {
  const [masked, full] = await Promise.all([readAs(region, path), readAs(region, path, 'records:read pii:read')]);
  const record = full.json<Json>();
  return {
    masked,
    expected: { ...record, idCardNumber: masked.json<Json>()['idCardNumber'], phone: masked.json<Json>()['phone'], birthDate: null },
  };
}

async function keptViews(ids: string[]): Promise<{ id: string; json: string | null; gen: number }[]> {
  return queryRows(ctx.database.db, sql`select id::text, json, gen from record_views where id = any(${sql.param(ids)}::uuid[]) order by id`);
}

/** Views are kept after the answer is sent: waits until these records have one. */
async function untilKept(ids: string[]) {
  for (let i = 0; i < 200; i++) {
    const views = await keptViews(ids);
    if (views.length === ids.length && views.every((v) => v.json !== null)) return views;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`views of ${ids.join(', ')} were not kept`);
}

async function poison(id: string) {
  await ctx.database.db.execute(sql`update record_views set json = jsonb_set(json::jsonb, '{name}', '"FROM THE VIEW"')::text where id = ${id}`);
}

describe('records kept whole', () => {
  it('answer masked reads by id, by key and in lists once kept, equal to the rendered record, with its tag', async () => {
    const { officer } = await seedOfficer(ctx.app, '410102', 'RV-A');
    const byId = `/v1/officers/${officer.id}`;
    const first = await maskedAndFull('410102', byId);
    expect(first.masked.json()).toEqual(first.expected);
    await untilKept([officer.id]);

    const again = await readAs('410102', byId);
    expect(again.json()).toEqual(first.expected);
    expect(again.headers.etag).toBe(first.masked.headers.etag);
    expect(again.headers['content-type']).toBe('application/json; charset=utf-8');
    const notModified = await ctx.app.inject({
      method: 'GET',
      url: byId,
      headers: { ...(await bearer({ region: '410102', scope: readScope })), 'if-none-match': String(first.masked.headers.etag) },
    });
    expect(notModified.statusCode).toBe(304);

    // What is sent is the view: changed in the database, it shows — by id, by key, in a list of any reader covering it.
    await poison(officer.id);
    expect((await readAs('410102', byId)).json<Json>()['name']).toBe('FROM THE VIEW');
    expect((await readAs('410000', `/v1/officers/external/410102/RV-A`)).json<Json>()['name']).toBe('FROM THE VIEW');
    const page = (await readAs('410100', '/v1/officers?regionCode=410102&limit=500')).json<{ items: Json[] }>();
    expect(page.items.find((r) => r['id'] === officer.id)?.['name']).toBe('FROM THE VIEW');
    // Never to a pii:read reader, who is rendered for from the columns (and audited).
    expect((await readAs('410102', byId, 'records:read pii:read')).json<Json>()['name']).not.toBe('FROM THE VIEW');
  });

  it('give list pages equal to the rendered ones, cursors included', async () => {
    for (let i = 0; i < 7; i++) await seedOfficer(ctx.app, '410113', `RV-L${i}`, { credential: i % 2 === 0 ? {} : false });
    const pages = async () => {
      const seen: { items: Json[]; nextCursor: string | null }[] = [];
      for (let cursor: string | null = null; ; ) {
        const res = await readAs('410113', `/v1/officers?regionCode=410113&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.statusCode).toBe(200);
        seen.push(res.json());
        cursor = seen[seen.length - 1]!.nextCursor;
        if (!cursor) return seen;
      }
    };
    const rendered = await pages();
    expect(rendered.map((p) => p.items.length)).toEqual([3, 3, 1]);
    const ids = rendered.flatMap((p) => p.items.map((r) => String(r['id'])));
    await untilKept(ids);
    await poison(ids[4]!);
    const kept = await pages();
    expect(kept[1]!.items[1]!['name']).toBe('FROM THE VIEW');
    kept[1]!.items[1]!['name'] = rendered[1]!.items[1]!['name'];
    expect(kept).toEqual(rendered);
    // A page of exactly the limit has no next page, from views as rendered.
    const full = await readAs('410113', '/v1/officers?regionCode=410113&limit=7');
    expect(full.json()).toEqual({ items: rendered.flatMap((p) => p.items).map((r, i) => (i === 4 ? { ...r, name: 'FROM THE VIEW' } : r)), nextCursor: null });
  });

  it('are not used the day after, nor for another version, nor in another format', async () => {
    const { officer } = await seedOfficer(ctx.app, '410103', 'RV-B');
    const byId = `/v1/officers/${officer.id}`;
    await readAs('410103', byId);
    await untilKept([officer.id]);
    for (const stale of [sql`day = day - 1`, sql`version = version - 1`, sql`format = 'older'`]) {
      await poison(officer.id);
      await ctx.database.db.execute(sql`update record_views set ${stale} where id = ${officer.id}`);
      const { masked, expected } = await maskedAndFull('410103', byId);
      expect(masked.json()).toEqual(expected);
      // Rendered afresh, and kept again.
      await untilKept([officer.id]);
      await ctx.database.db.execute(sql`update record_views set json = null where id = ${officer.id}`);
      await readAs('410103', byId);
      await untilKept([officer.id]);
    }
  });

  it("show an officer's credential, post status and equipment written after the view was kept, at the next read", async () => {
    const { officer, unit, credential } = await seedOfficer(ctx.app, '410104', 'RV-C');
    const byId = `/v1/officers/${officer.id}`;
    const settle = async () => {
      await readAs('410104', byId);
      await untilKept([officer.id]);
    };
    const check = async () => {
      const { masked, expected } = await maskedAndFull('410104', byId);
      expect(masked.json()).toEqual(expected);
      return masked;
    };
    await settle();
    const before = await check();

    // A second credential, then the first one revoked, then deleted.
    const second = await put(ctx.app, 'credentials', '410104', 'RV-C-C2', aCredential({ officerId: officer.id, kind: 'supervision' }));
    const withSecond = await check();
    expect((withSecond.json<Json>().summary!['credentials'] as unknown[]).length).toBe(2);
    expect(withSecond.headers.etag).not.toBe(before.headers.etag);
    await settle();
    await put(ctx.app, 'credentials', '410104', 'RV-C-C2', aCredential({ officerId: officer.id, kind: 'supervision', credentialNumber: String(second['credentialNumber']), status: 'revoked' }));
    expect((await check()).json<Json>().summary!['credentials']).toContainEqual(expect.objectContaining({ id: second.id, status: 'revoked' }));
    await settle();
    const writer = await bearer({ region: '410104' });
    expect((await ctx.app.inject({ method: 'DELETE', url: `/v1/credentials/${second.id}`, headers: writer })).statusCode).toBe(204);
    expect((await check()).json<Json>().summary!['credentials']).toEqual([expect.objectContaining({ id: credential!.id })]);

    // A post status from today.
    await settle();
    await put(ctx.app, 'post-statuses', '410104', 'RV-C-P', { officerId: officer.id, status: 'on_duty', effectiveFrom: today() });
    expect((await check()).json<Json>().summary!['currentPostStatus']).toEqual(expect.objectContaining({ status: 'on_duty' }));

    // Equipment allocated, then the item changed: the summary shows the item as it is now.
    await settle();
    const item = await put(ctx.app, 'equipment', '410104', 'RV-C-E', anEquipment({ orgUnitId: unit.id, model: 'DSJ-T8' }));
    await put(ctx.app, 'equipment-allocations', '410104', 'RV-C-A', anAllocation({ equipmentId: item.id, holderId: officer.id }));
    expect((await check()).json<Json>().summary!['equipment']).toEqual([expect.objectContaining({ equipmentId: item.id, model: 'DSJ-T8' })]);
    await settle();
    await put(ctx.app, 'equipment', '410104', 'RV-C-E', anEquipment({ orgUnitId: unit.id, model: 'DSJ-V9', serialNumber: String(item['serialNumber']) }));
    expect((await check()).json<Json>().summary!['equipment']).toEqual([expect.objectContaining({ equipmentId: item.id, model: 'DSJ-V9' })]);
    await settle();
    await put(ctx.app, 'equipment-allocations', '410104', 'RV-C-A', anAllocation({ equipmentId: item.id, holderId: officer.id, returnedOn: today() }));
    expect((await check()).json<Json>().summary!['equipment']).toEqual([]);
  });

  it("follow a credential moved to another officer, and an assistant's equipment", async () => {
    const a = await seedOfficer(ctx.app, '410105', 'RV-D1');
    const b = await seedOfficer(ctx.app, '410105', 'RV-D2', { credential: false });
    const ids = [a.officer.id, b.officer.id];
    for (const id of ids) await readAs('410105', `/v1/officers/${id}`);
    await untilKept(ids);
    await put(ctx.app, 'credentials', '410105', 'RV-D1-C', aCredential({ officerId: b.officer.id, credentialNumber: String(a.credential!['credentialNumber']) }));
    for (const id of ids) {
      const { masked, expected } = await maskedAndFull('410105', `/v1/officers/${id}`);
      expect(masked.json()).toEqual(expected);
    }
    expect((await readAs('410105', `/v1/officers/${b.officer.id}`)).json<Json>().summary!['holdsValidCredential']).toBe(true);

    const { assistant, unit } = await seedAssistant(ctx.app, '410105', 'RV-D3');
    await readAs('410105', `/v1/assistants/${assistant.id}`);
    await untilKept([assistant.id]);
    const item = await put(ctx.app, 'equipment', '410105', 'RV-D3-E', anEquipment({ orgUnitId: unit.id }));
    await put(ctx.app, 'equipment-allocations', '410105', 'RV-D3-A', anAllocation({ equipmentId: item.id, holderType: 'assistant', holderId: assistant.id }));
    const { masked, expected } = await maskedAndFull('410105', `/v1/assistants/${assistant.id}`);
    expect(masked.json()).toEqual(expected);
    expect(masked.json<Json>().summary!['equipment']).toEqual([expect.objectContaining({ equipmentId: item.id })]);
  });

  it("never show a district reader what lies in another district: another district's credential, a unit moved away", async () => {
    // An officer of 410106 with a credential recorded in 410107: the province reader's view shows both, so it
    // is good only for readers covering both districts.
    const { officer, unit } = await seedOfficer(ctx.app, '410106', 'RV-E', { credential: false });
    const recorded = await ctx.app.inject({
      method: 'PUT',
      url: '/v1/credentials/external/410107/RV-E-C',
      headers: await bearer({ region: '410100' }),
      payload: aCredential({ officerId: officer.id }),
    });
    expect(recorded.statusCode, recorded.body).toBe(201);
    const byId = `/v1/officers/${officer.id}`;
    const province = await readAs('410000', byId);
    expect(province.json<Json>().summary!['credentials']).toHaveLength(1);
    await untilKept([officer.id]);
    const district = await readAs('410106', byId);
    expect(district.json<Json>().summary!['credentials']).toEqual([]);
    expect(district.headers.etag).not.toBe(province.headers.etag);
    const listed = (await readAs('410106', '/v1/officers?regionCode=410106&limit=500')).json<{ items: Json[] }>();
    expect(listed.items.find((r) => r['id'] === officer.id)!.summary!['credentials']).toEqual([]);

    // The unit moves to 410107: a reader of 410106 no longer sees its key, though the officer did not change.
    const { officer: other, unit: otherUnit } = await seedOfficer(ctx.app, '410108', 'RV-F', { credential: false });
    await readAs('410108', `/v1/officers/${other.id}`);
    await untilKept([other.id]);
    expect((await readAs('410108', `/v1/officers/${other.id}`)).json<Json>()['orgUnitExternalId']).toBe('RV-F-OU');
    const moved = await ctx.app.inject({
      method: 'PUT',
      url: `/v1/org-units/${otherUnit.id}`,
      headers: await bearer({ region: '410100' }),
      payload: anOrgUnit({ regionCode: '410109', externalId: 'RV-F-OU' }),
    });
    expect(moved.statusCode, moved.body).toBe(200);
    const after = await maskedAndFull('410108', `/v1/officers/${other.id}`);
    expect(after.masked.json<Json>()['orgUnitExternalId']).toBeNull();
    expect(after.masked.json()).toEqual(after.expected);
    expect(unit.id).not.toBe(otherUnit.id);
  });

  it('of records read while a write changes them are not kept past that write: every trial ends with the write shown', async () => {
    for (let trial = 0; trial < 12; trial++) {
      const { officer } = await seedOfficer(ctx.app, '410111', `RV-G${trial}`, { credential: false });
      const byId = `/v1/officers/${officer.id}`;
      const reads = Array.from({ length: 6 }, (_, i) =>
        new Promise((resolve) => setTimeout(resolve, i * 2)).then(() => readAs('410111', byId)),
      );
      const written = put(ctx.app, 'credentials', '410111', `RV-G${trial}-C`, aCredential({ officerId: officer.id, expiresOn: daysFromToday(30) }));
      await Promise.all([...reads, written]);
      // Let any view those reads made be kept (or refused), then read as a reader with nothing to render.
      await readAs('410111', byId);
      await untilKept([officer.id]);
      const seen = (await readAs('410111', byId)).json<Json>();
      expect(seen.summary!['credentials'], `trial ${trial}`).toHaveLength(1);
    }
  });
});

describe.skipIf(!isPostgres())('keeping a view against a concurrent write', () => {
  it('a unit moving waits for a record being written that references it, so that record is found and emptied too', async () => {
    const { unit } = await seedOfficer(ctx.app, '410114', 'RV-K', { credential: false });
    // A write of a record that references the unit, not yet committed, holds it FOR KEY SHARE (as an
    // equipment item or officer created in it does): the move must wait for it, or it could commit after the
    // move looked for the unit's referrers, and be read, and kept, with the unit's old region.
    const referrer = await openTransaction(ctx.url!, [{ text: 'select 1 from org_units where id = $1 for key share', values: [unit.id] }]);
    const move = ctx.app.inject({
      method: 'PATCH',
      url: `/v1/org-units/${unit.id}`,
      headers: await bearer({ region: '410100' }),
      payload: { regionCode: '410115' },
    });
    const waited = await someoneWaitsOnALock(ctx.url!);
    await referrer.commit();
    expect(waited).toBe(true);
    expect((await move).statusCode).toBe(200);
  });

  it('records created in a unit while it moves away and read meanwhile show its key to no reader of the old district', async () => {
    for (let trial = 0; trial < 10; trial++) {
      const { unit } = await seedOfficer(ctx.app, '410116', `RV-M${trial}`, { credential: false });
      const key = `RV-M${trial}-E`;
      const reads = Array.from({ length: 8 }, (_, i) =>
        new Promise((resolve) => setTimeout(resolve, i * 3)).then(() => readAs('410116', `/v1/equipment/external/410116/${key}`)),
      );
      const created = put(ctx.app, 'equipment', '410116', key, anEquipment({ orgUnitId: unit.id }));
      const moved = new Promise((resolve) => setTimeout(resolve, trial * 2)).then(async () =>
        ctx.app.inject({ method: 'PATCH', url: `/v1/org-units/${unit.id}`, headers: await bearer({ region: '410100' }), payload: { regionCode: '410117' } }),
      );
      const [move] = await Promise.all([moved, created, ...reads]);
      expect((move as { statusCode: number }).statusCode).toBe(200);
      // Whatever those reads offered to keep has been kept (or refused) by now.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await readAs('410116', `/v1/equipment/external/410116/${key}`)).json<Json>()['orgUnitExternalId'], `trial ${trial}`).toBeNull();
    }
  });

  it('waits for the write that empties it, then keeps nothing', async () => {
    const { officer } = await seedOfficer(ctx.app, '410112', 'RV-H');
    await readAs('410112', `/v1/officers/${officer.id}`);
    const [kept] = await untilKept([officer.id]);
    // A write of the officer's credential, not yet committed, has emptied the view (gen + 1).
    const writer = await openTransaction(ctx.url!, [
      { text: 'update record_views set gen = gen + 1, json = null where id = $1', values: [officer.id] },
    ]);
    // A read that saw the old gen offers its view meanwhile.
    const keep = Promise.resolve().then(() => ctx.database.db.execute(
      keepViewsStatement([{ id: officer.id, version: 1, gen: kept!.gen, json: '{"stale":true}', etag: '"1"', lo: '410112', hi: '410112' }], today(), 'any'),
    ));
    expect(await someoneWaitsOnALock(ctx.url!)).toBe(true);
    await writer.commit();
    await keep;
    const [after] = await keptViews([officer.id]);
    expect(after).toEqual({ id: officer.id, json: null, gen: kept!.gen + 1 });
  });
});
