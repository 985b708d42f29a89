/**
 * The set-wise batch path: records of one collection in a run are checked and written together, yet each
 * operation keeps its own outcome — duplicates inside the batch, values freed within the same batch, the
 * same key twice, and a database error inside the run replayed record by record.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { bearer, isPostgres, useTestApp } from '../support/context.js';
import type { BatchResultJson } from '../support/fixtures.js';
import { anIdentity, anOfficer, anOrgUnit } from '../support/people-fixtures.js';

const ctx = useTestApp();

type Result = BatchResultJson;

async function batch(region: string, operations: unknown[], atomic = false): Promise<Result[]> {
  const headers = await bearer({ region, scope: 'records:read records:write' });
  const res = await ctx.app.inject({ method: 'POST', url: '/v1/batch', headers, payload: { atomic, operations } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ results: Result[] }>().results;
}

const unit = (region: string, key: string) => ({
  op: 'upsert',
  collection: 'org-units',
  regionCode: region,
  externalId: key,
  data: anOrgUnit(),
});
const officer = (region: string, key: string, data: object) => ({
  op: 'upsert',
  collection: 'officers',
  regionCode: region,
  externalId: key,
  data: { ...data, orgUnitExternalId: 'U' },
});

describe('set-wise batch writes', () => {
  it('refuses the second of two active officers with one ID number in the same batch, at its own path', async () => {
    const r = '411801';
    const identity = anIdentity();
    const results = await batch(r, [unit(r, 'U'), officer(r, 'A', anOfficer(identity)), officer(r, 'B', anOfficer(identity))]);
    expect(results.map((x) => x.status)).toEqual([201, 201, 422]);
    expect(results[2]?.error).toMatchObject({ code: 'rule_violation', errors: [{ path: '/operations/2/data/idCardNumber' }] });
  });

  it('lets one batch end an officer’s active record and start another with the same ID number', async () => {
    const r = '411802';
    const identity = anIdentity();
    expect((await batch(r, [unit(r, 'U'), officer(r, 'OLD', anOfficer(identity))])).map((x) => x.status)).toEqual([201, 201]);
    const results = await batch(r, [
      officer(r, 'OLD', anOfficer({ ...identity, employmentStatus: 'transferred' })),
      officer(r, 'NEW', anOfficer(identity)),
    ]);
    expect(results.map((x) => x.status)).toEqual([200, 201]);
  });

  it('applies the same key twice in order: created, then updated to version 2', async () => {
    const r = '411803';
    const results = await batch(r, [unit(r, 'U'), unit(r, 'U2'), { ...unit(r, 'U2'), data: anOrgUnit({ name: '改名后的中队' }) }]);
    expect(results.map((x) => [x.status, x.version])).toEqual([
      [201, 1],
      [201, 1],
      [200, 2],
    ]);
  });

  it.skipIf(!isPostgres())('replays a run record by record when a concurrent writer takes a key mid-run', async () => {
    const r = '411804';
    const other = new pg.Client({ connectionString: ctx.url });
    await other.connect();
    try {
      // Another writer inserts key K2 and holds its transaction open: the run's bulk INSERT waits on it.
      await other.query('begin');
      await other.query(`insert into org_units (region_code, external_id, name, level) values ($1, 'K2', '并发写入', 'street')`, [r]);
      const pending = batch(r, [unit(r, 'K1'), unit(r, 'K2'), unit(r, 'K3')]);
      const watcher = new pg.Client({ connectionString: ctx.url });
      await watcher.connect();
      let waited = false;
      try {
        for (let i = 0; i < 200; i++) {
          const { rows } = await watcher.query(
            `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`,
          );
          waited = rows[0].n > 0;
          if (waited) break;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      } finally {
        await watcher.end();
      }
      expect(waited, 'the batch should wait on the uncommitted key').toBe(true);
      await other.query('commit');
      const results = await pending;
      // K2 now exists: replayed alone, it is an update of the other writer's record; K1 and K3 are created.
      expect(results.map((x) => x.status)).toEqual([201, 200, 201]);
      expect(results[1]?.version).toBe(2);
    } finally {
      await other.end();
    }
  });
});
