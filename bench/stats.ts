// `npm run bench:stats` (DESIGN §9): quarterly and annual statistics and the compliance lists over generated
// data on PostgreSQL (target < 1 s), each the median of BENCH_RUNS after a warm-up, with the plans
// (EXPLAIN (ANALYZE, BUFFERS)) of the statements they run. BENCH_CASES (default 1,000,000) cases filed over
// three years and BENCH_OFFICERS (default a tenth of the cases) officers with their credentials, post statuses,
// assistants, equipment and trainings; a fresh database officer_registry_stats_<pid> is made and dropped
// (BENCH_KEEP_DB=1 keeps it; BENCH_ONLY=annual times the annual statistics alone, for the 10⁷ run).
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
import { generatePeople } from './people-generator.js';
import { assertLoopback, median, table, withDatabase } from './support.js';

const adminUrl = process.env['BENCH_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';
const count = Number(process.env['BENCH_CASES'] || 1_000_000);
const officerCount = Number(process.env['BENCH_OFFICERS'] || Math.round(count / 10));
const only = process.env['BENCH_ONLY'];
/** An existing bench database (kept with BENCH_KEEP_DB=1) to time again without generating. */
const reuse = process.env['BENCH_REUSE_DB'];
const runs = Number(process.env['BENCH_RUNS'] || 3);
const keep = process.env['BENCH_KEEP_DB'] === '1';

async function main() {
  assertLoopback(adminUrl);
  const name = reuse ?? `officer_registry_stats_${process.pid}`;
  if (!/^officer_registry_stats_\d+$/.test(name)) throw new Error('BENCH_REUSE_DB must name a bench database (officer_registry_stats_<pid>)');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  if (!reuse) await admin.query(`create database ${name}`);
  const url = withDatabase(adminUrl, name);
  const database = openPostgres({ connectionString: url, max: 4, statementTimeoutMs: 600_000 });
  try {
    await migrate(database);
    const today = todayInShanghai();
    const lastYear = Number(today.slice(0, 4)) - 1;
    const started = Date.now();
    let people = {};
    if (!reuse) {
      await generateCases(database.pool!, count, `${lastYear - 1}-01-01`, addDays(today, -1));
      people = await generatePeople(database.pool!, officerCount, today);
    }
    await database.pool!.query('vacuum analyze');
    const generated = (Date.now() - started) / 1000;
    const size = (await database.pool!.query<{ size: string }>(`select pg_size_pretty(pg_total_relation_size('cases')) as size`)).rows[0]!.size;
    const dbSize = (await database.pool!.query<{ size: string }>(`select pg_size_pretty(pg_database_size(current_database())) as size`)).rows[0]!.size;
    console.log(
      reuse
        ? `reusing ${name}; cases table with indexes: ${size}; database: ${dbSize}`
        : `generated ${count} cases and ${JSON.stringify(people)} in ${generated.toFixed(0)} s; cases table with indexes: ${size}; database: ${dbSize}`,
    );

    // A drizzle handle that records its statements, to explain them afterwards.
    const captured: { query: string; params: unknown[] }[] = [];
    const traced = drizzle(database.pool!, { logger: { logQuery: (query, params) => captured.push({ query, params }) } }) as unknown as Db;
    const list = (name: string) => (db: Db) =>
      COMPLIANCE_CHECKS.find((c) => c.name === name)!.run({ db, quotas: DEFAULT_EQUIPMENT_QUOTAS, region: '410000', today, limit: 51, after: undefined, query: {} });
    const all: { name: string; run: (db: Db) => Promise<unknown> }[] = [
      { name: `quarterly ${lastYear}Q2, province 410000`, run: (db) => buildReport(db, '410000', quarterPeriod(lastYear, 2, today), DEFAULT_EQUIPMENT_QUOTAS) },
      { name: `quarterly ${lastYear}Q2, city 410100`, run: (db) => buildReport(db, '410100', quarterPeriod(lastYear, 2, today), DEFAULT_EQUIPMENT_QUOTAS) },
      { name: `annual ${lastYear}, province 410000`, run: (db) => buildReport(db, '410000', yearPeriod(lastYear, today), DEFAULT_EQUIPMENT_QUOTAS) },
      { name: 'compliance cases-overdue, province, first page of 50', run: list('cases-overdue') },
      { name: 'compliance on-duty-without-credential, province, first page of 50', run: list('on-duty-without-credential') },
      { name: 'compliance training-overdue, province, first page of 50', run: list('training-overdue') },
      { name: 'compliance assistants-over-quota, province, first page of 50', run: list('assistants-over-quota') },
      { name: 'compliance equipment-below-quota, province, first page of 50', run: list('equipment-below-quota') },
    ];
    const scenarios = only === 'annual' ? all.filter((s) => s.name.startsWith('annual')) : all;
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
        const plan = await database.pool!.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${q.query}`, q.params);
        plans.push(`-- ${s.name}\n${plan.rows.map((r) => r['QUERY PLAN']).join('\n')}`);
      }
    }
    console.log(table(['scenario', 'median', '< 1 s'], rows));
    console.log(plans.join('\n\n'));
    const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'results');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `stats-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ count, people, generatedSeconds: generated, size, dbSize, results, plans }, null, 2));
  } finally {
    await database.close();
    if (!keep && !reuse) await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
