import pg from 'pg';

/**
 * Opens a second PostgreSQL connection to the test database and runs `sql` inside a transaction left open,
 * so a test can start a request that meets that uncommitted change, then `commit()` or `rollback()` it.
 */
export async function openTransaction(url: string, statements: { text: string; values?: unknown[] }[]) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('begin');
  for (const s of statements) await client.query(s.text, s.values);
  return {
    commit: async () => {
      await client.query('commit');
      await client.end();
    },
    rollback: async () => {
      await client.query('rollback');
      await client.end();
    },
  };
}

/** Waits until some connection to the database waits on a lock (true), or `ms` pass (false). */
export async function someoneWaitsOnALock(url: string, ms = 2000): Promise<boolean> {
  const watcher = new pg.Client({ connectionString: url });
  await watcher.connect();
  try {
    for (const started = Date.now(); Date.now() - started < ms; ) {
      const { rows } = await watcher.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`,
      );
      if ((rows[0]?.n ?? 0) > 0) return true;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return false;
  } finally {
    await watcher.end();
  }
}
