import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { bearer, useTestApp } from '../support/context.js';
import { auditEntries, problemOf, type BatchResultJson, type Headers } from '../support/fixtures.js';
import { anIdentity, anOfficer, anOrgUnit, put, type Identity } from '../support/people-fixtures.js';

// The two ways an ID number could still be tested without pii:read (docs/decisions.md, "Throttle"): an atomic
// batch that tells, through failedIndex, about more candidates than the client's budget; and writes that commit
// (201 = the number was free). Every answer about a number costs budget, and no answer says more than the
// budget allows: past it, the answer is 429 whatever the candidates.

const REFUSALS = 8;
const NEW_IDENTITIES = 8;
const ctx = useTestApp({ IDENTITY_PROBE_BUDGET_PER_MINUTE: REFUSALS, IDENTITY_NEW_BUDGET_PER_HOUR: NEW_IDENTITIES } as Partial<Config>);

const MASKED = 'records:read records:write';

/** A victim held by an active officer of another region, and a unit the attacker may write officers into. */
async function setting(region: string, key: string) {
  const home = await put(ctx.app, 'org-units', '410105', `${key}-HOME`, anOrgUnit());
  const victim = anIdentity();
  await put(ctx.app, 'officers', '410105', `${key}-VICTIM`, anOfficer({ orgUnitId: home.id, ...victim }));
  const unit = await put(ctx.app, 'org-units', region, `${key}-OU`, anOrgUnit());
  return { unit, victim };
}

/** Candidate identities, all free but the victim's at `at` (or nowhere). */
function candidates(count: number, victim: Identity, at: number | undefined): Identity[] {
  return Array.from({ length: count }, (_, i) => (i === at ? victim : anIdentity()));
}

function upserts(region: string, key: string, orgUnitId: string, identities: Identity[]) {
  return identities.map((identity, i) => ({
    op: 'upsert' as const,
    collection: 'officers',
    regionCode: region,
    externalId: `${key}-${i}`,
    data: { ...anOfficer({ orgUnitId }), ...identity },
  }));
}

async function batch(headers: Headers, atomic: boolean, operations: unknown[]) {
  return ctx.app.inject({ method: 'POST', url: '/v1/batch', headers, payload: { atomic, operations } });
}

describe('the first atomic batch', () => {
  it('answers 429 instead of naming a failure past the budget, whether or not a candidate is held', async () => {
    const region = '410311';
    const { unit, victim } = await setting(region, 'FB');
    const failing = { op: 'upsert', collection: 'officers', regionCode: region, externalId: 'FB-BAD', data: {} };
    const answers = [];
    for (const [client, at] of [['first-batch-held', 20], ['first-batch-free', undefined]] as const) {
      const prober = await bearer({ region, scope: MASKED, sub: client, clientId: client });
      const res = await batch(prober, true, [...upserts(region, `FB-${client}`, unit.id, candidates(30, victim, at)), failing]);
      // Before: 422 batch_rolled_back with failedIndex 20 when the victim's number was among the candidates, 30 when not.
      expect(res.statusCode, res.body).toBe(429);
      const problem = problemOf(res);
      expect(problem.code).toBe('too_many_identity_probes');
      expect(problem['failedIndex']).toBeUndefined();
      // Retry-After and the detail's seconds may differ by the time between the two requests.
      answers.push({ title: problem.title, detail: problem.detail?.replace(/\d+ s\b/, 'N s') });
    }
    expect(answers[0]).toEqual(answers[1]);

    // Within the budget the failure is named: a client may learn as much as its budget allows, no more.
    const within = await bearer({ region, scope: MASKED, sub: 'first-batch-within', clientId: 'first-batch-within' });
    const res = await batch(within, true, [...upserts(region, 'FB-W', unit.id, candidates(30, victim, 3)), failing]);
    expect(problemOf(res)).toMatchObject({ code: 'batch_rolled_back', failedIndex: 3 });

    const auditor = await bearer({ region, scope: 'audit:read' });
    const throttled = await auditEntries(ctx.app, auditor, { op: 'identity_throttled' });
    expect(throttled.map((r) => r.clientId).sort()).toEqual(['first-batch-free', 'first-batch-held']);
  });
});

describe('a non-atomic batch', () => {
  it('answers 429 in the place of every operation carrying an ID number past the budget, without writing it', async () => {
    const region = '410312';
    const { unit, victim } = await setting(region, 'NA');
    const prober = await bearer({ region, scope: MASKED, sub: 'each-op', clientId: 'each-op' });
    const res = await batch(prober, false, upserts(region, 'NA', unit.id, candidates(30, victim, 20)));
    expect(res.statusCode).toBe(200);
    const results = res.json<{ results: BatchResultJson[] }>().results;
    // Before: 201 for every free number, 422 at index 20 (the victim's).
    expect(results.map((r) => r.status)).toEqual([...Array<number>(NEW_IDENTITIES).fill(201), ...Array<number>(30 - NEW_IDENTITIES).fill(429)]);
    expect(results[20]!.error?.code).toBe('too_many_identity_probes');
    const skipped = await ctx.app.inject({ method: 'GET', url: `/v1/officers/external/${region}/NA-${NEW_IDENTITIES}`, headers: prober });
    expect(skipped.statusCode).toBe(404);
    const auditor = await bearer({ region, scope: 'audit:read' });
    expect(await auditEntries(ctx.app, auditor, { op: 'identity_throttled', sub: 'each-op' })).toHaveLength(1);
  });

  it('spends the refusal budget on refused operations and then answers 429 for the rest', async () => {
    const region = '410313';
    const { unit, victim } = await setting(region, 'NR');
    const prober = await bearer({ region, scope: MASKED, sub: 'refused', clientId: 'refused' });
    // Every operation reuses the victim's number: each is an identity conflict.
    const res = await batch(prober, false, upserts(region, 'NR', unit.id, Array.from({ length: 12 }, () => victim)));
    const statuses = res.json<{ results: BatchResultJson[] }>().results.map((r) => r.status);
    expect(statuses).toEqual([...Array<number>(REFUSALS).fill(422), ...Array<number>(12 - REFUSALS).fill(429)]);
  });
});

describe('writes that commit', () => {
  it('spend the new-identity budget: create, see 201, delete is no free oracle', async () => {
    const region = '410314';
    const { unit, victim } = await setting(region, 'CD');
    const prober = await bearer({ region, scope: MASKED, sub: 'create-delete', clientId: 'create-delete' });
    const statuses: number[] = [];
    for (const identity of candidates(16, victim, 12)) {
      const res = await ctx.app.inject({
        method: 'PUT',
        url: `/v1/officers/external/${region}/CD-PROBE`,
        headers: prober,
        payload: { ...anOfficer({ orgUnitId: unit.id }), ...identity },
      });
      statuses.push(res.statusCode);
      if (res.statusCode === 201) {
        expect((await ctx.app.inject({ method: 'DELETE', url: `/v1/officers/external/${region}/CD-PROBE`, headers: prober })).statusCode).toBe(204);
      }
    }
    // Before: 201 twelve times, then 422 at the victim's number.
    expect(statuses).toEqual([...Array<number>(NEW_IDENTITIES).fill(201), ...Array<number>(16 - NEW_IDENTITIES).fill(429)]);
  });

  it('spend it when they change a stored number too', async () => {
    const region = '410315';
    const { unit, victim } = await setting(region, 'RN');
    const prober = await bearer({ region, scope: MASKED, sub: 'renumber', clientId: 'renumber' });
    const body = anOfficer({ orgUnitId: unit.id });
    const statuses: number[] = [];
    for (const identity of [body, ...candidates(12, victim, 10)]) {
      const res = await ctx.app.inject({ method: 'PUT', url: `/v1/officers/external/${region}/RN-1`, headers: prober, payload: { ...body, ...identity } });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([201, ...Array<number>(NEW_IDENTITIES - 1).fill(200), ...Array<number>(13 - NEW_IDENTITIES).fill(429)]);
  });

  it('leave a nightly re-sync of known people alone, and identities:bulk allows an initial load', async () => {
    const region = '410316';
    const unit = await put(ctx.app, 'org-units', region, 'SY-OU', anOrgUnit());
    const people = Array.from({ length: 40 }, (_, i) => ({ key: `SY-${i}`, body: anOfficer({ orgUnitId: unit.id }) }));
    const operations = (rank: string) =>
      people.map(({ key, body }) => ({ op: 'upsert', collection: 'officers', regionCode: region, externalId: key, data: { ...body, rank } }));

    // The initial load: 40 new people, five times the budget, in one atomic batch.
    const loader = await bearer({ region, scope: `${MASKED} identities:bulk`, sub: 'loader', clientId: 'city-platform-load' });
    const load = await batch(loader, true, operations('一级行政执法员'));
    expect(load.statusCode, load.body).toBe(200);

    // Every night, without the bulk scope: unchanged, then updated with the same numbers — nothing is spent.
    const platform = await bearer({ region, scope: MASKED, sub: 'platform', clientId: 'city-platform' });
    for (const [atomic, rank] of [[true, '一级行政执法员'], [false, '二级行政执法员'], [true, '三级行政执法员'], [false, '三级行政执法员']] as const) {
      const res = await batch(platform, atomic, operations(rank));
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json<{ results: BatchResultJson[] }>().results.every((r) => r.status === 200)).toBe(true);
    }
    const single = await ctx.app.inject({ method: 'PUT', url: `/v1/officers/external/${region}/SY-0`, headers: platform, payload: { ...people[0]!.body, rank: '四级行政执法员' } });
    expect(single.statusCode).toBe(200);

    // The whole budget is still there for new hires.
    const hires = operations('一级行政执法员')
      .slice(0, NEW_IDENTITIES + 1)
      .map((op, i) => ({ ...op, externalId: `SY-NEW-${i}`, data: { ...anOfficer({ orgUnitId: unit.id }) } }));
    const hired = await batch(platform, false, hires);
    expect(hired.json<{ results: BatchResultJson[] }>().results.map((r) => r.status)).toEqual([...Array<number>(NEW_IDENTITIES).fill(201), 429]);
  });
});

describe("guessing a stored person's masked fields", () => {
  // The attack found on a running service: an unchanged write (the guess equals the stored value) answered
  // 200 with the same version, free and even past the budget; a wrong guess answered 429. Every guess of a
  // masked field of a stored record now costs budget, and past it the right guess gets 429 as well.
  async function target(region: string, key: string) {
    const unit = await put(ctx.app, 'org-units', region, `${key}-OU`, anOrgUnit());
    const body = anOfficer({ orgUnitId: unit.id, phone: '17780608413' });
    const stored = await put(ctx.app, 'officers', region, key, body);
    return { unit, body, stored };
  }
  const probe = (region: string, key: string, data: object) => ({ op: 'upsert', collection: 'officers', regionCode: region, externalId: key, data });

  it('the right ID number gets 429 like a wrong one once the budget is spent', async () => {
    const region = '410316';
    const { body } = await target(region, 'GUESS-ID');
    const prober = await bearer({ region, scope: MASKED, sub: 'guess-id', clientId: 'guess-id' });
    const statuses: number[] = [];
    for (let i = 0; i < NEW_IDENTITIES + 2; i++) {
      const wrong = anIdentity({ gender: body.gender as '1' | '2' });
      const res = await batch(prober, true, [probe(region, 'GUESS-ID', { ...body, ...wrong }), { op: 'delete', collection: 'org-units', regionCode: region, externalId: 'NO-SUCH' }]);
      statuses.push(res.statusCode);
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    // Before: 422 batch_rolled_back naming the second operation (the first was "unchanged") — a confirmed guess.
    const right = await batch(prober, true, [probe(region, 'GUESS-ID', body), { op: 'delete', collection: 'org-units', regionCode: region, externalId: 'NO-SUCH' }]);
    expect(right.statusCode, right.body).toBe(429);
    // A caller who may see personal data is not throttled for a plain re-sync.
    const reader = await bearer({ region, scope: 'records:read records:write pii:read', sub: 'guess-id', clientId: 'guess-id' });
    const resync = await ctx.app.inject({ method: 'PUT', url: `/v1/officers/external/${region}/GUESS-ID`, headers: reader, payload: body });
    expect(resync.statusCode).toBe(200);
  });

  it('each wrong phone guess spends budget, and past it the right guess is refused too', async () => {
    const region = '410317';
    const { body, stored } = await target(region, 'GUESS-PHONE');
    const prober = await bearer({ region, scope: MASKED, sub: 'guess-phone', clientId: 'guess-phone' });
    const guess = (phone: string) =>
      batch(prober, true, [
        probe(region, 'GUESS-PHONE', { ...body, phone }),
        { ...probe(region, 'GUESS-PHONE', { ...body, phone }), ifMatch: stored.version },
        { op: 'delete', collection: 'org-units', regionCode: region, externalId: 'NO-SUCH' },
      ]);
    const statuses: number[] = [];
    for (let i = 0; i < NEW_IDENTITIES + 2; i++) statuses.push((await guess(`1778060${String(1000 + i)}`)).statusCode);
    // Before: 422 with failedIndex 1 for every wrong guess, without limit.
    expect(statuses.slice(0, NEW_IDENTITIES).every((s) => s === 422)).toBe(true);
    expect(statuses.slice(NEW_IDENTITIES)).toEqual([429, 429]);
    // Before: failedIndex 2 — the phone confirmed.
    expect((await guess('17780608413')).statusCode).toBe(429);
  });
});
