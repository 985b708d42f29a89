/** Compliance lists hold exactly the seeded offenders, scoped to the caller's regions, page by page. */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, useTestApp } from '../support/context.js';
import { aCase, aDecidedCase, seedHandlers } from '../support/case-fixtures.js';
import { aCredential, anOfficer, daysFromToday, put, seedOfficer } from '../support/people-fixtures.js';

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
});
