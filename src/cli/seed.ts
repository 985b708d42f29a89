import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { App } from '../app.js';
import { buildApp } from '../app.js';
import { loadConfigOrReport } from '../config.js';
import { migrate } from '../db/migrate.js';
import { todayInShanghai } from '../domain/dates.js';
import { DEFAULT_SEED, demoDataset, type CrossRegionLink, type DemoDataset, type UpsertOperation } from '../demo/generator.js';
import { openRuntime } from '../runtime.js';
import { createTokenVerifier, mintToken } from '../security/tokens.js';
import { isEntryPoint } from './entry-point.js';

// `npm run seed`: writes the demo data set through the API itself (POST /v1/batch via inject), so every
// record passes the same validation, rules, change feed and audit as a platform's upload.

export const SEED_BATCH_SIZE = 1000;
/** Collections in the order they must be written: each references the one before. */
export const SEED_PHASES = [
  'org-units',
  'officers',
  'credentials',
  'post-statuses',
  'assistants',
  'equipment',
  'equipment-allocations',
  'trainings',
  'assessments',
  'cases',
] as const;

/** The data set's lists the phases write; those beyond org units, officers and credentials may be left out. */
export type SeedDataset = Pick<DemoDataset, 'orgUnits' | 'officers' | 'credentials' | 'links'> &
  Partial<Pick<DemoDataset, 'postStatuses' | 'assistants' | 'equipment' | 'allocations' | 'trainings' | 'assessments' | 'cases'>>;
/** identities:bulk: an initial load creates far more people than the hourly budget of new ID numbers. */
export const SEED_SCOPE = 'records:read records:write identities:bulk';

export interface CollectionCounts {
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
}

export interface SeedFailure {
  collection: string;
  regionCode: string;
  externalId: string;
  status: number;
  problem: unknown;
}

export interface SeedSummary {
  counts: Record<string, CollectionCounts>;
  /** Failed operations in the order they were met; writing stops after the batch holding the first one. */
  failures: SeedFailure[];
  /** Collections not written because an earlier one failed. */
  skipped: string[];
  /** Per operation `collection|region/key` → { id, version } as the API answered. */
  written: Map<string, { id: string; version: number; status: number }>;
}

interface BatchResultJson {
  index: number;
  status: number;
  id?: string;
  version?: number;
  error?: unknown;
}

const keyOf = (collection: string, regionCode: string, externalId: string) => `${collection}|${regionCode}/${externalId}`;

/** Versions the records already have, by key: a 200 with the same version is "unchanged", otherwise "updated". */
async function currentVersions(app: App, headers: Record<string, string>, collection: string): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  let cursor: string | undefined;
  // Bounded: 2000 pages of 500 is a million records, far beyond any demo database.
  for (let page = 0; page < 2000; page++) {
    const query = new URLSearchParams({ limit: '500', ...(cursor ? { cursor } : {}) });
    const res = await app.inject({ method: 'GET', url: `/v1/${collection}?${query}`, headers });
    if (res.statusCode !== 200) throw new Error(`GET /v1/${collection} answered ${res.statusCode}: ${res.body}`);
    const body = res.json<{ items: { regionCode: string; externalId: string | null; version: number }[]; nextCursor: string | null }>();
    for (const item of body.items) {
      if (item.externalId) versions.set(keyOf(collection, item.regionCode, item.externalId), item.version);
    }
    if (!body.nextCursor) return versions;
    cursor = body.nextCursor;
  }
  throw new Error(`GET /v1/${collection}: more than 2000 pages; not a demo database`);
}

/** Looks up a record's id by its key (a link target written before this run). */
async function idByKey(app: App, headers: Record<string, string>, target: CrossRegionLink['target']): Promise<string | undefined> {
  const res = await app.inject({ method: 'GET', url: `/v1/${target.collection}/external/${target.regionCode}/${target.externalId}`, headers });
  if (res.statusCode === 404) return undefined;
  if (res.statusCode !== 200) throw new Error(`GET ${target.collection} ${target.regionCode}/${target.externalId} answered ${res.statusCode}: ${res.body}`);
  return res.json<{ id: string }>().id;
}

export interface WriteDatasetOptions {
  /** `Bearer …` of a token with records:read and records:write covering every region of the data set. */
  authorization: string;
  batchSize?: number;
}

/**
 * Writes a data set through POST /v1/batch (non-atomic, at most `batchSize` operations a request), one collection
 * after another in the order of SEED_PHASES (each refers only to those before it). Cross-region parents are filled in as ids once their targets exist. Stops after the
 * batch in which the first operation fails. Writing the same data set again changes nothing.
 */
export async function writeDataset(
  app: App,
  dataset: SeedDataset,
  options: WriteDatasetOptions,
): Promise<SeedSummary> {
  const batchSize = Math.min(options.batchSize ?? SEED_BATCH_SIZE, SEED_BATCH_SIZE);
  const headers = { authorization: options.authorization, 'content-type': 'application/json' };
  const byPhase: Record<(typeof SEED_PHASES)[number], UpsertOperation[]> = {
    'org-units': dataset.orgUnits,
    officers: dataset.officers,
    credentials: dataset.credentials,
    'post-statuses': dataset.postStatuses ?? [],
    assistants: dataset.assistants ?? [],
    equipment: dataset.equipment ?? [],
    'equipment-allocations': dataset.allocations ?? [],
    trainings: dataset.trainings ?? [],
    assessments: dataset.assessments ?? [],
    cases: dataset.cases ?? [],
  };
  const links = new Map(dataset.links.map((link) => [keyOf(link.collection, link.regionCode, link.externalId), link]));
  const summary: SeedSummary = { counts: {}, failures: [], skipped: [], written: new Map() };
  const ids = new Map<string, string>();

  for (const collection of SEED_PHASES) {
    if (summary.failures.length > 0) {
      summary.skipped.push(collection);
      continue;
    }
    const counts: CollectionCounts = { created: 0, updated: 0, unchanged: 0, failed: 0 };
    summary.counts[collection] = counts;
    const operations = byPhase[collection];
    if (operations.length === 0) continue;
    const before = await currentVersions(app, headers, collection);

    let pending: UpsertOperation[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const sent = pending;
      pending = [];
      const res = await app.inject({ method: 'POST', url: '/v1/batch', headers, payload: { atomic: false, operations: sent } });
      if (res.statusCode !== 200) throw new Error(`POST /v1/batch answered ${res.statusCode}: ${res.body}`);
      const { results } = res.json<{ results: BatchResultJson[] }>();
      for (const result of results) {
        const op = sent[result.index];
        if (!op) throw new Error(`POST /v1/batch answered a result for operation ${result.index}, which was not sent`);
        const key = keyOf(op.collection, op.regionCode, op.externalId);
        if (result.status === 201 || result.status === 200) {
          const version = result.version ?? 0;
          if (result.status === 201) counts.created++;
          else if (before.get(key) === version) counts.unchanged++;
          else counts.updated++;
          if (result.id) {
            ids.set(key, result.id);
            summary.written.set(key, { id: result.id, version, status: result.status });
          }
        } else {
          counts.failed++;
          summary.failures.push({
            collection: op.collection,
            regionCode: op.regionCode,
            externalId: op.externalId,
            status: result.status,
            problem: result.error,
          });
        }
      }
    };

    for (const operation of operations) {
      let op = operation;
      const link = links.get(keyOf(op.collection, op.regionCode, op.externalId));
      if (link) {
        const targetKey = keyOf(link.target.collection, link.target.regionCode, link.target.externalId);
        if (!ids.has(targetKey)) await flush(); // the target may be in the pending batch
        const id = ids.get(targetKey) ?? (await idByKey(app, headers, link.target));
        if (!id) throw new Error(`${op.collection} ${op.regionCode}/${op.externalId}: ${link.field} target ${targetKey} does not exist`);
        ids.set(targetKey, id);
        op = { ...op, data: { ...op.data, [link.field]: id } };
      }
      pending.push(op);
      if (pending.length >= batchSize) await flush();
      if (summary.failures.length > 0) break;
    }
    if (summary.failures.length === 0) await flush();
  }
  return summary;
}

export function formatSummary(summary: SeedSummary): string {
  const rows = Object.entries(summary.counts).map(([name, c]) => [name, c.created, c.updated, c.unchanged, c.failed] as const);
  const header = ['collection', 'created', 'updated', 'unchanged', 'failed'];
  const lines = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  const out = lines.map((l) => l.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  for (const skipped of summary.skipped) out.push(`${skipped.padEnd(widths[0]!)}  not written: an earlier collection failed`);
  return out.join('\n');
}

function describeFailure(failure: SeedFailure): string {
  const problem = (failure.problem ?? {}) as { code?: string; detail?: string; title?: string; errors?: { path: string; message: string }[] };
  const fields = (problem.errors ?? []).map((e) => `\n    ${e.path}: ${e.message}`).join('');
  return `${failure.collection} ${failure.regionCode}/${failure.externalId} → ${failure.status} ${problem.code ?? ''}: ${problem.detail ?? problem.title ?? JSON.stringify(failure.problem)}${fields}`;
}

const USAGE = `Usage: npm run seed [-- --officers 300] [--seed ${DEFAULT_SEED}]

Writes demo data (Zhengzhou 410100 with districts, Luoyang 410300, Xinxiang 410700: org units, officers,
credentials, post statuses, assistants, equipment and its allocations, trainings, assessments) through the API's batch endpoint. Idempotent: running it again changes nothing.
With no DATABASE_URL it writes into the embedded database in PGLITE_DIR (default ./data/pglite);
stop \`npm start\` first: PGlite allows one process per data folder.`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      officers: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const officers = values.officers === undefined ? 300 : Number(values.officers);
  if (!Number.isInteger(officers) || officers < 0 || officers > 100_000) {
    process.stderr.write(`--officers must be an integer 0..100000, got ${values.officers}\n`);
    return 2;
  }
  const seed = values.seed === undefined ? DEFAULT_SEED : /^\d+$/.test(values.seed) ? Number(values.seed) : values.seed;

  const config = loadConfigOrReport();
  if (!config) return 1;

  let runtime;
  try {
    runtime = await openRuntime(config);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (config.DATABASE_URL) throw err;
    process.stderr.write(`Could not open the embedded database in ${config.PGLITE_DIR}: ${reason}\n`);
    return 1;
  }
  const { database } = runtime;
  let app: App | undefined;
  try {
    try {
      await migrate(database);
    } catch (err) {
      if (runtime.embedded) {
        process.stderr.write(
          `Could not migrate the embedded database in ${config.PGLITE_DIR} (is \`npm start\` running on it? stop it first): ${err instanceof Error ? err.message : String(err)}\n`,
        );
        return 1;
      }
      throw err;
    }
    // With a JWT secret (the embedded default makes one), sign with it; with JWKS or a public key the seed cannot
    // sign a token the app would accept, so its app verifies a one-off secret instead. Everything else is the same.
    const effective = runtime.config;
    const secret = effective.JWT_SECRET ?? randomBytes(32).toString('base64url');
    const verifier = effective.JWT_SECRET
      ? undefined
      : await createTokenVerifier({ keys: { kind: 'secret', secret }, issuer: effective.JWT_ISSUER, audience: effective.JWT_AUDIENCE });
    app = await buildApp({ config: effective, database, ...(verifier ? { verifier } : {}) });
    await app.ready();
    const token = await mintToken({
      secret,
      issuer: effective.JWT_ISSUER,
      audience: effective.JWT_AUDIENCE,
      region: '410000',
      scope: SEED_SCOPE,
      sub: 'seed',
      clientId: 'officer-registry-seed',
      ttlSeconds: 3600,
    });

    const dataset = demoDataset({ seed, officers, today: todayInShanghai() });
    const where = runtime.embedded ? `embedded database ${config.PGLITE_DIR}` : 'PostgreSQL (DATABASE_URL)';
    process.stdout.write(
      `Seeding ${where}: seed ${String(seed)}, ${dataset.orgUnits.length} org units, ${dataset.officers.length} officers, ${dataset.credentials.length} credentials, ${dataset.assistants.length} assistants, ${dataset.equipment.length} items of equipment and the records about them, ${dataset.cases.length} cases (today ${dataset.today})\n`,
    );
    const started = performance.now();
    const summary = await writeDataset(app, dataset, { authorization: `Bearer ${token}` });
    process.stdout.write(`${formatSummary(summary)}\n`);
    const first = summary.failures[0];
    if (first) {
      process.stderr.write(`\nSeed FAILED (${summary.failures.length} operation(s)); the first problem:\n  ${describeFailure(first)}\n`);
      return 1;
    }
    process.stdout.write(`done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    return 0;
  } finally {
    await app?.close();
    await database.close();
  }
}


// Importing this module (the integration test does) runs nothing; only `npm run seed` does.
if (isEntryPoint(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`Seed failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
