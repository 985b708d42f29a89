import type { Db } from './client.js';

const cache = new WeakMap<Db, Map<string, unknown>>();

/**
 * A prepared statement of a hot read, built once per database handle: PostgreSQL parses and plans it
 * once per connection, and the query builder does not rebuild its SQL on every request. Keyed by the
 * handle because several apps (tests, the OpenAPI export) live in one process, each on its own database.
 * Only for the pool-level handle, never a transaction.
 */
export function prepared<T>(db: Db, name: string, build: (db: Db, name: string) => T): T {
  let statements = cache.get(db);
  if (!statements) {
    statements = new Map();
    cache.set(db, statements);
  }
  let statement = statements.get(name) as T | undefined;
  if (!statement) {
    statement = build(db, name);
    statements.set(name, statement);
  }
  return statement;
}
