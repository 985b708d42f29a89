/**
 * Statistics against a small hand-computed fixture, figure by figure: quarter and year boundaries, the
 * 90-day deadline, heaviest-penalty counting, rates, zero rows, CSV, and region scoping.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, useTestApp } from '../support/context.js';
import { aCase, seedHandlers } from '../support/case-fixtures.js';
import { problemOf } from '../support/fixtures.js';
import { anOfficer, put, today } from '../support/people-fixtures.js';

const ctx = useTestApp();
/** A year wholly in the past, so every fixture date is before today. */
const Y = Number(today().slice(0, 4)) - 1;
const d = (mmdd: string) => `${Y}-${mmdd}`;

type Row = { regionCode: string; regionName: string | null; cases: Record<string, unknown>; people: Record<string, unknown> };
type Report = { regionCode: string; period: Record<string, unknown>; total: Row; regions: Row[] };

async function report(region: string, query: string, extra: Record<string, string> = {}) {
  return ctx.app.inject({ method: 'GET', url: `/v1/stats/${query}`, headers: { ...(await bearer({ region, scope: 'stats:read' })), ...extra } });
}

async function json(region: string, query: string): Promise<Report> {
  const res = await report(region, query);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Report>();
}

beforeAll(async () => {
  // 开封 county 410202 and 洛阳 county 410302, two credentialed handlers each (credentials since 2020).
  const credential = { issuedOn: '2020-01-01' };
  const kf = await seedHandlers(ctx.app, '410202', 'K', credential);
  const ly = await seedHandlers(ctx.app, '410302', 'L', credential);
  // A contract officer without a credential: active, not a holder.
  await put(ctx.app, 'officers', '410202', 'K3', anOfficer({ orgUnitId: kf.unit.id, staffingType: 'contract' }));
  const kfBase = { orgUnitId: kf.unit.id, handlingOfficerIds: kf.handlers.map((h) => h.id) };
  const lyBase = { orgUnitId: ly.unit.id, handlingOfficerIds: ly.handlers.map((h) => h.id) };
  const kfCase = (key: string, body: object) => put(ctx.app, 'cases', '410202', key, aCase({ ...kfBase, ...body }));
  // c1: filed on the last day of Q1, decided in Q2 within 10 days; fine + warning counts once, under fine; executed.
  await kfCase('c1', { filedOn: d('03-31'), stage: 'executed', decidedOn: d('04-10'), penalties: ['warning', 'fine'], fineFen: 100_000, executedOn: d('04-20'), category: 'parking' });
  // c2: filed on the first day of Q2, major, through legal review, decided on its deadline day (on time);
  // confiscated property without an amount: not in 罚没金额; heaviest confiscation_of_property.
  await kfCase('c2', { filedOn: d('04-01'), stage: 'legal_review', major: true, category: 'construction' });
  await kfCase('c2', { filedOn: d('04-01'), stage: 'decided', major: true, category: 'construction', decidedOn: d('06-30'), penalties: ['fine', 'confiscation_of_property'], fineFen: 50_000 });
  // c3: filed in Q1, still investigating: became overdue on 04-06 (Q2).
  await kfCase('c3', { filedOn: d('01-05'), stage: 'investigating', category: 'parking' });
  // c4: filed in Q1, decided late in Q2 (deadline 05-02): overdue in Q2 and not on time.
  await kfCase('c4', { filedOn: d('02-01'), stage: 'decided', decidedOn: d('06-15'), penalties: ['warning'], category: 'dust' });
  // c5: filed in Q2, transferred: never overdue.
  await kfCase('c5', { filedOn: d('05-10'), stage: 'transferred', transferredTo: '公安机关', category: 'other' });
  // c6: filed on the last day of Q2: overdue from 09-29 (Q3).
  await kfCase('c6', { filedOn: d('06-30'), category: 'city_appearance' });
  // c7: filed on the first day of Q3: overdue from 09-30 (Q3).
  await kfCase('c7', { filedOn: d('07-01'), category: 'city_appearance' });
  // d1 in 洛阳: confiscated gains with an amount + licence revoked: heaviest license_revocation; closed in Q2.
  await put(ctx.app, 'cases', '410302', 'd1', aCase({
    ...lyBase, filedOn: d('04-15'), stage: 'closed', decidedOn: d('05-01'), penalties: ['confiscation_of_gains', 'license_revocation'],
    confiscationFen: 200_000, executedOn: d('05-10'), closedOn: d('06-01'), category: 'muck_transport',
  }));
});

const zeroCases = { filed: 0, decided: 0, closed: 0, overdue: 0, onTimeRate: null, legalReviewRate: null, executionRate: null, penaltyAmountFen: 0 };

describe('quarterly statistics, figure by figure', () => {
  it('开封 county 410202 in Q2', async () => {
    const r = await json('410202', `quarterly?year=${Y}&quarter=2`);
    expect(r.period).toEqual({ kind: 'quarter', year: Y, quarter: 2, from: d('04-01'), to: d('06-30'), asOf: d('06-30') });
    expect(r.regions).toEqual([]);
    expect(r.total.cases).toEqual({
      filed: 3, // c2, c5, c6 (c1 was filed on 03-31, Q1)
      decided: 3, // c1, c2, c4
      closed: 0,
      overdue: 2, // c3 (from 04-06), c4 (from 05-03)
      decidedOnTime: 2, // c1, c2 (on its deadline day)
      onTimeRate: 0.6667,
      legalReviewed: 1, // c2
      legalReviewRate: 0.3333,
      transferred: 1, // c5
      fineFen: 150_000,
      confiscationFen: 0, // c2's property has no amount
      penaltyAmountFen: 150_000,
      executed: 1, // c1
      executionRate: 0.3333,
      byCategory: { city_appearance: 1, landscaping: 0, municipal_utilities: 0, construction: 1, dust: 0, muck_transport: 0, parking: 0, catering_fumes: 0, other: 1 },
      byHeaviestPenalty: {
        practice_ban: 0, closure_order: 0, suspension_order: 0, business_restriction: 0, license_revocation: 0, qualification_downgrade: 0,
        license_suspension: 0, confiscation_of_property: 1, confiscation_of_gains: 0, fine: 1, public_criticism: 0, warning: 1, other: 0,
      },
    });
    expect(r.total.people).toEqual({
      activeOfficers: 3,
      byStaffingType: { civil_servant: 2, civil_servant_managed: 0, public_institution: 0, contract: 1 },
      credentialHolders: 2,
      credentialHoldingRate: 0.6667,
    });
  });

  it('quarter boundaries: Q1 holds c1 (filed 03-31), c3 and c4, Q3 the two that became overdue in September', async () => {
    const q1 = await json('410202', `quarterly?year=${Y}&quarter=1`);
    expect(q1.total.cases).toMatchObject({ filed: 3, decided: 0, overdue: 0, byCategory: expect.objectContaining({ parking: 2, dust: 1 }) });
    const q3 = await json('410202', `quarterly?year=${Y}&quarter=3`);
    expect(q3.total.cases).toMatchObject({ filed: 1, decided: 0, overdue: 2, onTimeRate: null });
  });

  it('the province sees each city (zeros included) and their sum; a city sees its counties', async () => {
    const p = await json('410000', `quarterly?year=${Y}&quarter=2`);
    const byCode = new Map(p.regions.map((r) => [r.regionCode, r]));
    expect(byCode.get('410200')!.cases).toMatchObject({ filed: 3, decided: 3, overdue: 2, penaltyAmountFen: 150_000 });
    expect(byCode.get('410300')!.cases).toMatchObject({
      filed: 1, decided: 1, closed: 1, overdue: 0, onTimeRate: 1, legalReviewRate: 0, confiscationFen: 200_000, penaltyAmountFen: 200_000, executionRate: 1,
      byHeaviestPenalty: expect.objectContaining({ license_revocation: 1, confiscation_of_gains: 0 }),
    });
    expect(byCode.get('410100')).toMatchObject({ regionName: '郑州市', cases: expect.objectContaining(zeroCases), people: expect.objectContaining({ activeOfficers: 0, credentialHoldingRate: null }) });
    expect(byCode.get('411700')!.cases).toMatchObject(zeroCases);
    expect(p.total.cases).toMatchObject({ filed: 4, decided: 4, closed: 1, overdue: 2, decidedOnTime: 3, onTimeRate: 0.75, legalReviewRate: 0.25, fineFen: 150_000, confiscationFen: 200_000, penaltyAmountFen: 350_000, executed: 2, executionRate: 0.5 });
    // The total is the sum of the rows.
    for (const key of ['filed', 'decided', 'closed', 'overdue', 'transferred', 'penaltyAmountFen'] as const) {
      expect(p.total.cases[key]).toBe(p.regions.reduce((sum, r) => sum + Number(r.cases[key]), 0));
    }
    expect(p.total.people['activeOfficers']).toBe(5);

    const city = await json('410200', `quarterly?year=${Y}&quarter=2`);
    expect(city.regions.map((r) => r.regionCode)).toEqual(['410202']);
    expect(city.total.cases).toEqual(city.regions[0]!.cases);
  });

  it("a city never sees another city's numbers", async () => {
    const ly = await json('410300', `quarterly?year=${Y}&quarter=2`);
    expect(ly.regions.map((r) => r.regionCode)).toEqual(['410302']);
    expect(ly.total.cases).toMatchObject({ filed: 1, fineFen: 0 });
    const other = await report('410300', `quarterly?year=${Y}&quarter=2&regionCode=410200`);
    expect(other.statusCode).toBe(403);
    expect(problemOf(other).code).toBe('forbidden_region');
    const narrowed = await json('410000', `quarterly?year=${Y}&quarter=2&regionCode=410300`);
    expect(narrowed.total.cases).toEqual(ly.total.cases);
  });

  it('needs stats:read and a valid quarter', async () => {
    const noScope = await ctx.app.inject({ method: 'GET', url: `/v1/stats/quarterly?year=${Y}&quarter=2`, headers: await bearer({ region: '410000', scope: 'records:read' }) });
    expect(noScope.statusCode).toBe(403);
    expect((await report('410000', `quarterly?year=${Y}&quarter=5`)).statusCode).toBe(400);
    expect((await report('410000', `quarterly?year=${Y}`)).statusCode).toBe(400);
  });
});

describe('annual statistics', () => {
  it('the year of 开封 county: every case filed, four became overdue', async () => {
    const r = await json('410202', `annual?year=${Y}`);
    expect(r.period).toMatchObject({ kind: 'year', from: d('01-01'), to: d('12-31') });
    expect(r.total.cases).toMatchObject({ filed: 7, decided: 3, overdue: 4, transferred: 1, penaltyAmountFen: 150_000 });
  });

  it('a year with nothing shows zeros', async () => {
    const r = await json('410202', `annual?year=${Y - 5}`);
    expect(r.total.cases).toMatchObject(zeroCases);
  });
});

describe('CSV', () => {
  it('answers CSV with a BOM and Chinese labels beside the codes; it parses back to the JSON figures', async () => {
    const res = await report('410000', `quarterly?year=${Y}&quarter=2`, { accept: 'text/csv' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const lines = res.body.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    const header = lines[0]!.split(',');
    expect(header.slice(0, 4)).toEqual(['regionCode 行政区划代码', 'regionName 名称', 'period 统计期', 'cases.filed 立案数']);
    expect(header).toContain('cases.penaltyAmountFen 罚没金额（分）');
    expect(header).toContain('people.credentialHoldingRate 持证率');
    const rows = lines.slice(1).map((line) => Object.fromEntries(line.split(',').map((cell, i) => [header[i]!.split(' ')[0]!, cell])));
    const total = rows[0]!;
    expect(total).toMatchObject({ regionCode: '410000', regionName: '河南省', period: `${Y}Q2`, 'cases.filed': '4', 'cases.onTimeRate': '0.75', 'cases.penaltyAmountFen': '350000', 'cases.byHeaviestPenalty.license_revocation': '1' });
    const zhengzhou = rows.find((r) => r['regionCode'] === '410100')!;
    expect(zhengzhou).toMatchObject({ 'cases.filed': '0', 'cases.onTimeRate': '' });
    const asJson = await json('410000', `quarterly?year=${Y}&quarter=2`);
    expect(rows).toHaveLength(asJson.regions.length + 1);
  });
});
