/**
 * Statistics against a small hand-computed fixture, figure by figure: quarter and year boundaries, the
 * 90-day deadline, heaviest-penalty counting, rates, flags, the equipment quotas, the training windows,
 * zero rows, CSV, and region scoping.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, useTestApp } from '../support/context.js';
import { aCase, seedHandlers } from '../support/case-fixtures.js';
import { problemOf } from '../support/fixtures.js';
import { anAssistant, anEquipment, anOfficer, put, seedOfficer, today, type EquipmentBody } from '../support/people-fixtures.js';

const ctx = useTestApp();
/** A year wholly in the past, so every fixture date is before today. */
const Y = Number(today().slice(0, 4)) - 1;
const d = (mmdd: string) => `${Y}-${mmdd}`;

type Section = Record<string, unknown>;
type Row = { regionCode: string; regionName: string | null; cases: Section; people: Section; equipment: Section; training: Section };
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
  const k3 = await put(ctx.app, 'officers', '410202', 'K3', anOfficer({ orgUnitId: kf.unit.id, staffingType: 'contract' }));
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

  // Assistants. 开封: two in service (active, probation) and one dismissed under 3 active officers: ratio 2/3.
  // 洛阳: three active under 2 officers: ratio 1.5, its unit over the ratio.
  const assistant = (region: string, key: string, unitId: string, supervisorId: string, status: 'active' | 'probation' | 'dismissed') =>
    put(ctx.app, 'assistants', region, key, anAssistant({ orgUnitId: unitId, supervisingOfficerId: supervisorId, status }));
  await assistant('410202', 'KA1', kf.unit.id, kf.handlers[0]!.id, 'active');
  await assistant('410202', 'KA2', kf.unit.id, kf.handlers[0]!.id, 'probation');
  await assistant('410202', 'KA3', kf.unit.id, kf.handlers[0]!.id, 'dismissed');
  for (const key of ['LA1', 'LA2', 'LA3']) await assistant('410302', key, ly.unit.id, ly.handlers[0]!.id, 'active');

  // Post statuses. 开封 on 06-30 (Q2): K1 on duty (off duty only from 07-15), K2 off duty since 06-01 (on duty in
  // Q1), K3 in training. 洛阳: L1 on duty from 04-01.
  const status = (region: string, key: string, officerId: string, value: string, effectiveFrom: string) =>
    put(ctx.app, 'post-statuses', region, key, { officerId, status: value, effectiveFrom });
  await status('410202', 'K1-P1', kf.handlers[0]!.id, 'on_duty', d('03-01'));
  await status('410202', 'K1-P2', kf.handlers[0]!.id, 'off_duty', d('07-15'));
  await status('410202', 'K2-P1', kf.handlers[1]!.id, 'on_duty', d('01-10'));
  await status('410202', 'K2-P2', kf.handlers[1]!.id, 'off_duty', d('06-01'));
  await status('410202', 'K3-P1', k3.id, 'training', d('02-01'));
  await status('410302', 'L1-P1', ly.handlers[0]!.id, 'on_duty', d('04-01'));

  // Equipment of 开封's unit: 2 cameras in service (+1 in maintenance), 1 terminal, 6 uniforms, 1 other.
  // 洛阳's unit holds nothing.
  let n = 0;
  const item = (category: EquipmentBody['category'], status: EquipmentBody['status'] = 'in_service') =>
    put(ctx.app, 'equipment', '410202', `KE${++n}`, anEquipment({ orgUnitId: kf.unit.id, category, status }));
  await item('body_camera');
  await item('body_camera');
  await item('body_camera', 'maintenance');
  await item('handheld_terminal');
  for (let i = 0; i < 6; i++) await item('uniform');
  await item('other');

  // Training, in 平顶山 county 410402 (its own unit, four active officers without credentials). The 3-year window
  // of Q2 is (Y-3-06-30, Y-06-30]; of Q3 (Y-3-09-30, Y-09-30].
  const pds = await seedOfficer(ctx.app, '410402', 'P1', { officer: { cadreLevel: 'division_or_above' }, credential: false });
  const p1 = pds.officer;
  const p2 = await put(ctx.app, 'officers', '410402', 'P2', anOfficer({ orgUnitId: pds.unit.id, cadreLevel: 'division_or_above' }));
  const p3 = await put(ctx.app, 'officers', '410402', 'P3', anOfficer({ orgUnitId: pds.unit.id, cadreLevel: 'section' }));
  const p4 = await put(ctx.app, 'officers', '410402', 'P4', anOfficer({ orgUnitId: pds.unit.id, cadreLevel: 'none' }));
  const training = (region: string, key: string, personId: string, kind: string, endedOn: string, passed?: boolean) =>
    put(ctx.app, 'trainings', region, key, {
      personType: 'officer', personId, kind, title: `${kind} 培训`, organizer: '河南省住房和城乡建设厅', startedOn: endedOn, endedOn, hours: 8,
      ...(passed === undefined ? {} : { passed }),
    });
  // P1: provincial training recorded by the province, ended the first day inside the Q2 window (outside Q3's).
  await training('410000', 'P1-PROV', p1.id, 'provincial', `${Y - 3}-07-01`, true);
  await training('410402', 'P1-INIT', p1.id, 'initial', '2015-05-01', true);
  // P2: provincial ended on the window's excluded first day; a later one not passed; no initial training.
  await training('410402', 'P2-PROV', p2.id, 'provincial', `${Y - 3}-06-30`, true);
  await training('410402', 'P2-PROV2', p2.id, 'provincial', `${Y - 1}-05-01`, false);
  // P3: initial training not assessed yet (passed absent). P4: initial training passed after Q2 (in Q3).
  await training('410402', 'P3-INIT', p3.id, 'initial', `${Y - 1}-05-01`);
  await training('410402', 'P4-INIT', p4.id, 'initial', d('07-10'), true);
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
      assistants: 2, // KA1 active, KA2 probation (KA3 dismissed)
      assistantRatio: 0.6667,
      assistantRatioExceeded: false,
      orgUnitsOverAssistantRatio: 0,
    });
    // Default quotas for the one unit (3 active officers, 1 on duty on 06-30: K1).
    const categories = (values: number[]) =>
      Object.fromEntries(['vehicle', 'body_camera', 'handheld_terminal', 'radio', 'uniform', 'protective', 'other'].map((c, i) => [c, values[i]]));
    expect(r.total.equipment).toEqual({
      onDutyOfficers: 1,
      orgUnits: 1,
      orgUnitsBelowQuota: 1,
      inService: categories([0, 2, 1, 0, 6, 0, 1]), // the camera in maintenance is not counted
      required: categories([1, 1, 2, 1, 6, 10, 0]), // vehicle ⌈3/8⌉, camera 1×1 on duty, terminal ⌈3/2⌉, radio 1×1, uniform 2×3, protective 10, other no quota
      shortfall: categories([1, 0, 1, 1, 0, 10, 0]),
      bodyCamerasPerOnDutyOfficer: 2,
    });
    expect(r.total.training).toEqual({ divisionCadres: 0, divisionCadresWithoutProvincialTraining: 0, officersWithoutInitialTraining: 3 });
  });

  it('people, equipment and training of a second city: the assistant ratio over 1, a unit holding nothing', async () => {
    const r = await json('410302', `quarterly?year=${Y}&quarter=2`);
    expect(r.total.people).toMatchObject({ activeOfficers: 2, assistants: 3, assistantRatio: 1.5, assistantRatioExceeded: true, orgUnitsOverAssistantRatio: 1 });
    expect(r.total.equipment).toMatchObject({
      onDutyOfficers: 1, orgUnits: 1, orgUnitsBelowQuota: 1, bodyCamerasPerOnDutyOfficer: 0,
      required: { vehicle: 1, body_camera: 1, handheld_terminal: 1, radio: 1, uniform: 4, protective: 10, other: 0 },
      shortfall: { vehicle: 1, body_camera: 1, handheld_terminal: 1, radio: 1, uniform: 4, protective: 10, other: 0 },
    });
  });

  it('training: the 3-year window of provincial training and the initial training, at the quarter ends', async () => {
    const q2 = await json('410402', `quarterly?year=${Y}&quarter=2`);
    // P1 trained inside the window (recorded by the province); P2's passed one ended on the excluded day, its later one failed.
    // Without initial training: P2 (none), P3 (not assessed), P4 (ended after 06-30).
    expect(q2.total.training).toEqual({ divisionCadres: 2, divisionCadresWithoutProvincialTraining: 1, officersWithoutInitialTraining: 3 });
    const q3 = await json('410402', `quarterly?year=${Y}&quarter=3`);
    expect(q3.total.training).toEqual({ divisionCadres: 2, divisionCadresWithoutProvincialTraining: 2, officersWithoutInitialTraining: 2 });
    // No one on duty, four officers: per-officer quotas only.
    expect(q2.total.equipment).toMatchObject({ onDutyOfficers: 0, bodyCamerasPerOnDutyOfficer: null, required: expect.objectContaining({ body_camera: 0, handheld_terminal: 2, uniform: 8 }) });
  });

  it('stock figures are taken on the period end: post statuses effective later do not count yet', async () => {
    const q1 = await json('410202', `quarterly?year=${Y}&quarter=1`);
    expect(q1.total.equipment).toMatchObject({ onDutyOfficers: 2, bodyCamerasPerOnDutyOfficer: 1, required: expect.objectContaining({ body_camera: 2, radio: 2 }) });
    const q3 = await json('410202', `quarterly?year=${Y}&quarter=3`);
    expect(q3.total.equipment).toMatchObject({ onDutyOfficers: 0, bodyCamerasPerOnDutyOfficer: null, shortfall: expect.objectContaining({ body_camera: 0, radio: 0 }) });
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
    // The total is the sum of the rows, every count of every section.
    const counts = (row: Row) => {
      const out: Record<string, number> = {};
      const walk = (node: unknown, path: string) => {
        if (typeof node === 'number' && Number.isInteger(node) && !/Rate$|Ratio$|PerOnDutyOfficer$/.test(path)) out[path] = node;
        else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, path ? `${path}.${k}` : k);
      };
      walk({ cases: row.cases, people: row.people, equipment: row.equipment, training: row.training }, '');
      return out;
    };
    const total = counts(p.total);
    expect(Object.keys(total).length).toBeGreaterThan(60);
    for (const [key, value] of Object.entries(total)) expect(value, key).toBe(p.regions.reduce((sum, r) => sum + (counts(r)[key] ?? 0), 0));
    expect(p.total.people).toMatchObject({ activeOfficers: 9, assistants: 5, assistantRatio: 0.5556, assistantRatioExceeded: false, orgUnitsOverAssistantRatio: 1 });
    expect(p.total.equipment).toMatchObject({
      onDutyOfficers: 2, orgUnits: 3, orgUnitsBelowQuota: 3, bodyCamerasPerOnDutyOfficer: 1,
      required: { vehicle: 3, body_camera: 2, handheld_terminal: 5, radio: 2, uniform: 18, protective: 30, other: 0 },
      shortfall: { vehicle: 3, body_camera: 1, handheld_terminal: 4, radio: 2, uniform: 12, protective: 30, other: 0 },
    });
    expect(p.total.training).toEqual({ divisionCadres: 2, divisionCadresWithoutProvincialTraining: 1, officersWithoutInitialTraining: 8 });
    expect(byCode.get('410100')).toMatchObject({
      people: { activeOfficers: 0, assistants: 0, assistantRatio: null, assistantRatioExceeded: false, orgUnitsOverAssistantRatio: 0 },
      equipment: expect.objectContaining({ onDutyOfficers: 0, orgUnits: 0, bodyCamerasPerOnDutyOfficer: null, required: expect.objectContaining({ protective: 0 }) }),
      training: { divisionCadres: 0, divisionCadresWithoutProvincialTraining: 0, officersWithoutInitialTraining: 0 },
    });

    const city = await json('410200', `quarterly?year=${Y}&quarter=2`);
    expect(city.regions.map((r) => r.regionCode)).toEqual(['410202']);
    for (const section of ['cases', 'people', 'equipment', 'training'] as const) expect(city.total[section]).toEqual(city.regions[0]![section]);
  });

  it("a city never sees another city's numbers", async () => {
    const ly = await json('410300', `quarterly?year=${Y}&quarter=2`);
    expect(ly.regions.map((r) => r.regionCode)).toEqual(['410302']);
    expect(ly.total.cases).toMatchObject({ filed: 1, fineFen: 0 });
    const other = await report('410300', `quarterly?year=${Y}&quarter=2&regionCode=410200`);
    expect(other.statusCode).toBe(403);
    expect(problemOf(other).code).toBe('forbidden_region');
    expect(ly.total.people).toMatchObject({ activeOfficers: 2, assistants: 3 });
    expect(ly.total.equipment).toMatchObject({ inService: expect.objectContaining({ body_camera: 0, uniform: 0 }), orgUnits: 1 });
    expect(ly.total.training).toMatchObject({ divisionCadres: 0, officersWithoutInitialTraining: 2 });
    const narrowed = await json('410000', `quarterly?year=${Y}&quarter=2&regionCode=410300`);
    for (const section of ['cases', 'people', 'equipment', 'training'] as const) expect(narrowed.total[section]).toEqual(ly.total[section]);
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
  it('follows the Accept header: q=0 refuses CSV, and JSON wins a tie or a higher quality', async () => {
    const type = async (accept: string) =>
      String((await report('410000', `quarterly?year=${Y}&quarter=2`, { accept })).headers['content-type']);
    expect(await type('text/csv;q=0')).toMatch(/^application\/json/);
    expect(await type('*/*')).toMatch(/^application\/json/);
    expect(await type('application/json;q=0.5, text/csv')).toMatch(/^text\/csv/);
    expect(await type('text/csv;q=0.5, application/json')).toMatch(/^application\/json/);
    expect(await type('text/*')).toMatch(/^text\/csv/);
  });

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
    expect(header).toContain('people.assistantRatioExceeded 协管人员超比例');
    expect(header).toContain('equipment.shortfall.body_camera 缺配数·执法记录仪');
    expect(header).toContain('training.divisionCadresWithoutProvincialTraining 三年内未参加省级培训的处级以上干部数');
    const rows = lines.slice(1).map((line) => Object.fromEntries(line.split(',').map((cell, i) => [header[i]!.split(' ')[0]!, cell])));
    const total = rows[0]!;
    expect(total).toMatchObject({ regionCode: '410000', regionName: '河南省', period: `${Y}Q2`, 'cases.filed': '4', 'cases.onTimeRate': '0.75', 'cases.penaltyAmountFen': '350000', 'cases.byHeaviestPenalty.license_revocation': '1' });
    expect(total).toMatchObject({ 'people.assistants': '5', 'people.assistantRatio': '0.5556', 'people.assistantRatioExceeded': 'false', 'equipment.required.uniform': '18', 'equipment.bodyCamerasPerOnDutyOfficer': '1', 'training.officersWithoutInitialTraining': '8' });
    expect(rows.find((r) => r['regionCode'] === '410300')).toMatchObject({ 'people.assistantRatio': '1.5', 'people.assistantRatioExceeded': 'true' });
    const zhengzhou = rows.find((r) => r['regionCode'] === '410100')!;
    expect(zhengzhou).toMatchObject({ 'cases.filed': '0', 'cases.onTimeRate': '', 'people.assistantRatio': '', 'equipment.shortfall.protective': '0' });
    expect(Object.keys(total)).toHaveLength(header.length);
    const asJson = await json('410000', `quarterly?year=${Y}&quarter=2`);
    expect(rows).toHaveLength(asJson.regions.length + 1);
  });
});
