import type { TestProject } from 'vitest/node';
import pg from 'pg';
import { openPostgres } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';

/**
 * Chooses the test database once per run: TEST_DATABASE_URL when set; else a testcontainers PostgreSQL
 * when a Docker engine answers; else PGlite (each file boots its own). With PostgreSQL, one migrated
 * template database is made here and every test file clones it.
 */
export default async function setup(project: TestProject) {
  let url = process.env['TEST_DB'] === 'pglite' ? undefined : process.env['TEST_DATABASE_URL'];
  let stopContainer: (() => Promise<unknown>) | undefined;
  if (!url && process.env['TEST_DB'] !== 'pglite' && (await dockerAnswers())) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:15-alpine').start();
    url = container.getConnectionUri();
    stopContainer = () => container.stop();
  }
  if (!url) {
    project.provide('testDatabase', { kind: 'pglite' });
    return;
  }
  const template = `or_tpl_${process.pid}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`drop database if exists ${template}`);
  await admin.query(`create database ${template}`);
  const database = openPostgres({ connectionString: withDatabase(url, template) });
  await migrate(database);
  await database.close();
  project.provide('testDatabase', { kind: 'postgres', url, template });

  return async () => {
    await admin.query(`drop database if exists ${template} with (force)`);
    await admin.end();
    await stopContainer?.();
  };
}

export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await Promise.race([
      getContainerRuntimeClient(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('docker probe timed out')), 5_000)),
    ]);
    return true;
  } catch {
    return false;
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    testDatabase: { kind: 'pglite' } | { kind: 'postgres'; url: string; template: string };
  }
}
