import { mkdir } from 'node:fs/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.js';
import { openPglite, openPostgres, type Database } from './db/client.js';
import { lockDataDir } from './db/pglite-lock.js';
import { loadOrCreateDevKeys } from './security/dev-keys.js';

export interface Runtime {
  config: Config;
  database: Database;
  /** True when running on the embedded PGlite with keys made for this data folder. */
  embedded: boolean;
  notes: string[];
}

/**
 * Opens the configured database. With no DATABASE_URL this is the embedded default: PGlite in
 * PGLITE_DIR, and (unless configured) a development JWT secret and PII key kept beside it.
 */
export async function openRuntime(config: Config, logger?: FastifyBaseLogger): Promise<Runtime> {
  if (config.DATABASE_URL) {
    const database = openPostgres({
      connectionString: config.DATABASE_URL,
      max: config.DB_POOL_MAX,
      queueMax: config.DB_POOL_QUEUE_MAX,
      statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
      ...(logger ? { logger } : {}),
    });
    return { config, database, embedded: false, notes: [] };
  }
  const notes: string[] = [];
  let effective = config;
  const needsJwt = !config.JWT_SECRET && !config.JWT_JWKS_URL && !config.JWT_PUBLIC_KEY_FILE;
  if (needsJwt || !config.PII_ENCRYPTION_KEY) {
    const { keys, created, path } = await loadOrCreateDevKeys(config.PGLITE_DIR);
    effective = Object.freeze({
      ...config,
      JWT_SECRET: needsJwt ? keys.jwtSecret : config.JWT_SECRET,
      PII_ENCRYPTION_KEY: config.PII_ENCRYPTION_KEY ?? keys.piiKey,
    });
    notes.push(
      `${created ? 'created' : 'using'} development keys (JWT secret${config.PII_ENCRYPTION_KEY ? '' : ', PII encryption key'}) in ${path}; keep that file with the data folder`,
    );
  }
  await mkdir(config.PGLITE_DIR, { recursive: true });
  const unlock = lockDataDir(config.PGLITE_DIR);
  let pglite: Database;
  try {
    pglite = await openPglite({ dataDir: config.PGLITE_DIR });
  } catch (err) {
    unlock();
    throw err;
  }
  const database: Database = {
    ...pglite,
    async close() {
      try {
        await pglite.close();
      } finally {
        unlock();
      }
    },
  };
  notes.push(`embedded PGlite database in ${config.PGLITE_DIR} (set DATABASE_URL to use PostgreSQL)`);
  return { config: effective, database, embedded: true, notes };
}
