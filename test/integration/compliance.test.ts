/** Compliance lists hold exactly the seeded offenders, scoped to the caller's regions, page by page. */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, useTestApp } from '../support/context.js';
import { aCase, aDecidedCase, seedHandlers } from '../support/case-fixtures.js';
import { aCredential, anAssistant, anEquipment, anOfficer, daysFromToday, put, seedOfficer, type EquipmentBody } from '../support/people-fixtures.js';

const ctx = useTestApp();
type Row = { problem: string; collection: string; id: string; externalId: string; regionCode: string; href: string; facts: Record<string, unknown> };
type Page = { check: string; items: Row[]; nextCursor: string | null };

async function list(region: string, path: string): Promise<Page> {
  const res = await ctx.app.inject({ method: 'GET', url: `/v1/compliance/${path}`, headers: await bearer({ region, scope: 'stats:read' }) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Page>();
}
const keys = (page: Page) => page.items.map((r) => r.externalId).sort();

beforeAll(async () => {
  const a = await seedHandlers(ctx.app, '410402', 'A');
  const base = { orgUnitId: a.unit.id, handlingOfficerIds: a.handlers.map((h) => h.id) };
  await put(ctx.app, 'cases', '410402', 'LATE', aCase({ ...base, filedOn: daysFromToday(-91), stage: 'investigating' }));
  await put(ctx.app, 'cases', '410402', 'LAST-DAY', aCase({ ...base, filedOn: daysFromToday(-90) }));
  await put(ctx.app, 'cases', '410402', 'DECIDED', aDecidedCase({ ...base, filedOn: daysFromToday(-200), decidedOn: daysFromToday(-150) }));
  await put(ctx.app, 'cases', '410402', 'ENDED', aCase({ ...base, filedOn: daysFromToday(-120), stage: 'terminated' }));
  const b = await seedHandlers(ctx.app, '410502', 'B');
  await put(ctx.app, 'cases', '410502', 'OTHER-CITY', aCase({ orgUnitId: b.unit.id, handlingOfficerIds: b.handlers.map((h) => h.id), filedOn: daysFromToday(-300) }));

  // Understaffed: a handler retires after filing; a closed case with the same handlers is history.
  const u = await seedHandlers(ctx.app, '410402', 'U');
  const ubase = { orgUnitId: u.unit.id, handlingOfficerIds: u.handlers.map((h) => h.id) };
  await put(ctx.app, 'cases', '410402', 'SHORT', aCase(ubase));
  await put(ctx.app, 'cases', '410402', 'SHORT-CLOSED', aDecidedCase({ ...ubase, stage: 'closed', executedOn: daysFromToday(-1), closedOn: daysFromToday(-1), penalties: ['warning'], fineFen: null }));
  const stored = await ctx.app.inject({ method: 'GET', url: `/v1/officers/${u.handlers[0]!.id}`, headers: await bearer({ region: '410402' }) });
  const officer = stored.json<Record<string, unknown>>();
  await put(ctx.app, 'officers', '410402', 'U1', { ...anOfficer(), ...pick(officer), employmentStatus: 'retired' });

  // Expiring credentials.
  await seedOfficer(ctx.app, '410402', 'E10', { credential: { expiresOn: daysFromToday(10) } });
  await seedOfficer(ctx.app, '410402', 'E40', { credential: { expiresOn: daysFromToday(40) } });
  const revoked = await seedOfficer(ctx.app, '410402', 'R3', { credential: false });
  await put(ctx.app, 'credentials', '410402', 'R3-C', aCredential({ officerId: revoked.officer.id, expiresOn: daysFromToday(3), status: 'revoked' }));
});

// The lists added with assistants, equipment and trainings use counties of 新乡 (410700) and 焦作 (410800), one
// county per list, each asked for by regionCode so each holds exactly its own offenders.
const ids: Record<string, string> = {};
const units: Record<string, string> = {};

beforeAll(async () => {
  const status = (region: string, key: string, officerId: string, value: string, effectiveFrom: string) =>
    put(ctx.app, 'post-statuses', region, key, { officerId, status: value, effectiveFrom });
  const revoke = (region: string, key: string, officerId: string, credential: object) =>
    put(ctx.app, 'credentials', region, key, aCredential({ officerId, ...credential, status: 'revoked' }));

  // on-duty-without-credential, 410702 (and 410802 for scoping).
  const n1 = await seedOfficer(ctx.app, '410702', 'N1', { credential: { expiresOn: daysFromToday(10) } });
  await status('410702', 'N1-P', n1.officer.id, 'on_duty', daysFromToday(-5)); // credential still valid
  const n2 = await seedOfficer(ctx.app, '410702', 'N2', { credential: { issuedOn: daysFromToday(-400), expiresOn: daysFromToday(-1) } });
  await status('410702', 'N2-P', n2.officer.id, 'on_duty', daysFromToday(-30)); // credential expired yesterday
  const n3 = await seedOfficer(ctx.app, '410702', 'N3');
  await status('410702', 'N3-P', n3.officer.id, 'on_duty', daysFromToday(-20));
  const n3c = n3.credential!;
  await revoke('410702', 'N3-C', n3.officer.id, { credentialNumber: n3c['credentialNumber'], issuedOn: n3c['issuedOn'], expiresOn: n3c['expiresOn'] });
  const n4 = await seedOfficer(ctx.app, '410702', 'N4');
  await status('410702', 'N4-P1', n4.officer.id, 'on_duty', daysFromToday(-20));
  await status('410702', 'N4-P2', n4.officer.id, 'off_duty', daysFromToday(-2)); // no longer on duty
  const n4c = n4.credential!;
  await revoke('410702', 'N4-C', n4.officer.id, { credentialNumber: n4c['credentialNumber'], issuedOn: n4c['issuedOn'], expiresOn: n4c['expiresOn'] });
  const n6 = await seedOfficer(ctx.app, '410802', 'N6');
  await status('410802', 'N6-P', n6.officer.id, 'on_duty', daysFromToday(-20));
  const n6c = n6.credential!;
  await revoke('410802', 'N6-C', n6.officer.id, { credentialNumber: n6c['credentialNumber'], issuedOn: n6c['issuedOn'], expiresOn: n6c['expiresOn'] });

  // training-overdue, 410703. Provincial window: the 3 years up to today (1000 days ago inside, 1200 outside).
  const training = (personId: string, key: string, kind: string, endedOn: string, passed = true) =>
    put(ctx.app, 'trainings', '410703', key, {
      personType: 'officer', personId, kind, title: `${kind} 培训`, organizer: '河南省住房和城乡建设厅', startedOn: endedOn, endedOn, hours: 8, passed,
    });
  const t1 = await seedOfficer(ctx.app, '410703', 'T1', { officer: { cadreLevel: 'division_or_above' }, credential: false });
  const unit = t1.unit.id;
  const officer = async (key: string, body: object) => (ids[key] = (await put(ctx.app, 'officers', '410703', key, anOfficer({ orgUnitId: unit, ...body }))).id);
  ids['T1'] = t1.officer.id;
  await training(ids['T1'], 'T1-PROV', 'provincial', daysFromToday(-1000));
  await training(ids['T1'], 'T1-INIT', 'initial', '2012-05-01');
  await officer('T2', { cadreLevel: 'division_or_above' });
  await training(ids['T2']!, 'T2-PROV', 'provincial', daysFromToday(-1200));
  await training(ids['T2']!, 'T2-INIT', 'initial', '2012-05-01');
  await officer('T3', { cadreLevel: 'division_or_above' }); // nothing at all: two rows
  await officer('T4', { cadreLevel: 'section' });
  await training(ids['T4']!, 'T4-INIT', 'initial', '2012-05-01', false); // failed
  await officer('T5', { cadreLevel: 'section' });
  await training(ids['T5']!, 'T5-INIT', 'initial', '2012-05-01');
  await officer('T6', { cadreLevel: 'division_or_above', employmentStatus: 'retired' }); // not active: not listed

  // assistants-over-quota, 410704: V1 2 assistants / 1 officer; V2 1 (+1 dismissed) / 1; V3 probation + active / 1;
  // V4 a unit with an assistant and no officer.
  const v: Record<string, { unit: string; officer: string }> = {};
  for (const key of ['V1', 'V2', 'V3']) {
    const seeded = await seedOfficer(ctx.app, '410704', key);
    v[key] = { unit: seeded.unit.id, officer: seeded.officer.id };
  }
  const v4 = await put(ctx.app, 'org-units', '410704', 'V4-OU', { name: '卫滨区城市管理局', level: 'county' });
  let a = 0;
  const assistant = (unitId: string, supervisor: string, status: 'active' | 'probation' | 'dismissed') =>
    put(ctx.app, 'assistants', '410704', `VA${++a}`, anAssistant({ orgUnitId: unitId, supervisingOfficerId: supervisor, status }));
  await assistant(v['V1']!.unit, v['V1']!.officer, 'active');
  await assistant(v['V1']!.unit, v['V1']!.officer, 'active');
  await assistant(v['V2']!.unit, v['V2']!.officer, 'active');
  await assistant(v['V2']!.unit, v['V2']!.officer, 'dismissed');
  await assistant(v['V3']!.unit, v['V3']!.officer, 'probation');
  await assistant(v['V3']!.unit, v['V3']!.officer, 'active');
  await assistant(v4.id, v['V2']!.officer, 'active');

  // equipment-below-quota, 410711 (default quotas). W1: 2 active officers, 1 on duty; W2: 1 officer, none on duty;
  // W3: a unit without officers.
  const w1 = await seedOfficer(ctx.app, '410711', 'W1');
  await put(ctx.app, 'officers', '410711', 'W1b', anOfficer({ orgUnitId: w1.unit.id }));
  await status('410711', 'W1-P', w1.officer.id, 'on_duty', daysFromToday(-3));
  const w2 = await seedOfficer(ctx.app, '410711', 'W2', { credential: false });
  await put(ctx.app, 'org-units', '410711', 'W3-OU', { name: '红旗区城市管理局', level: 'county' });
  units['W1'] = w1.unit.id;
  units['W2'] = w2.unit.id;
  let e = 0;
  const items = async (unitId: string, category: EquipmentBody['category'], count: number, status: EquipmentBody['status'] = 'in_service') => {
    for (let i = 0; i < count; i++) await put(ctx.app, 'equipment', '410711', `WE${++e}`, anEquipment({ orgUnitId: unitId, category, status }));
  };
  // W1 needs: camera 1, terminal 1, radio 1, vehicle 1, uniform 4, protective 10 → radio and uniform short.
  await items(w1.unit.id, 'body_camera', 1);
  await items(w1.unit.id, 'body_camera', 1, 'maintenance');
  await items(w1.unit.id, 'handheld_terminal', 1);
  await items(w1.unit.id, 'vehicle', 1);
  await items(w1.unit.id, 'uniform', 3);
  await items(w1.unit.id, 'protective', 10);
  // W2 needs: vehicle 1, terminal 1, uniform 2, protective 10 → protective short.
  await items(w2.unit.id, 'vehicle', 1);
  await items(w2.unit.id, 'handheld_terminal', 1);
  await items(w2.unit.id, 'uniform', 2);
});

function pick(o: Record<string, unknown>) {
  const { name, gender, idCardNumber, birthDate, orgUnitId, phone } = o;
  return { name, gender, idCardNumber, birthDate, orgUnitId, phone };
}

describe('compliance lists', () => {
  it('cases-overdue: exactly the undecided cases past their deadline, each naming the deadline and the record', async () => {
    const page = await list('410400', 'cases-overdue');
    expect(keys(page)).toEqual(['LATE']);
    const [row] = page.items;
    expect(row).toMatchObject({ collection: 'cases', regionCode: '410402', href: `/v1/cases/${row!.id}`, facts: { stage: 'investigating', daysOverdue: 1, decisionDeadline: daysFromToday(-1) } });
    expect(row!.problem).toMatch(/due by .* \(行政处罚法 第60条\), 1 days ago/);
  });

  it('is scoped: a city sees only its own; the province sees both cities, page by page', async () => {
    expect(keys(await list('410500', 'cases-overdue'))).toEqual(['OTHER-CITY']);
    const first = await list('410000', 'cases-overdue?limit=1');
    expect(first.items.map((r) => r.externalId)).toEqual(['OTHER-CITY']);
    expect(first.nextCursor).not.toBeNull();
    const second = await list('410000', `cases-overdue?limit=1&cursor=${first.nextCursor}`);
    expect(second.items.map((r) => r.externalId)).toEqual(['LATE']);
    expect(second.nextCursor).toBeNull();
    const forbidden = await ctx.app.inject({ method: 'GET', url: '/v1/compliance/cases-overdue?regionCode=410500', headers: await bearer({ region: '410400', scope: 'stats:read' }) });
    expect(forbidden.statusCode).toBe(403);
  });

  it('cases-understaffed: the open case whose handler retired, naming that handler', async () => {
    const page = await list('410400', 'cases-understaffed');
    expect(keys(page)).toEqual(['SHORT']);
    expect(String(page.items[0]!.facts['unqualifiedHandlerIds'])).toHaveLength(36);
  });

  it('credentials-expiring: valid credentials expiring within the window only', async () => {
    expect(keys(await list('410400', 'credentials-expiring'))).toEqual(['E10-C']);
    expect(keys(await list('410400', 'credentials-expiring?days=60'))).toEqual(['E10-C', 'E40-C']);
    expect(keys(await list('410400', 'credentials-expiring?days=5'))).toEqual([]);
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/compliance/cases-overdue?days=5', headers: await bearer({ region: '410400', scope: 'stats:read' }) });
    expect(res.statusCode).toBe(400);
  });

  it('on-duty-without-credential: officers on duty today whose credential expired or was revoked since', async () => {
    const page = await list('410700', 'on-duty-without-credential?regionCode=410702');
    expect(keys(page)).toEqual(['N2', 'N3']);
    const byKey = new Map(page.items.map((r) => [r.externalId, r]));
    expect(byKey.get('N2')).toMatchObject({ collection: 'officers', regionCode: '410702', facts: { onDutySince: daysFromToday(-30), latestCredentialStatus: 'valid', latestCredentialExpiresOn: daysFromToday(-1) } });
    expect(byKey.get('N2')!.problem).toMatch(/expired on .*持证上岗/);
    expect(byKey.get('N3')!.problem).toMatch(/is revoked/);
    expect(byKey.get('N3')!.href).toBe(`/v1/officers/${byKey.get('N3')!.id}`);
    // Scoping: 焦作 sees its own only; the province both.
    expect(keys(await list('410800', 'on-duty-without-credential'))).toEqual(['N6']);
    expect(keys(await list('410700', 'on-duty-without-credential'))).not.toContain('N6');
    expect(keys(await list('410000', 'on-duty-without-credential'))).toEqual(['N2', 'N3', 'N6']);
  });

  it('training-overdue: one row per condition, initial first, page by page', async () => {
    const all = await list('410700', 'training-overdue?regionCode=410703');
    const rows = all.items.map((r) => `${String(r.facts['condition'])}:${r.externalId}`);
    const sortedById = (keysOf: string[]) => keysOf.sort((x, y) => (ids[x]! < ids[y]! ? -1 : 1));
    expect(rows).toEqual([
      ...sortedById(['T3', 'T4']).map((k) => `initial:${k}`),
      ...sortedById(['T2', 'T3']).map((k) => `provincial:${k}`),
    ]);
    const t2 = all.items.find((r) => r.externalId === 'T2' && r.facts['condition'] === 'provincial')!;
    expect(t2.facts).toMatchObject({ cadreLevel: 'division_or_above', lastProvincialTrainingEndedOn: daysFromToday(-1200) });
    expect(t2.problem).toMatch(/the last one ended on/);
    const t3 = all.items.find((r) => r.externalId === 'T3' && r.facts['condition'] === 'provincial')!;
    expect(t3.problem).toMatch(/none is on record/);
    // Pages of 3 and 1 give the same rows.
    const first = await list('410700', 'training-overdue?regionCode=410703&limit=3');
    expect(first.nextCursor).not.toBeNull();
    const second = await list('410700', `training-overdue?regionCode=410703&limit=3&cursor=${first.nextCursor}`);
    expect([...first.items, ...second.items].map((r) => `${String(r.facts['condition'])}:${r.externalId}`)).toEqual(rows);
    expect(second.nextCursor).toBeNull();
  });

  it('assistants-over-quota: the units whose assistants in service outnumber their active officers', async () => {
    const page = await list('410700', 'assistants-over-quota?regionCode=410704');
    expect(keys(page)).toEqual(['V1-OU', 'V3-OU', 'V4-OU']);
    const v4 = page.items.find((r) => r.externalId === 'V4-OU')!;
    expect(v4).toMatchObject({ collection: 'org-units', href: `/v1/org-units/${v4.id}`, facts: { assistants: 1, activeOfficers: 0, excess: 1 } });
    expect(page.items.find((r) => r.externalId === 'V1-OU')!.problem).toMatch(/2 assistants in service and 1 active officers: 1 over .*中发〔2015〕37号/);
    expect(keys(await list('410800', 'assistants-over-quota'))).toEqual([]);
  });

  it('equipment-below-quota: one row per unit and short category, by category, page by page', async () => {
    const page = await list('410700', 'equipment-below-quota?regionCode=410711');
    const rows = page.items.map((r) => `${String(r.facts['category'])}:${r.externalId}`);
    expect(rows).toEqual(['protective:W2-OU', 'radio:W1-OU', 'uniform:W1-OU']);
    expect(page.items[0]!.facts).toMatchObject({ quota: '10 per org unit', required: 10, held: 0, shortfall: 10, activeOfficers: 1, onDutyOfficers: 0 });
    expect(page.items[1]!.facts).toMatchObject({ quota: '1 per officer on duty', required: 1, held: 0, shortfall: 1, activeOfficers: 2, onDutyOfficers: 1 });
    expect(page.items[2]!.facts).toMatchObject({ required: 4, held: 3, shortfall: 1 });
    expect(page.items[2]!.problem).toMatch(/holds 3 uniform .* asks for 4: 1 short/);
    const first = await list('410700', 'equipment-below-quota?regionCode=410711&limit=2');
    const second = await list('410700', `equipment-below-quota?regionCode=410711&limit=2&cursor=${first.nextCursor}`);
    expect([...first.items, ...second.items].map((r) => r.id)).toEqual(page.items.map((r) => r.id));
    expect(second.nextCursor).toBeNull();
    expect(units['W1']).toBe(page.items[1]!.id);
  });
});
