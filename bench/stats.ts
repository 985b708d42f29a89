// `npm run bench:stats` (DESIGN §9): quarterly and annual statistics and a compliance list over generated
// cases on PostgreSQL (target < 1 s), each the median of BENCH_RUNS after a warm-up, with the plans
// (EXPLAIN (ANALYZE, BUFFERS)) of the statements they run. BENCH_CASES (default 1,000,000) cases filed over
// three years; a fresh database officer_registry_stats_<pid> is made and dropped (BENCH_KEEP_DB=1 keeps it).
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { COMPLIANCE_CHECKS } from '../src/compliance/checks.js';
import type { Db } from '../src/db/client.js';
import { openPostgres } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { addDays, todayInShanghai } from '../src/domain/dates.js';
import { DEFAULT_EQUIPMENT_QUOTAS } from '../src/domain/equipment-quotas.js';
import { quarterPeriod, yearPeriod } from '../src/stats/period.js';
import { buildReport } from '../src/stats/report.js';
import { generateCases } from './case-generator.js';
import { assertLoopback, median, table, withDatabase } from './support.js';

const adminUrl = process.env['BENCH_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';
const count = Number(process.env['BENCH_CASES'] || 1_000_000);
const runs = Number(process.env['BENCH_RUNS'] || 3);
const keep = process.env['BENCH_KEEP_DB'] === '1';

async function main() {
  assertLoopback(adminUrl);
  const name = `officer_registry_stats_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = withDatabase(adminUrl, name);
  const database = openPostgres({ connectionString: url, max: 4, statementTimeoutMs: 600_000 });
  try {
    await migrate(database);
    const today = todayInShanghai();
    const lastYear = Number(today.slice(0, 4)) - 1;
    const started = Date.now();
    await generateCases(database.pool!, count, `${lastYear - 1}-01-01`, addDays(today, -1));
    await database.pool!.query('vacuum analyze');
    const generated = (Date.now() - started) / 1000;
    const size = (await database.pool!.query<{ size: string }>(`select pg_size_pretty(pg_total_relation_size('cases')) as size`)).rows[0]!.size;
    console.log(`generated ${count} cases in ${generated.toFixed(0)} s; cases table with indexes: ${size}`);

    // A drizzle handle that records its statements, to explain them afterwards.
    const captured: { query: string; params: unknown[] }[] = [];
    const traced = drizzle(database.pool!, { logger: { logQuery: (query, params) => captured.push({ query, params }) } }) as unknown as Db;
    const scenarios: { name: string; run: (db: Db) => Promise<unknown> }[] = [
      { name: `quarterly ${lastYear}Q2, province 410000`, run: (db) => buildReport(db, '410000', quarterPeriod(lastYear, 2, today), DEFAULT_EQUIPMENT_QUOTAS) },
      { name: `quarterly ${lastYear}Q2, city 410100`, run: (db) => buildReport(db, '410100', quarterPeriod(lastYear, 2, today), DEFAULT_EQUIPMENT_QUOTAS) },
      { name: `annual ${lastYear}, province 410000`, run: (db) => buildReport(db, '410000', yearPeriod(lastYear, today), DEFAULT_EQUIPMENT_QUOTAS) },
      {
        name: 'compliance cases-overdue, province, first page of 50',
        run: (db) => COMPLIANCE_CHECKS.find((c) => c.name === 'cases-overdue')!.run({ db, quotas: DEFAULT_EQUIPMENT_QUOTAS, region: '410000', today, limit: 51, after: undefined, query: {} }),
      },
    ];
    const rows: string[][] = [];
    const plans: string[] = [];
    const results: Record<string, number[]> = {};
    for (const s of scenarios) {
      await s.run(database.db); // warm-up
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await s.run(database.db);
        times.push(performance.now() - t0);
      }
      results[s.name] = times;
      rows.push([s.name, `${median(times).toFixed(0)} ms`, median(times) < 1000 ? 'yes' : 'NO']);
      captured.length = 0;
      await s.run(traced);
      for (const q of captured) {
        if (!/from "cases"/.test(q.query)) continue;
        const plan = await database.pool!.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${q.query}`, q.params);
        plans.push(`-- ${s.name}\n${plan.rows.map((r) => r['QUERY PLAN']).join('\n')}`);
      }
    }
    console.log(table(['scenario', 'median', '< 1 s'], rows));
    console.log(plans.join('\n\n'));
    const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'results');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `stats-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ count, generatedSeconds: generated, size, results, plans }, null, 2));
  } finally {
    await database.close();
    if (!keep) await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
