/**
 * DESIGN §8 on a real PostgreSQL: the process survives the database going away, answers 503 with Retry-After
 * meanwhile and recovers by itself; transactions always give their connection back; a statement timeout is
 * a 503 `query_timeout`. PostgreSQL only: PGlite has no network, no pool and no backends to kill.
 */
import net from 'node:net';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { FastifyBaseLogger } from 'fastify';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { openPostgres, queryRows, type Database, type PostgresOptions } from '../../src/db/client.js';
import { fromDatabaseError } from '../../src/errors.js';
import { bearer, isPostgres, testConfig, useTestApp } from '../support/context.js';
import { anOrgUnit } from '../support/people-fixtures.js';

/** A TCP proxy in front of PostgreSQL that can be cut (listener closed, every connection destroyed) and restored on the same port. */
class CuttableProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  /** While set, the database's answers are dropped on the way back: a path that died without a reset. */
  stalled = false;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        // Either side failing takes the pair down; the proxy itself never throws.
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        if (!this.stalled) client.write(chunk);
      });
      upstream.on('end', () => client.end());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** The database "goes away": refuses new connections and drops the open ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  get connections(): number {
    return this.sockets.size;
  }
}

/** Errors that escaped to the process (an unhandled 'error' event or rejection would crash the service). */
function watchProcess() {
  const escaped: unknown[] = [];
  const onError = (err: unknown) => escaped.push(err);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    escaped,
    stop() {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}

/** Makes `BEGIN` fail on every client the pool hands out while `failing.on` is set. */
function failBeginOn(pool: pg.Pool, error: () => Error) {
  const failing = { on: true, attempts: 0 };
  const patched = new WeakSet<pg.PoolClient>();
  const acquired: pg.PoolClient[] = [];
  pool.on('acquire', (client) => {
    acquired.push(client);
    if (patched.has(client)) return;
    patched.add(client);
    const original = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const first = args[0];
      const text = typeof first === 'string' ? first : (first as { text?: string } | undefined)?.text;
      if (failing.on && typeof text === 'string' && /^\s*begin\b/i.test(text)) {
        failing.attempts++;
        return Promise.reject(error());
      }
      return original(...args);
    };
  });
  return { failing, acquired };
}

const sqlError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: 'ERROR' });

describe.skipIf(!isPostgres())('resilience on PostgreSQL (DESIGN §8)', () => {
  const ctx = useTestApp();
  let target: URL;

  beforeAll(() => {
    target = new URL(ctx.url!);
  });

  const through = (proxy: CuttableProxy) => {
    const url = new URL(target);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    return url.toString();
  };

  /**
   * For the tests of the enclosing block: the app on its own pool behind a `CuttableProxy`, and a watch on
   * errors escaping to the process; torn down after them.
   */
  function useAppBehindProxy(pool: () => Omit<PostgresOptions, 'connectionString'>) {
    const env = {} as { proxy: CuttableProxy; database: Database; app: App; watcher: ReturnType<typeof watchProcess> };
    beforeAll(async () => {
      env.proxy = new CuttableProxy(target.hostname, Number(target.port || 5432));
      await env.proxy.start();
      env.database = openPostgres({ connectionString: through(env.proxy), ...pool() });
      env.app = await buildApp({ config: testConfig, database: env.database });
      await env.app.ready();
      env.watcher = watchProcess();
    });
    afterAll(async () => {
      env.watcher?.stop();
      await env.app?.close();
      await env.database?.close();
      await env.proxy?.cut();
    });
    return env;
  }

  describe('a network path that stops answering without a reset (TCP proxy)', () => {
    // A statement with no answer is ended 2 s after the statement timeout.
    const env = useAppBehindProxy(() => ({ max: 2, statementTimeoutMs: 300 }));

    it('ends a statement that gets no answer with 503 instead of waiting for ever, and goes on with new connections', async () => {
      const { app, proxy, watcher } = env;
      const headers = await bearer({ region: '410104' });
      const list = () => app.inject({ method: 'GET', url: '/v1/org-units?regionCode=410104', headers });
      expect((await list()).statusCode).toBe(200);

      proxy.stalled = true;
      const started = Date.now();
      const res = await list();
      const waited = Date.now() - started;
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json()).toMatchObject({ status: 503, code: 'service_unavailable' });
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      // Not before the statement timeout and its 2 s of grace; not much after (one sweep).
      expect(waited).toBeGreaterThanOrEqual(2_000);
      expect(waited).toBeLessThan(5_000);

      proxy.stalled = false;
      const again = await list();
      expect(again.statusCode, again.body).toBe(200);
      expect(watcher.escaped).toEqual([]);
    });
  });

  describe('the database going away and coming back (TCP proxy)', () => {
    // The service's own pool 'error' listener logs lost idle connections: count those log lines.
    let lostIdle = 0;
    const env = useAppBehindProxy(() => {
      lostIdle = 0;
      const logger = {
        warn: (_obj: unknown, message?: string) => {
          if (message === 'idle database connection lost') lostIdle++;
        },
      } as unknown as FastifyBaseLogger;
      return { max: 4, logger };
    });

    it('answers 503 with Retry-After while it is down, never 500, and recovers without a restart', async () => {
      const { app, proxy, database, watcher } = env;
      const headers = await bearer({ region: '410102' });
      const list = () => app.inject({ method: 'GET', url: '/v1/org-units?regionCode=410102', headers });
      const create = (externalId: string) =>
        app.inject({
          method: 'PUT',
          url: `/v1/org-units/external/410102/${externalId}`,
          headers,
          payload: { name: `中原区城市管理执法大队 ${externalId}`, level: 'county' },
        });

      // Up: ready, and a write works; concurrent reads leave several idle connections in the pool.
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      expect((await create('OU-BEFORE')).statusCode).toBe(201);
      expect((await Promise.all([list(), list(), list()])).map((r) => r.statusCode)).toEqual([200, 200, 200]);
      const idleBefore = database.pool!.idleCount;
      expect(idleBefore).toBeGreaterThan(1);

      // Down. The idle connections notice on their own: pg emits 'error' on each, the pool drops it and
      // passes the error to its listener (without one, that 'error' event would crash the process).
      await proxy.cut();
      const noticed = Date.now() + 5_000;
      while (database.pool!.totalCount > 0 && Date.now() < noticed) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(database.pool!.totalCount).toBe(0);
      expect(lostIdle).toBe(idleBefore);
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode, ready.body).toBe(503);
      expect(ready.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(ready.json()).toMatchObject({ status: 503, code: 'service_unavailable' });
      expect(ready.headers['retry-after']).toMatch(/^\d+$/);

      for (const request of [list, () => create('OU-DOWN')]) {
        const res = await request();
        expect(res.statusCode, res.body).toBe(503);
        expect(res.json()).toMatchObject({ code: 'service_unavailable' });
        expect(res.headers['retry-after']).toMatch(/^\d+$/);
      }
      // The dropped idle connections were reported to the pool's listener, not to the process.
      expect(watcher.escaped).toEqual([]);

      // Back, on the same port: the same app recovers by itself.
      await proxy.start();
      const deadline = Date.now() + 10_000;
      let status = 0;
      while (Date.now() < deadline) {
        status = (await app.inject({ method: 'GET', url: '/readyz' })).statusCode;
        if (status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(200);
      const after = await create('OU-AFTER');
      expect(after.statusCode, after.body).toBe(201);
      const page = (await list()).json<{ items: { externalId: string }[] }>();
      expect(page.items.map((i) => i.externalId).sort()).toEqual(['OU-AFTER', 'OU-BEFORE']);

      expect(watcher.escaped).toEqual([]);
    });

    it('answers 503 (not 500) when the connection drops under a request that holds it', async () => {
      const { app, proxy, watcher } = env;
      const headers = await bearer({ region: '410102' });
      // Warm: one idle connection; cut; the very next request takes it before it noticed the drop.
      await app.inject({ method: 'GET', url: '/readyz' });
      await proxy.cut();
      const responses = await Promise.all([
        app.inject({ method: 'GET', url: '/v1/org-units?regionCode=410102', headers }),
        app.inject({ method: 'PUT', url: '/v1/org-units/external/410102/OU-RACE', headers, payload: { name: '中原区执法中队', level: 'street' } }),
      ]);
      for (const res of responses) {
        expect(res.statusCode, res.body).toBe(503);
        expect(res.headers['retry-after']).toMatch(/^\d+$/);
      }
      await proxy.start();
      expect(watcher.escaped).toEqual([]);
    });
  });

  describe('transactions always give their connection back', () => {
    let database: Database;
    let pool: pg.Pool;
    let admin: pg.Client;
    let watcher: ReturnType<typeof watchProcess>;

    beforeAll(async () => {
      admin = new pg.Client({ connectionString: ctx.url });
      await admin.connect();
      await admin.query('create table if not exists resilience_probe (note text not null)');
    });
    afterAll(async () => {
      await admin?.end();
    });
    beforeEach(() => {
      database = openPostgres({ connectionString: ctx.url!, max: 2 });
      pool = database.pool!;
      // The service logs these; the test only needs them not to crash it.
      pool.on('error', () => undefined);
      watcher = watchProcess();
    });
    afterEach(async () => {
      watcher.stop();
      await database.close();
    });

    it('discards a connection whose backend is terminated mid-transaction, and rolls the write back', async () => {
      await database.ping();
      expect([pool.totalCount, pool.idleCount]).toEqual([1, 1]);

      const outcome = await database
        .transaction(async (tx) => {
          await tx.execute(sql`insert into resilience_probe (note) values ('doomed')`);
          const [own] = await queryRows<{ pid: number }>(tx, sql`select pg_backend_pid() as pid`);
          const killed = await admin.query('select pg_terminate_backend($1) as ok', [own!.pid]);
          expect(killed.rows[0].ok).toBe(true);
          // The backend sends FATAL 57P01 and hangs up while this client is checked out and idle:
          // pg emits 'error' on the client, which must not reach the process.
          await new Promise((resolve) => setTimeout(resolve, 200));
          await tx.execute(sql`insert into resilience_probe (note) values ('never')`);
          return 'committed';
        })
        .then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        );

      expect(outcome).toHaveProperty('error');
      expect(fromDatabaseError((outcome as { error: unknown }).error)).toMatchObject({ status: 503, code: 'service_unavailable' });
      // The broken client was destroyed, not returned to the pool.
      expect(pool.totalCount).toBe(0);
      expect(pool.idleCount).toBe(0);
      expect(watcher.escaped).toEqual([]);

      // The next work gets a fresh connection; nothing of the killed transaction was committed.
      const rows = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from resilience_probe`);
      expect(rows[0]?.n).toBe(0);
      expect(await database.transaction(async (tx) => queryRows<{ one: number }>(tx, sql`select 1 as one`))).toEqual([{ one: 1 }]);
      expect([pool.totalCount, pool.idleCount]).toEqual([1, 1]);
    });

    it.each([
      ['a SQL error', () => sqlError('25001', 'simulated: BEGIN refused')],
      ['a dead connection', () => sqlError('57P01', 'simulated: terminating connection due to administrator command')],
    ])('releases the connection when BEGIN fails with %s (more failures than the pool has connections)', async (_kind, error) => {
      const { failing } = failBeginOn(pool, error);
      const attempts = 5; // > max 2: a leak per failure would exhaust the pool
      for (let i = 0; i < attempts; i++) {
        await expect(database.transaction(async () => 'never runs')).rejects.toMatchObject({ message: /simulated/ });
      }
      expect(failing.attempts).toBe(attempts);
      expect(pool.totalCount).toBeLessThanOrEqual(2);
      expect(pool.idleCount).toBe(pool.totalCount);
      expect(pool.waitingCount).toBe(0);

      // A normal query still gets a connection, well within the 3 s connection timeout.
      failing.on = false;
      const started = Date.now();
      expect(await database.transaction(async (tx) => queryRows<{ one: number }>(tx, sql`select 1 as one`))).toEqual([{ one: 1 }]);
      await database.ping();
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(watcher.escaped).toEqual([]);
    });

    /**
     * Why `Database.transaction` does not call drizzle's: in drizzle-orm 0.45.4,
     * node_modules/drizzle-orm/node-postgres/session.js, NodePgSession.transaction is
     *
     *   const session = isPool ? new NodePgSession(await this.client.connect(), …) : this;
     *   const tx = new NodePgTransaction(this.dialect, session, this.schema);
     *   await tx.execute(sql`begin${…}`);            // ← outside the try
     *   try { …; await tx.execute(sql`commit`); … }
     *   catch (error) { await tx.execute(sql`rollback`); throw error; }
     *   finally { if (isPool) session.client.release(); }
     *
     * A throwing BEGIN skips the `finally`, so the client checked out by `connect()` is never released:
     * every failed BEGIN leaks one pool slot until the pool is exhausted. (Also, `release()` is called without
     * the error, and a failing ROLLBACK replaces the original error.) This test pins that behaviour, so the
     * wrapper in src/db/client.ts can be dropped once drizzle fixes it.
     */
    it("documents drizzle 0.45's own transaction(): a failed BEGIN leaks the client", async () => {
      const raw = new pg.Pool({ connectionString: ctx.url, max: 1, connectionTimeoutMillis: 300 });
      raw.on('error', () => undefined);
      const { failing, acquired } = failBeginOn(raw, () => sqlError('25001', 'simulated: BEGIN refused'));
      try {
        const error = await drizzle(raw)
          .transaction(async () => 'never runs')
          .then(
            () => undefined,
            (err: unknown) => err,
          );
        expect((error as Error).cause).toMatchObject({ message: 'simulated: BEGIN refused' });
        expect(failing.attempts).toBe(1);
        // The one client is still checked out: nobody released it.
        expect([raw.totalCount, raw.idleCount]).toEqual([1, 0]);
        failing.on = false;
        await expect(raw.query('select 1')).rejects.toThrow(/timeout exceeded when trying to connect/);
      } finally {
        for (const client of acquired) client.release();
        await raw.end();
      }
    });
  });

  describe('statement timeout', () => {
    let database: Database;
    let app: App;
    let locker: pg.Client | undefined;

    beforeAll(async () => {
      database = openPostgres({ connectionString: ctx.url!, max: 2, statementTimeoutMs: 300 });
      database.pool!.on('error', () => undefined);
      app = await buildApp({ config: testConfig, database });
      await app.ready();
    });
    afterAll(async () => {
      await locker?.end();
      await app?.close();
      await database?.close();
    });

    it('maps a statement cancelled by statement_timeout (57014) to 503 query_timeout, and the connection stays usable', async () => {
      const started = Date.now();
      const error = await database.db.execute(sql`select pg_sleep(5)`).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(Date.now() - started).toBeLessThan(3_000);
      const mapped = fromDatabaseError(error);
      expect(mapped).toMatchObject({ status: 503, code: 'query_timeout' });
      expect(mapped?.headers?.['retry-after']).toMatch(/^\d+$/);
      // A cancelled statement does not break the connection: it goes back to the pool and works.
      await database.ping();
      expect(database.pool!.idleCount).toBe(database.pool!.totalCount);
    });

    it('rolls back and releases a transaction whose statement times out', async () => {
      await expect(database.transaction((tx) => tx.execute(sql`select pg_sleep(5)`))).rejects.toSatisfy(
        (err: unknown) => fromDatabaseError(err)?.code === 'query_timeout',
      );
      expect(database.pool!.idleCount).toBe(database.pool!.totalCount);
      expect(await database.transaction(async (tx) => queryRows<{ one: number }>(tx, sql`select 1 as one`))).toEqual([{ one: 1 }]);
    });

    it('maps a lock wait past lock_timeout (55P03) to 503 query_timeout, not 500', async () => {
      const [unit] = await queryRows<{ id: string }>(database.db, sql`insert into org_units (region_code, external_id, name, level) values ('410106', 'LOCK-1', '上街区执法大队', 'county') returning id`);
      const holder = new pg.Client({ connectionString: ctx.url });
      await holder.connect();
      try {
        await holder.query('begin');
        await holder.query('select 1 from org_units where id = $1 for update', [unit!.id]);
        const error = await database
          .transaction(async (tx) => {
            await tx.execute(sql`set local lock_timeout = '100ms'`);
            await tx.execute(sql`select 1 from org_units where id = ${unit!.id} for update`);
          })
          .then(
            () => undefined,
            (err: unknown) => err,
          );
        const mapped = fromDatabaseError(error);
        expect(mapped).toMatchObject({ status: 503, code: 'query_timeout' });
        expect(mapped?.headers?.['retry-after']).toMatch(/^\d+$/);
      } finally {
        await holder.query('rollback');
        await holder.end();
      }
    });

    it('answers a batch whose rows are held elsewhere with one 503, not a timeout per operation', async () => {
      const keys = ['BATCH-1', 'BATCH-2', 'BATCH-3'];
      for (const key of keys) {
        await database.db.execute(sql`insert into org_units (region_code, external_id, name, level) values ('410107', ${key}, '执法中队', 'street')`);
      }
      const holder = new pg.Client({ connectionString: ctx.url });
      await holder.connect();
      try {
        await holder.query('begin');
        await holder.query(`select 1 from org_units where region_code = '410107' and external_id = any($1) for update`, [keys]);
        const headers = await bearer({ region: '410107', scope: 'records:read records:write' });
        for (const atomic of [false, true]) {
          const operations = keys.map((externalId) => ({
            op: 'upsert',
            collection: 'org-units',
            regionCode: '410107',
            externalId,
            data: { name: `执法中队 ${externalId} ${String(atomic)}`, level: 'street' },
          }));
          const res = await app.inject({ method: 'POST', url: '/v1/batch', headers, payload: { atomic, operations } });
          // Not 200 with each operation timed out in turn (the run, then every operation replayed alone).
          expect(res.statusCode, res.body).toBe(503);
          expect(res.json()).toMatchObject({ status: 503, code: 'query_timeout' });
          expect(res.headers['retry-after']).toMatch(/^\d+$/);
        }
      } finally {
        await holder.query('rollback');
        await holder.end();
      }
    });

    it('answers an HTTP request stuck behind a lock with 503 query_timeout and Retry-After', async () => {
      locker = new pg.Client({ connectionString: ctx.url });
      await locker.connect();
      await locker.query('begin');
      await locker.query('lock table org_units in access exclusive mode');
      try {
        const res = await app.inject({ method: 'GET', url: '/v1/org-units?regionCode=410103', headers: await bearer({ region: '410103' }) });
        expect(res.statusCode, res.body).toBe(503);
        expect(res.json()).toMatchObject({ status: 503, code: 'query_timeout' });
        expect(res.headers['retry-after']).toMatch(/^\d+$/);
      } finally {
        await locker.query('rollback');
      }
      const res = await app.inject({ method: 'GET', url: '/v1/org-units?regionCode=410103', headers: await bearer({ region: '410103' }) });
      expect(res.statusCode).toBe(200);
    });
  });

  it('reads and writes times alike whatever TimeZone and DateStyle the database is configured with', async () => {
    // A write's RETURNING gives times as text, kept in the feed's snapshots: the pool pins UTC and ISO.
    const name = new URL(ctx.url!).pathname.slice(1);
    const admin = new pg.Client({ connectionString: ctx.url! });
    await admin.connect();
    await admin.query(`alter database ${name} set datestyle = 'SQL, DMY'`);
    await admin.query(`alter database ${name} set timezone = 'Asia/Shanghai'`);
    const database = openPostgres({ connectionString: ctx.url!, max: 2 });
    const app = await buildApp({ config: testConfig, database });
    try {
      const headers = await bearer({ region: '410711' });
      const put = await app.inject({ method: 'PUT', url: '/v1/org-units/external/410711/TZ-1', headers, payload: anOrgUnit() });
      expect(put.statusCode).toBe(201);
      const written = put.json() as { id: string; createdAt: string; updatedAt: string };
      expect(written.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      const feed = await app.inject({ method: 'GET', url: '/v1/changes?limit=1000', headers });
      expect(feed.statusCode).toBe(200);
      const entry = (feed.json() as { items: { id: string; record: { createdAt: string; updatedAt: string } }[] }).items.find((i) => i.id === written.id);
      const read = (await app.inject({ method: 'GET', url: `/v1/org-units/${written.id}`, headers })).json() as { createdAt: string; updatedAt: string };
      expect(entry?.record).toMatchObject({ createdAt: written.createdAt, updatedAt: written.updatedAt });
      expect(read).toMatchObject({ createdAt: written.createdAt, updatedAt: written.updatedAt });
    } finally {
      await app.close();
      await database.close();
      await admin.query(`alter database ${name} reset datestyle`);
      await admin.query(`alter database ${name} reset timezone`);
      await admin.end();
    }
  });
});
