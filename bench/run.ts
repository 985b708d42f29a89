// `npm run bench` (DESIGN §9, first two targets): the API against raw-`pg` baselines on a local PostgreSQL.
//
//   (a) batch upsert of 10,000 generated officers through POST /v1/batch (10 × 1000, sequential, fetch), every
//       record a create, vs raw `INSERT … SELECT FROM unnest(…) ON CONFLICT … DO UPDATE` of the same rows in chunks
//       of 1000 into a twin table (see baseline-insert.ts for what the baseline includes); then the same records
//       with every one changed, vs raw `UPDATE … FROM unnest(…)`. Target ratio ≥ 0.5 for both.
//   (c) batch upsert of as many post statuses (持证上岗 reads the officer and its credentials) beside (a)'s officers.
//   (b) GET /v1/officers/{id} and GET /v1/officers?regionCode=410100&employmentStatus=active&limit=50 under
//       autocannon (10 connections, no pipelining) vs a minimal Fastify app doing the same queries with raw `pg`
//       prepared statements (baseline-server.ts, "masking baseline": it decrypts and masks like the app) and vs the
//       "plain" routes of the same server (the stored row as it is: no auth, no decryption, no summary). Targets
//       against plain: ≥ 0.7 (by id) and ≥ 0.95 (list) requests/s, p99 within 1.5×.
//   (d) the change feed drained by one reader, alone and while 4 writers write (feed-and-load.ts).
//   (e) 200 connections for 20 s on lists and the feed: RSS, status counts, timeouts, p99 (feed-and-load.ts).
//
// A fresh database officer_registry_bench_<pid> is made (BENCH_DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/postgres, used as admin), migrated, and dropped at the end. The app and the
// baseline each run in their own child process on 127.0.0.1; warm-up first, then the median of 3 runs.
// Knobs: BENCH_OFFICERS (10000), BENCH_RUNS (3), BENCH_DURATION (10 s per autocannon run), BENCH_ONLY=write|read|feed|load (one scenario),
// BENCH_PROFILE=1 (CPU profile of the app process, summarised at the end, and its SQL timed by statement),
// BENCH_KEEP_DB=1 (leave the database for a look with psql), BENCH_APP=src (run the app from its sources through tsx
// rather than from its build, which the bench otherwise makes first).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { writeDataset } from '../src/cli/seed.js';
import { loadConfig } from '../src/config.js';
import { openPostgres } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { addDays, todayInShanghai } from '../src/domain/dates.js';
import { demoDataset, demoOrgUnits, officerOps, type UpsertOperation } from '../src/demo/generator.js';
import { createPiiCipher } from '../src/security/pii.js';
import { mintToken } from '../src/security/tokens.js';
import { baselineUpdate, baselineUpsert, createTwinTable, TWIN_TABLE } from './baseline-insert.js';
import { feedAndLoadTable, feedScenario, loadScenario } from './feed-and-load.js';
import { summarizeProfile } from './profile-summary.js';
import { assertLoopback, fmt, median, startChild, table, withDatabase, type ChildServer } from './support.js';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const RESULTS_DIR = join(BENCH_DIR, 'results');

function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer ${min}..${max}, got ${raw}`);
  return n;
}

const params = {
  adminUrl: process.env['BENCH_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres',
  officers: intEnv('BENCH_OFFICERS', 10_000, 1000, 1_000_000),
  batchSize: 1000,
  runs: intEnv('BENCH_RUNS', 3, 1, 9),
  durationSeconds: intEnv('BENCH_DURATION', 10, 1, 120),
  warmupSeconds: 3,
  connections: 10,
  pipelining: 1,
  only: process.env['BENCH_ONLY'] as 'write' | 'read' | 'feed' | 'load' | undefined,
  profile: process.env['BENCH_PROFILE'] === '1',
  keepDatabase: process.env['BENCH_KEEP_DB'] === '1',
  seed: 'bench',
};
const WATCHDOG_MS = 30 * 60_000;
const LIST_QUERY = 'regionCode=410100&employmentStatus=active&limit=50';
/** Officer indexes of the write runs: far from the demo set's 0..299, distinct per run, so every record is new. */
const WARMUP_START = 1_000_000;
const RUN_START = 2_000_000;

/** CPU time (user + system) a process has used so far, in ms; undefined where /proc is missing. */
async function cpuMs(pid: number): Promise<number | undefined> {
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /, '').split(' ');
    // After the command: state is field 3, utime 14 and stime 15 (1-based) → indexes 11 and 12 here.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

interface WriteRun {
  api: { ms: number; recordsPerSecond: number; appCpuMs?: number | undefined; sqlTrace?: Awaited<ReturnType<typeof readSqlTrace>> };
  baseline: { ms: number; recordsPerSecond: number };
}

interface ReadRun {
  requestsPerSecond: number;
  p99Ms: number;
  p50Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
}

interface Cleanup {
  children: ChildServer[];
  pools: pg.Pool[];
  dropDatabase?: () => Promise<void>;
}

async function main() {
  assertLoopback(params.adminUrl);
  const cleanup: Cleanup = { children: [], pools: [] };
  let cleaned = false;
  const runCleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    for (const child of cleanup.children) await child.stop().catch(() => {});
    for (const pool of cleanup.pools) await pool.end().catch(() => {});
    await cleanup.dropDatabase?.().catch((err: unknown) => process.stderr.write(`could not drop the bench database: ${String(err)}\n`));
  };
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: over ${WATCHDOG_MS / 60_000} minutes, giving up\n`);
    void runCleanup().finally(() => process.exit(1));
  }, WATCHDOG_MS);
  watchdog.unref();
  process.once('SIGINT', () => void runCleanup().finally(() => process.exit(130)));

  try {
    return await bench(cleanup);
  } finally {
    await runCleanup();
    clearTimeout(watchdog);
  }
}

async function bench(cleanup: Cleanup) {
  const startedAt = new Date().toISOString();
  // The app runs from its compiled build, as deployed (app-server.ts).
  if (process.env['BENCH_APP'] !== 'src') {
    process.stdout.write('building the app (npm run build)…\n');
    execFileSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
  }
  const dbName = `officer_registry_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: params.adminUrl });
  await admin.connect();
  const postgresVersion = (await admin.query<{ v: string }>(`select current_setting('server_version') as v`)).rows[0]?.v ?? '?';
  const autovacuum = (await admin.query<{ v: string }>(`select current_setting('autovacuum') as v`)).rows[0]?.v ?? '?';
  const loadBefore = os.loadavg();
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.query(`create database ${dbName}`);
  await admin.end();
  cleanup.dropDatabase = async () => {
    if (params.keepDatabase) {
      process.stdout.write(`kept database ${dbName} (BENCH_KEEP_DB=1): drop it with  psql … -c 'drop database ${dbName}'\n`);
      return;
    }
    const c = new pg.Client({ connectionString: params.adminUrl });
    await c.connect();
    try {
      await c.query(`drop database if exists ${dbName} with (force)`);
    } finally {
      await c.end();
    }
  };
  const url = withDatabase(params.adminUrl, dbName);
  const secrets = { JWT_SECRET: randomBytes(32).toString('base64url'), PII_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
  // Children inherit the shell's environment: blank out other key sources so they cannot clash with JWT_SECRET.
  const env = { DATABASE_URL: url, ...secrets, JWT_JWKS_URL: '', JWT_PUBLIC_KEY_FILE: '', JWT_ALGORITHM: '', LOG_LEVEL: 'silent', DB_POOL_MAX: '10', RATE_LIMIT_MAX: '1000000000' };
  const config = loadConfig(env);
  const cipher = createPiiCipher(secrets.PII_ENCRYPTION_KEY);
  const token = await mintToken({
    secret: secrets.JWT_SECRET,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    region: '410000',
    // identities:bulk: (a) creates 10,000 officers, far past the hourly budget of new ID numbers.
    scope: 'records:read records:write identities:bulk',
    sub: 'bench',
    clientId: 'officer-registry-bench',
    ttlSeconds: 3600,
  });
  const authorization = `Bearer ${token}`;
  const piiToken = await mintToken({
    secret: secrets.JWT_SECRET,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    region: '410000',
    scope: 'records:read pii:read',
    sub: 'bench-pii',
    clientId: 'officer-registry-bench-pii',
    ttlSeconds: 3600,
  });

  // Migrate, make the twin table, and load the demo set (org units, 300 officers with credentials) through the API.
  process.stdout.write(`bench database ${dbName} on PostgreSQL ${postgresVersion}: migrating and loading the demo set…\n`);
  {
    const database = openPostgres({ connectionString: url, max: 4 });
    try {
      await migrate(database);
      const client = await database.pool!.connect();
      try {
        await createTwinTable(client);
      } finally {
        client.release();
      }
      const app = await buildApp({ config, database });
      try {
        const summary = await writeDataset(app, demoDataset({ seed: params.seed, officers: 300, today: todayInShanghai() }), { authorization });
        if (summary.failures.length > 0) throw new Error(`demo set failed to load: ${JSON.stringify(summary.failures[0])}`);
      } finally {
        await app.close();
      }
    } finally {
      await database.close();
    }
  }

  const pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'bench-baseline-writer' });
  cleanup.pools.push(pool);
  // Profiles are large and not results: kept in the temp folder (bench/results/ only holds the git-ignored JSON).
  const profileDir = join(os.tmpdir(), `officer-registry-bench-profile-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  if (params.profile) await mkdir(profileDir, { recursive: true });
  const appServer = await startChild(
    'app',
    join(BENCH_DIR, 'app-server.ts'),
    { ...(params.profile ? { ...env, BENCH_TRACE_SQL: '1' } : env), NODE_OPTIONS: await deployedNodeOptions() },
    params.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  );
  cleanup.children.push(appServer);
  const baselineServer = await startChild('baseline', join(BENCH_DIR, 'baseline-server.ts'), env);
  cleanup.children.push(baselineServer);
  process.stdout.write(`app on 127.0.0.1:${appServer.port} (pid ${appServer.pid}), baseline on 127.0.0.1:${baselineServer.port} (pid ${baselineServer.pid})\n`);

  const runs = (scenario: NonNullable<typeof params.only>) => params.only === undefined || params.only === scenario;
  const write = runs('write') ? await writeScenario(pool, appServer, authorization, cipher) : undefined;
  const postStatuses = write ? await postStatusScenario(pool, appServer, authorization, write.create.median.apiRecordsPerSecond) : undefined;
  const read = runs('read') ? await readScenario(pool, appServer, baselineServer, authorization) : undefined;
  // Planner statistics as autoanalyze would keep them (see analyze()): the feed and load scenarios read the
  // officers' summaries and the feed, whose plans need them as much as the read scenario's do.
  if (runs('feed') || runs('load')) await analyze(pool);
  const feed = runs('feed')
    ? await feedScenario({
        appServer,
        authorization,
        runs: params.runs,
        countChanges: async () => Number((await pool.query<{ n: string }>('select count(*) as n from changes')).rows[0]?.n ?? 0),
      })
    : undefined;
  const loadResult = runs('load') ? await loadScenario({ appServer, authorization, piiAuthorization: `Bearer ${piiToken}` }) : undefined;

  // Stop the app first so a CPU profile is complete before it is read.
  await appServer.stop();
  const profile = params.profile ? await summarizeProfiles(profileDir) : undefined;

  const result = {
    startedAt,
    finishedAt: new Date().toISOString(),
    commit: gitCommit(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '?',
      node: process.version,
      postgres: postgresVersion,
      // With autovacuum off nothing analyzes the tables; the bench does it between runs (see analyze()).
      autovacuum,
      platform: `${os.platform()} ${os.release()}`,
      // Other work on the machine skews every number: worth a look before trusting a ratio.
      loadAverageBefore: loadBefore,
      loadAverageAfter: os.loadavg(),
    },
    params: { ...params, adminUrl: redactUrl(params.adminUrl), listQuery: LIST_QUERY },
    write,
    postStatuses,
    read,
    feed,
    load: loadResult,
    profile,
  };
  printTable(result.write, result.read, result.postStatuses);
  process.stdout.write(`\n${feedAndLoadTable(feed, loadResult)}\n`);
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${startedAt.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\nresults written to ${file}\n`);
  if (profile) process.stdout.write(`\napp CPU profile (self time by area):\n${profile.text}\n`);
  return 0;
}

/** The Node.js options the image runs the service with (the Dockerfile's `NODE_OPTIONS`): the app is measured as deployed. */
async function deployedNodeOptions(): Promise<string> {
  const dockerfile = await readFile(join(BENCH_DIR, '..', 'Dockerfile'), 'utf8');
  const options = /NODE_OPTIONS="([^"]*)"/.exec(dockerfile)?.[1];
  if (options === undefined) throw new Error('the Dockerfile sets no NODE_OPTIONS');
  return options;
}

/**
 * Planner statistics as autoanalyze would keep them: each write run adds 10,000 rows, and a table never analyzed
 * gets poor plans (with no statistics the lock-by-key SELECT scans a whole region through officers_region_idx
 * instead of using officers_external_key: 3.7 ms instead of 0.1 ms at 32,000 officers). Outside the timings.
 */
async function analyze(pool: pg.Pool) {
  await pool.query(`analyze officers, ${TWIN_TABLE}, credentials, org_units, post_statuses, equipment, equipment_allocations, changes, audit_log`);
}

// ---- (a) batch upsert ---------------------------------------------------------------------------

async function writeScenario(pool: pg.Pool, appServer: ChildServer, authorization: string, cipher: ReturnType<typeof createPiiCipher>) {
  const { workplaces } = demoOrgUnits();
  const units = await pool.query<{ id: string; region_code: string; external_id: string }>(
    'select id, region_code, external_id from org_units where deleted_at is null',
  );
  const unitIds = new Map(units.rows.map((u) => [`${u.region_code}/${u.external_id}`, u.id]));
  const rowContext = {
    cipher,
    orgUnitId(regionCode: string, externalId: string) {
      const id = unitIds.get(`${regionCode}/${externalId}`);
      if (!id) throw new Error(`no org unit ${regionCode}/${externalId}`);
      return id;
    },
  };
  const batchUrl = `http://127.0.0.1:${appServer.port}/v1/batch`;

  async function viaApi(operations: UpsertOperation[], expected: 200 | 201): Promise<number> {
    const bodies: string[] = [];
    for (let i = 0; i < operations.length; i += params.batchSize) {
      bodies.push(JSON.stringify({ atomic: false, operations: operations.slice(i, i + params.batchSize) }));
    }
    const started = performance.now();
    for (const body of bodies) {
      const res = await fetch(batchUrl, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(120_000),
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`POST /v1/batch answered ${res.status}: ${text.slice(0, 500)}`);
      const { results } = JSON.parse(text) as { results: { status: number; error?: unknown }[] };
      const bad = results.find((r) => r.status !== expected);
      if (bad) throw new Error(`a batch operation answered ${bad.status} instead of ${expected}: ${JSON.stringify(bad.error).slice(0, 500)}`);
    }
    return performance.now() - started;
  }

  async function viaBaseline(operations: UpsertOperation[], write: typeof baselineUpsert): Promise<number> {
    const client = await pool.connect();
    try {
      const started = performance.now();
      const written = await write(client, operations, rowContext, params.batchSize);
      const ms = performance.now() - started;
      if (written !== operations.length) throw new Error(`baseline wrote ${written} of ${operations.length} rows`);
      return ms;
    } finally {
      client.release();
    }
  }

  /** Every record of `operations` changed in every field a platform typically re-syncs. */
  const changed = (operations: UpsertOperation[]): UpsertOperation[] =>
    operations.map((op, i) => ({
      ...op,
      data: { ...op.data, position: `科员${i % 7}`, rank: `四级行政执法员${i % 3}`, phone: `136${String(10_000_000 + i).slice(-8)}` },
    }));

  process.stdout.write(`\n(a) batch upsert of ${fmt(params.officers)} officers, creates then updates: warm-up…\n`);
  const warm = officerOps({ seed: params.seed, start: WARMUP_START, count: 2 * params.batchSize, workplaces });
  await viaApi(warm, 201);
  await viaBaseline(warm, baselineUpsert);
  await viaApi(changed(warm), 200);
  await viaBaseline(changed(warm), baselineUpdate);

  const sqlStatsUrl = `http://127.0.0.1:${appServer.port}/__bench/sql-stats`;
  if (params.profile) await fetch(sqlStatsUrl, { signal: AbortSignal.timeout(10_000) }).then((r) => r.text()); // reset after warm-up

  async function timedPair(r: number, operations: UpsertOperation[], expected: 200 | 201, baselineWrite: typeof baselineUpsert): Promise<WriteRun> {
    await analyze(pool);
    // Alternate the order so neither side always runs on the warmer (or more bloated) database.
    let apiMs = 0;
    let baseMs = 0;
    let appCpuMs: number | undefined;
    const timedApi = async () => {
      const cpuBefore = await cpuMs(appServer.pid);
      apiMs = await viaApi(operations, expected);
      const cpuAfter = await cpuMs(appServer.pid);
      appCpuMs = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
    };
    if (r % 2 === 0) {
      await timedApi();
      baseMs = await viaBaseline(operations, baselineWrite);
    } else {
      baseMs = await viaBaseline(operations, baselineWrite);
      await timedApi();
    }
    const sqlTrace = params.profile ? await readSqlTrace(sqlStatsUrl, operations.length, apiMs) : undefined;
    const run = {
      api: { ms: apiMs, recordsPerSecond: (operations.length * 1000) / apiMs, appCpuMs, sqlTrace },
      baseline: { ms: baseMs, recordsPerSecond: (operations.length * 1000) / baseMs },
    };
    process.stdout.write(
      `  run ${r + 1} ${expected === 201 ? 'creates' : 'updates'}: API ${fmt(run.api.recordsPerSecond)} records/s (${fmt(apiMs)} ms wall${appCpuMs === undefined ? '' : `, app process CPU ${fmt(appCpuMs)} ms`}), baseline ${fmt(run.baseline.recordsPerSecond)} records/s (${fmt(baseMs)} ms)\n`,
    );
    return run;
  }

  const creates: WriteRun[] = [];
  const updates: WriteRun[] = [];
  for (let r = 0; r < params.runs; r++) {
    const operations = officerOps({ seed: params.seed, start: RUN_START + r * params.officers, count: params.officers, workplaces });
    creates.push(await timedPair(r, operations, 201, baselineUpsert));
    updates.push(await timedPair(r, changed(operations), 200, baselineUpdate));
  }
  const summary = (runs: WriteRun[], description: string) => {
    const api = median(runs.map((r) => r.api.recordsPerSecond));
    const baseline = median(runs.map((r) => r.baseline.recordsPerSecond));
    return { description, runs, median: { apiRecordsPerSecond: api, baselineRecordsPerSecond: baseline }, ratio: api / baseline, target: 0.5, pass: api / baseline >= 0.5 };
  };
  return {
    officers: params.officers,
    create: summary(
      creates,
      `POST /v1/batch, ${params.officers / params.batchSize} sequential requests of ${params.batchSize} creates, vs raw pg INSERT … SELECT FROM unnest … ON CONFLICT DO UPDATE in chunks of ${params.batchSize} into a twin table (encryption and blind indexes included in both; the baseline has no validation, rules, feed or audit)`,
    ),
    update: summary(
      updates,
      `the same records, every one changed (position, rank, phone), through POST /v1/batch, vs raw pg UPDATE … FROM unnest … in chunks of ${params.batchSize} on the twin table`,
    ),
  };
}

/**
 * (c) A batch of post statuses — a collection whose rule (持证上岗) reads two others, the officer and its
 * credentials, and locks what it reads — beside the officers' batch of (a). The officers of (a)'s first run get a
 * valid enforcement credential (untimed), then each run writes one status per officer (on duty where credentialed,
 * off duty for contract staff, a new day per run so every record is a create).
 */
async function postStatusScenario(pool: pg.Pool, appServer: ChildServer, authorization: string, officersRecordsPerSecond: number) {
  const { workplaces } = demoOrgUnits();
  const officers = officerOps({ seed: params.seed, start: RUN_START, count: params.officers, workplaces });
  const today = todayInShanghai();
  const post = async (operations: UpsertOperation[]) => {
    const started = performance.now();
    for (let i = 0; i < operations.length; i += params.batchSize) {
      const res = await fetch(`http://127.0.0.1:${appServer.port}/v1/batch`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ atomic: false, operations: operations.slice(i, i + params.batchSize) }),
        signal: AbortSignal.timeout(120_000),
      });
      const { results } = (await res.json()) as { results: { status: number; error?: unknown }[] };
      const bad = results.find((r) => r.status !== 201);
      if (bad) throw new Error(`a batch operation answered ${bad.status} instead of 201: ${JSON.stringify(bad.error).slice(0, 500)}`);
    }
    return performance.now() - started;
  };
  const credentialed = (o: UpsertOperation) => o.data['staffingType'] !== 'contract' && o.data['employmentStatus'] === 'active';
  process.stdout.write(`
(c) batch upsert of ${fmt(officers.length)} post statuses: credentials first (untimed)…
`);
  await post(
    officers.filter(credentialed).map((o) => ({
      op: 'upsert',
      collection: 'credentials',
      regionCode: o.regionCode,
      externalId: `${o.externalId}-BENCH-C`,
      data: {
        officerExternalId: o.externalId,
        credentialNumber: `BENCH${o.regionCode}${o.externalId}`,
        kind: 'enforcement',
        issuingAuthority: '河南省人民政府',
        issuedOn: addDays(today, -365),
        expiresOn: addDays(today, 1000),
        status: 'valid',
      },
    })),
  );
  const runs: { ms: number; recordsPerSecond: number }[] = [];
  for (let r = 0; r < params.runs; r++) {
    await analyze(pool);
    const statuses: UpsertOperation[] = officers.map((o) => ({
      op: 'upsert',
      collection: 'post-statuses',
      regionCode: o.regionCode,
      externalId: `${o.externalId}-BENCH-PS-${r}`,
      data: { officerExternalId: o.externalId, status: credentialed(o) ? 'on_duty' : 'off_duty', post: '巡查岗', effectiveFrom: addDays(today, -r) },
    }));
    const ms = await post(statuses);
    runs.push({ ms, recordsPerSecond: (statuses.length * 1000) / ms });
    process.stdout.write(`  run ${r + 1}: ${fmt(runs[r]!.recordsPerSecond)} records/s (${fmt(ms)} ms wall)\n`);
  }
  const recordsPerSecond = median(runs.map((r) => r.recordsPerSecond));
  return {
    description: 'POST /v1/batch of post statuses (持证上岗 reads and locks the officer and its credentials) beside the officers batch of (a)',
    records: officers.length,
    runs,
    median: { recordsPerSecond },
    officersRecordsPerSecond,
    ratio: recordsPerSecond / officersRecordsPerSecond,
  };
}

/** The app's statements during the timed API runs: count and summed round-trip time by statement shape. */
async function readSqlTrace(url: string, records: number, apiMs: number) {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const { statements } = (await res.json()) as { statements: { sql: string; count: number; ms: number }[] };
  const count = statements.reduce((t, s) => t + s.count, 0);
  const ms = statements.reduce((t, s) => t + s.ms, 0);
  const summary = {
    statements: count,
    statementsPerRecord: count / records,
    statementMs: ms,
    apiWallMs: apiMs,
    shareOfWallInStatements: ms / apiMs,
    msPerRecordInStatements: ms / records,
    msPerRecordOutsideStatements: (apiMs - ms) / records,
    top: statements.slice(0, 14).map((s) => ({ ...s, perRecord: s.count / records, avgMs: s.ms / s.count })),
  };
  process.stdout.write(
    `  app SQL during the timed runs: ${fmt(count)} statements (${fmt(summary.statementsPerRecord, 2)} per record), ${fmt(ms)} ms of ${fmt(apiMs)} ms wall in statements (${fmt(100 * summary.shareOfWallInStatements, 0)}%)\n` +
      summary.top.slice(0, 6).map((s) => `    ${fmt(s.ms).padStart(7)} ms ${fmt(s.count).padStart(7)}× avg ${s.avgMs.toFixed(3)} ms  ${s.sql}`).join('\n') +
      '\n',
  );
  return summary;
}

// ---- (b) reads ----------------------------------------------------------------------------------

async function load(url: string, headers: Record<string, string>, seconds: number): Promise<ReadRun> {
  const result = await autocannon({
    url,
    headers,
    connections: params.connections,
    pipelining: params.pipelining,
    duration: seconds,
    timeout: 10,
  });
  return {
    requestsPerSecond: result.requests.average,
    p99Ms: result.latency.p99,
    p50Ms: result.latency.p50,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

async function readScenario(pool: pg.Pool, appServer: ChildServer, baselineServer: ChildServer, authorization: string) {
  await analyze(pool);
  // A demo officer with credentials, so the summary query has rows to read.
  const picked = await pool.query<{ id: string }>(
    `select o.id from officers o join credentials c on c.officer_id = o.id and c.deleted_at is null
      where o.deleted_at is null and o.region_code like '4101%' group by o.id, o.external_id order by count(*) desc, o.external_id limit 1`,
  );
  const officerId = picked.rows[0]?.id;
  if (!officerId) throw new Error('no officer with credentials to read');
  const appBase = `http://127.0.0.1:${appServer.port}`;
  const baseBase = `http://127.0.0.1:${baselineServer.port}`;
  const plainBase = baseBase;
  const endpoints = [
    {
      name: 'GET /v1/officers/{id}',
      app: `${appBase}/v1/officers/${officerId}`,
      baseline: `${baseBase}/baseline/officers/${officerId}`,
      plain: `${plainBase}/plain/officers/${officerId}`,
      target: 0.7,
    },
    {
      name: `GET /v1/officers?${LIST_QUERY}`,
      app: `${appBase}/v1/officers?${LIST_QUERY}`,
      baseline: `${baseBase}/baseline/officers?${LIST_QUERY}`,
      plain: `${plainBase}/plain/officers?${LIST_QUERY}`,
      target: 0.95,
    },
  ];
  const appHeaders = { authorization };
  // The list's SQL as the app sends it, explained: its cost is the floor under both sides of the comparison.
  const plan = await pool.query<{ 'QUERY PLAN': string }>(
    `explain (analyze, buffers) select "id", "region_code", "external_id", "version", "name", "id_card_number_cipher", "phone_cipher",
       (select r.external_id from "org_units" as r where r.id = "officers"."org_unit_id") as "orgUnitExternalId" from "officers"
     where ("officers"."deleted_at" is null and ("officers"."region_code" between $1 and $2 and "officers"."region_code" between $3 and $4)
       and "officers"."employment_status" = $5) order by "officers"."id" limit $6`,
    ['410000', '419999', '410100', '410199', 'active', 51],
  );
  const listPlan = plan.rows.map((r) => r['QUERY PLAN']);
  process.stdout.write(`\nlist query plan (${listPlan.find((l) => l.startsWith('Execution Time')) ?? '?'}):\n  ${listPlan.slice(0, 6).join('\n  ')}\n`);
  const out = [];
  for (const endpoint of endpoints) {
    // All three answer, and with the same records.
    const [a, b, c] = await Promise.all([
      fetch(endpoint.app, { headers: appHeaders, signal: AbortSignal.timeout(10_000) }),
      fetch(endpoint.baseline, { signal: AbortSignal.timeout(10_000) }),
      fetch(endpoint.plain, { signal: AbortSignal.timeout(10_000) }),
    ]);
    const [aBody, bBody, cBody] = [(await a.json()) as Record<string, unknown>, (await b.json()) as Record<string, unknown>, (await c.json()) as Record<string, unknown>];
    if (a.status !== 200 || b.status !== 200 || c.status !== 200) throw new Error(`${endpoint.name}: app ${a.status}, baseline ${b.status}, plain ${c.status}`);
    const ids = (body: Record<string, unknown>) =>
      JSON.stringify(Array.isArray(body['items']) ? (body['items'] as { id: string }[]).map((i) => i.id) : body['id']);
    if (ids(aBody) !== ids(bBody) || ids(aBody) !== ids(cBody)) throw new Error(`${endpoint.name}: the app and the baselines answer different records`);
    const bytes = { app: JSON.stringify(aBody).length, baseline: JSON.stringify(bBody).length, plain: JSON.stringify(cBody).length };

    process.stdout.write(`\n(b) ${endpoint.name}: warm-up ${params.warmupSeconds} s each…\n`);
    await load(endpoint.app, appHeaders, params.warmupSeconds);
    await load(endpoint.baseline, {}, params.warmupSeconds);
    await load(endpoint.plain, {}, params.warmupSeconds);
    const runs: Record<'app' | 'baseline' | 'plain', ReadRun[]> = { app: [], baseline: [], plain: [] };
    const sides = [
      ['app', endpoint.app, appHeaders],
      ['baseline', endpoint.baseline, {}],
      ['plain', endpoint.plain, {}],
    ] as const;
    for (let r = 0; r < params.runs; r++) {
      // Rotate the order so no side always runs first (or on the warmest database).
      for (let k = 0; k < sides.length; k++) {
        const [who, url, headers] = sides[(r + k) % sides.length]!;
        const run = await load(url, headers, params.durationSeconds);
        if (run.non2xx > 0 || run.errors > 0) throw new Error(`${endpoint.name}: ${who} had ${run.non2xx} non-2xx answers and ${run.errors} errors`);
        runs[who].push(run);
      }
      const [ar, br, pr] = [runs.app[r]!, runs.baseline[r]!, runs.plain[r]!];
      process.stdout.write(
        `  run ${r + 1}: app ${fmt(ar.requestsPerSecond)} req/s p99 ${ar.p99Ms} ms, baseline ${fmt(br.requestsPerSecond)} req/s p99 ${br.p99Ms} ms, plain ${fmt(pr.requestsPerSecond)} req/s p99 ${pr.p99Ms} ms\n`,
      );
    }
    const med = (list: ReadRun[]) => ({ requestsPerSecond: median(list.map((r) => r.requestsPerSecond)), p99Ms: median(list.map((r) => r.p99Ms)) });
    const app = med(runs.app);
    const baseline = med(runs.baseline);
    const plain = med(runs.plain);
    // p99 as a ratio where higher is better, like throughput: baseline latency over app latency.
    out.push({
      endpoint: endpoint.name,
      responseBytes: bytes,
      appRuns: runs.app,
      baselineRuns: runs.baseline,
      plainRuns: runs.plain,
      median: { app, baseline, plain },
      // The targets (DESIGN §9): against plain, throughput ≥ target and p99 within 1.5× (latency ratio ≥ 1/1.5).
      throughputRatio: app.requestsPerSecond / plain.requestsPerSecond,
      latencyRatio: plain.p99Ms / app.p99Ms,
      target: endpoint.target,
      latencyTarget: 1 / 1.5,
      pass: app.requestsPerSecond / plain.requestsPerSecond >= endpoint.target && plain.p99Ms / app.p99Ms >= 1 / 1.5,
      // For reference: against the baseline that decrypts and masks like the app.
      maskingBaselineThroughputRatio: app.requestsPerSecond / baseline.requestsPerSecond,
      maskingBaselineLatencyRatio: baseline.p99Ms / app.p99Ms,
    });
  }
  return {
    officers: Number((await pool.query<{ n: string }>('select count(*) as n from officers')).rows[0]?.n ?? 0),
    listPlan,
    description: `autocannon, ${params.connections} connections, pipelining ${params.pipelining}, ${params.durationSeconds} s per run, a real token (verified once, then cached); plain: minimal Fastify + raw pg returning the stored row as it is (no auth, no decryption, no summary); masking baseline: minimal Fastify + raw pg, the app's SQL, same decryption and masking, no auth, no zod`,
    endpoints: out,
  };
}

// ---- output -------------------------------------------------------------------------------------

function printTable(
  write: Awaited<ReturnType<typeof writeScenario>> | undefined,
  read: Awaited<ReturnType<typeof readScenario>> | undefined,
  postStatuses?: Awaited<ReturnType<typeof postStatusScenario>>,
) {
  const rows: string[][] = [];
  if (postStatuses) {
    rows.push([
      `batch upsert ${fmt(postStatuses.records)} post statuses vs officers (records/s)`,
      fmt(postStatuses.median.recordsPerSecond),
      fmt(postStatuses.officersRecordsPerSecond),
      fmt(postStatuses.ratio, 2),
      '(no target)',
      '',
    ]);
  }
  for (const [what, w] of write ? ([['creates', write.create], ['updates', write.update]] as const) : []) {
    rows.push([
      `batch ${what} of ${fmt(write!.officers)} officers (records/s)`,
      fmt(w.median.apiRecordsPerSecond),
      fmt(w.median.baselineRecordsPerSecond),
      fmt(w.ratio, 2),
      `≥ ${w.target}`,
      w.pass ? 'pass' : 'FAIL',
    ]);
  }
  for (const e of read?.endpoints ?? []) {
    const { app, baseline, plain } = e.median;
    rows.push([`${e.endpoint} (req/s) vs plain`, fmt(app.requestsPerSecond), fmt(plain.requestsPerSecond), fmt(e.throughputRatio, 2), `≥ ${e.target}`, e.throughputRatio >= e.target ? 'pass' : 'FAIL']);
    rows.push([`${e.endpoint} (p99 ms) vs plain`, fmt(app.p99Ms, 1), fmt(plain.p99Ms, 1), fmt(e.latencyRatio, 2), '≥ 0.67', e.latencyRatio >= e.latencyTarget ? 'pass' : 'FAIL']);
    rows.push([`${e.endpoint} (req/s) vs masking baseline`, fmt(app.requestsPerSecond), fmt(baseline.requestsPerSecond), fmt(e.maskingBaselineThroughputRatio, 2), '(info)', '']);
  }
  process.stdout.write(`\n${table(['measure (median of runs)', 'app', 'baseline', 'ratio', 'target', ''], rows)}\n`);
  process.stdout.write('(ratio: app/baseline for throughput, baseline/app for p99 latency — higher is better in both)\n');
}

async function summarizeProfiles(dir: string) {
  // One profile per thread; tsx's module loader thread writes a small one. The main thread's is the largest.
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return { dir, text: `no profile written in ${dir}` };
  const sizes = await Promise.all(files.map(async (f) => ({ f, size: (await stat(join(dir, f))).size })));
  const main = sizes.sort((a, b) => b.size - a.size)[0]!.f;
  const summary = await summarizeProfile(join(dir, main));
  return { dir, file: main, ...summary };
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: BENCH_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
