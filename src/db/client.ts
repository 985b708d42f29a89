import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { sql, type SQL } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import { AppError, isConnectionError, serviceUnavailable } from '../errors.js';

/** What every data-access function takes: the pool-level database or an open transaction. */
export type Db = PgDatabase<PgQueryResultHKT>;

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  /** Statements outside a transaction. */
  readonly db: Db;
  /**
   * Runs `fn` in one transaction and always gives the connection back: also when BEGIN fails or the
   * connection dies mid-way (drizzle's own `transaction()` leaks the client when BEGIN throws).
   */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /** Throws when the database cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** The raw PGlite instance, for migrations and tests; undefined on PostgreSQL. */
  readonly pglite?: PGlite;
  /** The raw pool, for migrations and tests; undefined on PGlite. */
  readonly pool?: pg.Pool;
}

export interface PostgresOptions {
  connectionString: string;
  max?: number;
  /** Requests that may wait for a connection; past it the next is refused at once (4 × max when unset). */
  queueMax?: number | undefined;
  statementTimeoutMs?: number;
  logger?: FastifyBaseLogger;
}

// Dates, timestamps and bigints are parsed by drizzle per column; keep `date` as the plain string.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

export function openPostgres(options: PostgresOptions): Database {
  const statementTimeout = options.statementTimeoutMs ?? 30_000;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    // Never wait forever for a connection: a request fails fast with 503 instead.
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    statement_timeout: statementTimeout,
    idle_in_transaction_session_timeout: 60_000,
    lock_timeout: 10_000,
    application_name: 'officer-registry',
    // Times come back as text in some places (a write's RETURNING, kept in feed snapshots) and are read as
    // UTC in ISO form: a server or database configured with another TimeZone or DateStyle must not change them.
    options: '-c TimeZone=UTC -c DateStyle=ISO,YMD',
  });
  boundQueue(pool, options.queueMax ?? 4 * (options.max ?? 10));
  const stopWatching = endStalledStatements(pool, statementTimeout + 2_000);
  // An idle client losing its server (restart, failover) emits here; without a listener it would crash the process.
  pool.on('error', (err) => {
    options.logger?.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'idle database connection lost');
  });
  const db: Db = drizzlePg(pool);

  return {
    kind: 'postgres',
    db,
    pool,
    async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw err instanceof AppError ? err : serviceUnavailable(undefined, err);
      }
      let broken: Error | undefined;
      // While checked out, a client has no pool listener: if its backend dies between two statements
      // (pg_terminate_backend, idle_in_transaction_session_timeout, a restart) pg emits 'error' on it, and
      // an 'error' event without a listener crashes the process. Note it here; the next statement fails.
      const onError = (err: Error) => {
        broken = err;
        options.logger?.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'database connection lost in a transaction');
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(drizzlePg(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        if (broken || isConnectionError(err)) broken ??= err instanceof Error ? err : new Error(String(err));
        else {
          try {
            await client.query('ROLLBACK');
          } catch (rollbackErr) {
            broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
          }
        }
        throw err;
      } finally {
        client.off('error', onError);
        // Passing an error destroys the connection instead of returning a broken one to the pool.
        client.release(broken);
      }
    },
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      stopWatching();
      await pool.end();
    },
  };
}

/**
 * Ends a connection whose statement has had no answer for `timeoutMs`: a network path that dies without a
 * reset leaves the statement waiting for ever — the server's statement_timeout cannot reach us, and TCP
 * keepalive only probes a connection that is not waiting for an answer. The statement then fails as a lost
 * connection (503, see errors.ts) and the pool drops the connection.
 *
 * One sweep over the pool's connections, a few times per timeout, rather than pg's own `query_timeout`, which
 * arms a timer per statement: measured under reads by id, that option kept every statement's result alive
 * through young-generation collections (about 3.5 KB promoted per read, scavenges of 4 ms instead of under 2),
 * which is where the p99 of reads went. The sweep reads pg's `_activeQuery` (pg 8, locked in package-lock.json); the
 * stalled-network test in resilience.test.ts fails should that field go away.
 */
function endStalledStatements(pool: pg.Pool, timeoutMs: number): () => void {
  const clients = new Set<pg.PoolClient>();
  const firstSeen = new WeakMap<object, number>();
  pool.on('connect', (client) => clients.add(client));
  pool.on('remove', (client) => clients.delete(client));
  const sweep = setInterval(
    () => {
      const now = performance.now();
      for (const client of clients) {
        const active = (client as unknown as { _activeQuery?: object | null })._activeQuery;
        if (!active) continue;
        const since = firstSeen.get(active);
        if (since === undefined) firstSeen.set(active, now);
        else if (now - since >= timeoutMs) (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      }
    },
    Math.max(50, Math.min(1_000, Math.floor(timeoutMs / 4))),
  );
  sweep.unref();
  return () => clearInterval(sweep);
}

/** The refusal of a connection when the pool's queue is full (the same problem as the admission gate's). */
export const poolQueueFull = () =>
  new AppError(503, 'overloaded', 'Overloaded', {
    detail: 'Every database connection is busy and the queue for one is full; retry after the Retry-After seconds.',
    headers: { 'retry-after': '1' },
  });

/**
 * `pg.Pool` queues requests for a connection without limit, and a long queue is where seconds go under load:
 * past `queueMax` waiting, a request for a connection is refused at once with 503 `overloaded` instead.
 * `pool.query` takes its connection through `connect` too, so both are bounded.
 */
function boundQueue(pool: pg.Pool, queueMax: number): void {
  const connect = pool.connect.bind(pool) as (cb?: (err: Error | undefined, client?: pg.PoolClient, done?: () => void) => void) => unknown;
  const bounded = (cb?: (err: Error | undefined, client?: pg.PoolClient, done?: () => void) => void) => {
    const busy = pool.idleCount === 0 && pool.totalCount >= pool.options.max && pool.waitingCount >= queueMax;
    if (!busy) return connect(cb);
    const err = poolQueueFull();
    if (cb) {
      process.nextTick(cb, err);
      return undefined;
    }
    return Promise.reject(err);
  };
  (pool as unknown as { connect: typeof bounded }).connect = bounded;
}

export interface PgliteOptions {
  /** A folder to persist in; in memory when omitted. */
  dataDir?: string;
  /** An existing instance (e.g. a clone of a migrated template in tests). */
  instance?: PGlite;
}

export async function openPglite(options: PgliteOptions = {}): Promise<Database> {
  // btree_gist backs the exclusion constraint on credential validity periods (see migrations).
  const extensions = { btree_gist };
  const pglite = options.instance ?? (options.dataDir ? await PGlite.create(options.dataDir, { extensions }) : await PGlite.create({ extensions }));
  const db: Db = drizzlePglite(pglite);
  return {
    kind: 'pglite',
    db,
    pglite,
    // PGlite has one connection and no pool: drizzle's transaction cannot leak anything here.
    transaction: (fn) => db.transaction((tx) => fn(tx)),
    async ping() {
      await db.execute(sql`select 1`);
    },
    async close() {
      if (!pglite.closed) await pglite.close();
    },
  };
}

/**
 * Runs raw SQL and returns its rows. Both drivers answer `execute()` with an object carrying `rows`;
 * the shared `PgQueryResultHKT` type cannot say so, hence the one narrowing here.
 */
export async function queryRows<T extends Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}
