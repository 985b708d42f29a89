import { describe, expect, it } from 'vitest';
import { SEED_PHASES, SEED_SCOPE, writeDataset, type SeedSummary } from '../../src/cli/seed.js';
import { todayInShanghai } from '../../src/domain/dates.js';
import { demoDataset } from '../../src/demo/generator.js';
import { bearer, useTestApp } from '../support/context.js';
import { drainFeed } from '../support/fixtures.js';

const ctx = useTestApp();

// The rules compare credential dates with the real today, so the data set is made for it too.
const dataset = demoDataset({ seed: 'seed-test', officers: 40, today: todayInShanghai() });
const phases: Record<(typeof SEED_PHASES)[number], unknown[]> = {
  'org-units': dataset.orgUnits,
  officers: dataset.officers,
  credentials: dataset.credentials,
  'post-statuses': dataset.postStatuses,
  assistants: dataset.assistants,
  equipment: dataset.equipment,
  'equipment-allocations': dataset.allocations,
  trainings: dataset.trainings,
  assessments: dataset.assessments,
  cases: dataset.cases,
};
const counts = (f: (n: number) => object) => Object.fromEntries(SEED_PHASES.map((c) => [c, f(phases[c].length)]));
const total = SEED_PHASES.reduce((sum, c) => sum + phases[c].length, 0);

interface Listed {
  id: string;
  regionCode: string;
  externalId: string | null;
  version: number;
  [field: string]: unknown;
}

async function listAll(collection: string, headers: Record<string, string>): Promise<Listed[]> {
  const out: Listed[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const query = new URLSearchParams({ limit: '500', ...(cursor ? { cursor } : {}) });
    const res = await ctx.app.inject({ method: 'GET', url: `/v1/${collection}?${query}`, headers });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ items: Listed[]; nextCursor: string | null }>();
    out.push(...body.items);
    if (!body.nextCursor) return out;
    cursor = body.nextCursor;
  }
  throw new Error('too many pages');
}

describe('seed: the demo data set written through POST /v1/batch', () => {
  let first: SeedSummary;

  it('creates every record on the first run', async () => {
    const { authorization } = await bearer({ region: '410000', scope: SEED_SCOPE });
    // Small batches: several requests per collection, and cross-region parents resolved between them.
    first = await writeDataset(ctx.app, dataset, { authorization, batchSize: 7 });
    expect(first.failures).toEqual([]);
    expect(first.counts).toEqual(counts((n) => ({ created: n, updated: 0, unchanged: 0, failed: 0 })));
    for (const c of SEED_PHASES) expect(phases[c].length, c).toBeGreaterThan(0);
  });

  it('changes nothing on the second run: every operation 200 with the same version, the same record counts', async () => {
    const { authorization } = await bearer({ region: '410000', scope: SEED_SCOPE });
    const headers = { authorization };
    const countsBefore = await Promise.all(SEED_PHASES.map(async (c) => (await listAll(c, headers)).length));
    const feedBefore = await drainFeed(ctx.app, headers);

    const second = await writeDataset(ctx.app, dataset, { authorization });
    expect(second.failures).toEqual([]);
    expect(second.counts).toEqual(counts((n) => ({ created: 0, updated: 0, unchanged: n, failed: 0 })));
    for (const [key, result] of second.written) {
      expect(result.status, key).toBe(200);
      expect(result.version, key).toBe(first.written.get(key)?.version);
      expect(result.id, key).toBe(first.written.get(key)?.id);
    }
    expect(second.written.size).toBe(total);

    const countsAfter = await Promise.all(SEED_PHASES.map(async (c) => (await listAll(c, headers)).length));
    expect(countsAfter).toEqual(countsBefore);
    expect(countsAfter).toEqual(SEED_PHASES.map((c) => phases[c].length));
    // No new versions, so no new change-feed entries.
    const feedAfter = await drainFeed(ctx.app, headers, { after: feedBefore.cursor });
    expect(feedBefore.items.length).toBe(countsBefore.reduce((a, b) => a + b, 0));
    expect(feedAfter.items).toEqual([]);
  });

  it('puts each district bureau under its city bureau, across regions', async () => {
    const headers = await bearer({ region: '410000', scope: 'records:read' });
    const units = await listAll('org-units', headers);
    const byKey = new Map(units.map((u) => [`${u.regionCode}/${u.externalId}`, u]));
    for (const link of dataset.links) {
      const child = byKey.get(`${link.regionCode}/${link.externalId}`);
      const parent = byKey.get(`${link.target.regionCode}/${link.target.externalId}`);
      expect(child?.['parentId']).toBe(parent?.id);
    }
  });

  it('shows ID numbers and phones masked in a list without pii:read', async () => {
    const headers = await bearer({ region: '410100', scope: 'records:read' });
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/officers?regionCode=410100&limit=50', headers });
    expect(res.statusCode, res.body).toBe(200);
    const items = res.json<{ items: Listed[] }>().items;
    expect(items.length).toBeGreaterThan(0);
    const generated = new Map(dataset.officers.map((o) => [`${o.regionCode}/${o.externalId}`, o.data]));
    for (const item of items) {
      expect(item['idCardNumber']).toMatch(/^410\*{11}[\dX]{4}$/);
      const source = generated.get(`${item.regionCode}/${item.externalId}`);
      expect(item['idCardNumber']).toBe(`${String(source?.['idCardNumber']).slice(0, 3)}${'*'.repeat(11)}${String(source?.['idCardNumber']).slice(-4)}`);
      if (item['phone'] !== null) expect(item['phone']).toMatch(/^1\d{2}\*{4}\d{4}$/);
      expect(JSON.stringify(item)).not.toContain(String(source?.['idCardNumber']));
    }
  });

  it('reads back the credential summary the generator intended: contract staff hold no valid credential', async () => {
    const headers = await bearer({ region: '410000', scope: 'records:read' });
    const officers = await listAll('officers', headers);
    for (const officer of officers) {
      if (officer['staffingType'] === 'contract') {
        expect((officer['summary'] as { holdsValidCredential: boolean }).holdsValidCredential).toBe(false);
      }
    }
    const holders = officers.filter((o) => (o['summary'] as { holdsValidCredential: boolean }).holdsValidCredential);
    expect(holders.length).toBeGreaterThan(officers.length / 2);
  });
});

describe('seed: the records about people read back as intended', () => {
  it('puts most active officers on a current post status, on duty only with a valid credential, and embeds what they hold', async () => {
    const headers = await bearer({ region: '410000', scope: 'records:read' });
    const officers = await listAll('officers', headers);
    type Summary = { holdsValidCredential: boolean; currentPostStatus: { status: string } | null; equipment: { category: string }[] };
    const active = officers.filter((o) => o['employmentStatus'] === 'active');
    const withStatus = active.filter((o) => (o['summary'] as Summary).currentPostStatus !== null);
    expect(withStatus.length).toBeGreaterThan(active.length * 0.7);
    for (const o of officers) {
      const summary = o['summary'] as Summary;
      if (summary.currentPostStatus?.status === 'on_duty') expect(o['employmentStatus']).toBe('active');
    }
    expect(officers.some((o) => (o['summary'] as Summary).equipment.some((e) => e.category === 'body_camera'))).toBe(true);
    const assistants = await listAll('assistants', headers);
    expect(assistants.some((a) => (a['summary'] as Summary).equipment.length > 0)).toBe(true);
  });
});

describe('seed: failures', () => {
  it('stops after the batch holding the first failed operation and reports it, skipping later collections', async () => {
    const { authorization } = await bearer({ region: '410000', scope: SEED_SCOPE });
    const unit = { op: 'upsert' as const, collection: 'org-units', regionCode: '411000', externalId: 'XC-ORG-001', data: { name: '许昌市城市管理局', level: 'city' } };
    const good = dataset.officers[0]!;
    const officer = (externalId: string, gender: string) => ({
      ...good,
      regionCode: '411000',
      externalId,
      data: { ...good.data, orgUnitExternalId: 'XC-ORG-001', gender, badgeNumber: undefined },
    });
    const wrongGender = good.data['gender'] === '1' ? '2' : '1';
    const summary = await writeDataset(
      ctx.app,
      { orgUnits: [unit], officers: [officer('XC-OFF-1', wrongGender)], credentials: dataset.credentials.slice(0, 1), links: [] },
      { authorization },
    );
    expect(summary.counts['org-units']).toMatchObject({ created: 1, failed: 0 });
    expect(summary.counts['officers']).toMatchObject({ created: 0, failed: 1 });
    expect(summary.skipped).toEqual(SEED_PHASES.slice(2));
    expect(summary.failures[0]).toMatchObject({
      collection: 'officers',
      regionCode: '411000',
      externalId: 'XC-OFF-1',
      status: 422,
      problem: { code: 'rule_violation', errors: [{ path: '/operations/0/data/gender' }] },
    });
  });
});
