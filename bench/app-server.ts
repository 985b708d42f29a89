// Child process of `npm run bench`: the real app (buildApp on openPostgres) on 127.0.0.1, a random port.
// Configured by the parent through the environment; prints one JSON line `{"port":…}` when listening.
import pg from 'pg';

// The app as deployed: the compiled build (`npm run build`, which the bench runs first), not the sources
// through tsx — the transpiler and its caches add some 75 MB of RSS that a deployment does not have.
// BENCH_APP=src runs the sources (no build needed; RSS is then not comparable).
const from = process.env['BENCH_APP'] === 'src' ? '../src' : '../dist';
const { buildApp } = (await import(`${from}/app.js`)) as typeof import('../src/app.js');
const { loadConfig } = (await import(`${from}/config.js`)) as typeof import('../src/config.js');
const { openPostgres } = (await import(`${from}/db/client.js`)) as typeof import('../src/db/client.js');
const { tuneHeap } = (await import(`${from}/heap.js`)) as typeof import('../src/heap.js');

/**
 * BENCH_TRACE_SQL=1: time every statement the app sends (from the call to its answer, so round trip included),
 * grouped by statement shape, served at GET /__bench/sql-stats (which also resets them). Diagnosis only.
 */
function traceSql() {
  const stats = new Map<string, { count: number; ms: number }>();
  const shape = (text: string) =>
    text
      .replace(/\s+/g, ' ')
      .replace(/op_\d+/g, 'op_n')
      .replace(/\(\$\d+(, \$\d+)+\)/g, '($…)')
      .replace(/, \(\$\d+(, (\$\d+|default))+\)/g, ', …')
      .slice(0, 110);
  const record = (text: string, ms: number) => {
    const key = shape(text);
    const entry = stats.get(key) ?? { count: 0, ms: 0 };
    entry.count++;
    entry.ms += ms;
    stats.set(key, entry);
  };
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = prototype.query;
  prototype.query = function (this: unknown, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '?');
    const started = performance.now();
    const result = original.apply(this, args);
    if (result instanceof Promise) {
      result.then(
        () => record(text, performance.now() - started),
        () => record(text, performance.now() - started),
      );
    }
    return result;
  };
  return () => {
    const out = [...stats.entries()].map(([sql, s]) => ({ sql, ...s })).sort((a, b) => b.ms - a.ms);
    stats.clear();
    return out;
  };
}

async function main() {
  // As src/server.ts does first thing.
  tuneHeap();
  const sqlStats = process.env['BENCH_TRACE_SQL'] === '1' ? traceSql() : undefined;
  const config = loadConfig();
  if (!config.DATABASE_URL) throw new Error('bench app server needs DATABASE_URL');
  const database = openPostgres({
    connectionString: config.DATABASE_URL,
    max: config.DB_POOL_MAX,
    queueMax: config.DB_POOL_QUEUE_MAX,
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
  });
  const app = await buildApp({ config, database });
  if (sqlStats) app.get('/__bench/sql-stats', async () => ({ statements: sqlStats() }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  let closing = false;
  const stop = async () => {
    if (closing) return;
    closing = true;
    await app.close();
    await database.close();
    // A normal exit, so `--cpu-prof` writes its profile.
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench app server failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
