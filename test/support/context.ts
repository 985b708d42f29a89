import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { openPglite, openPostgres, type Database } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { mintToken } from '../../src/security/tokens.js';
import { withDatabase } from './global-setup.js';

export const TEST_JWT_SECRET = 'test-secret-that-is-at-least-32-characters-long';
export const TEST_PII_KEY = Buffer.alloc(32, 7).toString('base64');

export const testConfig: Config = loadConfig({
  JWT_SECRET: TEST_JWT_SECRET,
  PII_ENCRYPTION_KEY: TEST_PII_KEY,
  LOG_LEVEL: 'silent',
  // High enough that no suite is throttled; the rate-limit tests lower it for their own app.
  RATE_LIMIT_MAX: '1000000',
  // Suites create thousands of people under one client; the identity-probe tests lower it.
  IDENTITY_NEW_BUDGET_PER_HOUR: '1000000',
  // Suites fire bursts of concurrent requests on a busy machine: a fixed capacity and a long wait, so none is
  // refused as overload; the admission tests set their own limits.
  ADMISSION_TARGET_MS: '0',
  ADMISSION_QUEUE_TIMEOUT_MS: '30000',
});

export const ALL_SCOPES = 'records:read records:write pii:read stats:read audit:read';

export interface TokenOptions {
  region?: string;
  scope?: string;
  sub?: string;
  /** The token's client_id (the identity throttle counts per client). */
  clientId?: string;
  ttlSeconds?: number;
  secret?: string;
  audience?: string;
  issuer?: string;
}

export function token(options: TokenOptions = {}): Promise<string> {
  return mintToken({
    secret: options.secret ?? TEST_JWT_SECRET,
    issuer: options.issuer ?? testConfig.JWT_ISSUER,
    audience: options.audience ?? testConfig.JWT_AUDIENCE,
    region: options.region ?? '410000',
    scope: options.scope ?? ALL_SCOPES,
    sub: options.sub ?? 'tester',
    ...(options.clientId ? { clientId: options.clientId } : {}),
    ttlSeconds: options.ttlSeconds ?? 600,
  });
}

export async function bearer(options: TokenOptions = {}): Promise<{ authorization: string }> {
  return { authorization: `Bearer ${await token(options)}` };
}

/** A database of this test file's own: a clone of the migrated PostgreSQL template, or a fresh PGlite. */
export async function openTestDatabase(): Promise<{ database: Database; url?: string; drop(): Promise<void> }> {
  const chosen = inject('testDatabase');
  if (chosen.kind === 'pglite') {
    const database = await openPglite();
    await migrate(database);
    return { database, drop: () => database.close() };
  }
  const name = `or_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: chosen.url });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${chosen.template}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(chosen.url, name);
  const database = openPostgres({ connectionString: url, max: 10 });
  return {
    database,
    url,
    async drop() {
      await database.close();
      const cleanup = new pg.Client({ connectionString: chosen.url });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}

export interface TestContext {
  app: App;
  database: Database;
  /** Set on PostgreSQL only. */
  url: string | undefined;
}

/** One app on one migrated database for the whole test file; tests isolate themselves by region code. */
export function useTestApp(overrides: Partial<Config> = {}): TestContext {
  const ctx = {} as TestContext;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const opened = await openTestDatabase();
    drop = opened.drop;
    ctx.database = opened.database;
    ctx.url = opened.url;
    ctx.app = await buildApp({ config: { ...testConfig, ...overrides }, database: opened.database });
    await ctx.app.ready();
  });
  afterAll(async () => {
    await ctx.app?.close();
    await drop?.();
  });
  return ctx;
}

export const isPostgres = () => inject('testDatabase').kind === 'postgres';
