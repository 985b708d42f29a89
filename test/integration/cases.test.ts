/**
 * Cases 案件 (DESIGN §6): each rule refused and accepted, on single writes, PATCH and batches; the stage
 * history kept by the server; the case number per region; overdue cases; a concurrent revocation.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { bearer, isPostgres, useTestApp } from '../support/context.js';
import { aCase, aDecidedCase, seedHandlers, type CaseBody } from '../support/case-fixtures.js';
import { problemOf, type BatchResultJson } from '../support/fixtures.js';
import { aCredential, anOfficer, daysFromToday, put, seedOfficer, today } from '../support/people-fixtures.js';

const ctx = useTestApp();

interface CaseJson extends Omit<CaseBody, 'handlingOfficerIds' | 'handlingOfficerExternalIds'> {
  id: string;
  version: number;
  stageHistory: { stage: string; date: string; by: string }[];
  heaviestPenalty: string | null;
  overdue: boolean;
  decisionDeadline: string;
  handlingOfficerIds: string[];
  handlingOfficerExternalIds: (string | null)[];
}

async function post(region: string, body: object, sub = 'tester') {
  return ctx.app.inject({ method: 'POST', url: '/v1/cases', headers: await bearer({ region, sub }), payload: { regionCode: region, ...body } });
}

async function patch(region: string, id: string, body: object, sub = 'tester') {
  return ctx.app.inject({
    method: 'PATCH',
    url: `/v1/cases/${id}`,
    headers: { ...(await bearer({ region, sub })), 'content-type': 'application/merge-patch+json' },
    payload: body,
  });
}

function refused(res: Awaited<ReturnType<typeof post>>, path: string, text?: string | RegExp) {
  expect(res.statusCode, res.body).toBe(422);
  const problem = problemOf(res);
  expect(problem.errors?.[0]?.path).toBe(path);
  if (text) expect(problem.detail).toMatch(text);
  return problem;
}

async function created(region: string, body: object, sub?: string): Promise<CaseJson> {
  const res = await post(region, body, sub);
  expect(res.statusCode, res.body).toBe(201);
  return res.json<CaseJson>();
}

describe('handling officers 承办人 (第42条)', () => {
  it('accepts two active officers with valid credentials, by id or by key; keeps both forms', async () => {
    const region = '411601';
    const { unit, handlers } = await seedHandlers(ctx.app, region);
    const byId = await created(region, aCase({ orgUnitId: unit.id, handlingOfficerIds: handlers.map((h) => h.id) }));
    expect(byId.handlingOfficerExternalIds).toEqual(['H1', 'H2']);
    const byKey = await created(region, aCase({ orgUnitId: unit.id, handlingOfficerExternalIds: ['H2', 'H1'] }));
    expect(byKey.handlingOfficerIds).toEqual([handlers[1]!.id, handlers[0]!.id]);
  });

  it('refuses fewer than two distinct handlers', async () => {
    const region = '411602';
    const { unit, handlers } = await seedHandlers(ctx.app, region);
    refused(await post(region, aCase({ orgUnitId: unit.id, handlingOfficerIds: [handlers[0]!.id] })), '/handlingOfficerIds', /at least two distinct/);
    refused(await post(region, aCase({ orgUnitId: unit.id, handlingOfficerIds: [handlers[0]!.id, handlers[0]!.id] })), '/handlingOfficerIds', /1 given/);
    const none = await post(region, aCase({ orgUnitId: unit.id }));
    expect(none.statusCode).toBe(400);
  });

  it('a handler that is not an officer (an assistant, say) is refused: handlers must be officers, assistants do no enforcement', async () => {
    const region = '411603';
    const { unit, handlers } = await seedHandlers(ctx.app, region);
    const res = await post(region, aCase({ orgUnitId: unit.id, handlingOfficerIds: [handlers[0]!.id, '00000000-0000-4000-8000-000000000001'] }));
    expect(res.statusCode).toBe(422);
    const problem = problemOf(res);
    expect(problem.code).toBe('reference_not_found');
    expect(problem.errors?.[0]?.path).toBe('/handlingOfficerIds/1');
    expect(problem.detail).toMatch(/must be officers/);
    expect(problem.detail).toMatch(/assistant \(协管人员\) can never handle a case/);
    expect(problem.detail).toMatch(/no concrete enforcement/);
  });

  it('refuses a handler who is not active, and one without a valid enforcement credential on filedOn', async () => {
    const region = '411604';
    const { unit, handlers } = await seedHandlers(ctx.app, region);
    const retired = await put(ctx.app, 'officers', region, 'RET', anOfficer({ orgUnitId: unit.id, employmentStatus: 'retired' }));
    refused(await post(region, aCase({ orgUnitId: unit.id, handlingOfficerIds: [handlers[0]!.id, retired.id] })), '/handlingOfficerIds/1', /not active/);

    const bare = await seedOfficer(ctx.app, region, 'BARE', { credential: false });
    refused(await post(region, aCase({ orgUnitId: unit.id, handlingOfficerIds: [handlers[0]!.id, bare.officer.id] })), '/handlingOfficerIds/1', /no valid enforcement credential/);

    const revoked = await seedOfficer(ctx.app, region, 'REV', { credential: { status: 'revoked' } });
    refused(await post(region, aCase({ orgUnitId: unit.id, handlingOfficerIds: [revoked.officer.id, handlers[0]!.id] })), '/handlingOfficerIds/0', /no valid enforcement credential/);

    const supervisor = await seedOfficer(ctx.app, region, 'SUP', { credential: { kind: 'supervision' } });
    refused(await post(region, aCase({ orgUnitId: unit.id, handlingOfficerIds: [handlers[0]!.id, supervisor.officer.id] })), '/handlingOfficerIds/1');

    // Issued after the case was filed: not valid on filedOn (but fine for a case filed later).
    const late = await seedOfficer(ctx.app, region, 'LATE', { credential: { issuedOn: daysFromToday(-5) } });
    refused(
      await post(region, aCase({ orgUnitId: unit.id, filedOn: daysFromToday(-10), handlingOfficerIds: [handlers[0]!.id, late.officer.id] })),
      '/handlingOfficerIds/1',
      new RegExp(`on filedOn ${daysFromToday(-10)}`),
    );
    await created(region, aCase({ orgUnitId: unit.id, filedOn: daysFromToday(-3), handlingOfficerIds: [handlers[0]!.id, late.officer.id] }));
  });

  it('handlers are checked on filing: an old case whose handler has retired since may still move on', async () => {
    const region = '411605';
    const { unit, handlers } = await seedHandlers(ctx.app, region);
    const c = await created(region, aCase({ orgUnitId: unit.id, handlingOfficerIds: handlers.map((h) => h.id) }));
    await put(ctx.app, 'officers', region, 'H1', { ...anOfficer({ orgUnitId: unit.id }), ...(await officerBody(region, 'H1')), employmentStatus: 'retired' });
    const res = await patch(region, c.id, { stage: 'investigating' });
    expect(res.statusCode, res.body).toBe(200);
    // Changing the handlers re-checks them.
    refused(await patch(region, c.id, { handlingOfficerIds: [handlers[1]!.id, handlers[0]!.id, handlers[1]!.id] }), '/handlingOfficerIds/1', /not active/);
  });

  it('an officer handling a live case cannot be deleted; the list finds the cases of an officer', async () => {
    const region = '411606';
    const { unit, handlers } = await seedHandlers(ctx.app, region);
    const other = await seedOfficer(ctx.app, region, 'O3');
    const c = await created(region, aCase({ orgUnitId: unit.id, handlingOfficerIds: handlers.map((h) => h.id) }));
    await created(region, aCase({ orgUnitId: unit.id, handlingOfficerIds: [handlers[0]!.id, other.officer.id] }));
    const headers = await bearer({ region });
    const del = await ctx.app.inject({ method: 'DELETE', url: `/v1/officers/${handlers[1]!.id}`, headers });
    expect(del.statusCode).toBe(409);
    expect(problemOf(del).code).toBe('still_referenced');
    const list = await ctx.app.inject({ method: 'GET', url: `/v1/cases?handlingOfficerId=${handlers[1]!.id}`, headers });
    expect(list.json<{ items: CaseJson[] }>().items.map((i) => i.id)).toEqual([c.id]);
  });
});

/** The officer body stored under a key, with its ID number (to rewrite it with PUT). */
async function officerBody(region: string, key: string) {
  const res = await ctx.app.inject({ method: 'GET', url: `/v1/officers/external/${region}/${key}`, headers: await bearer({ region }) });
  const { idCardNumber, birthDate, gender, name, phone } = res.json<Record<string, string>>();
  return { idCardNumber, birthDate, gender, name, phone };
}

describe('the lifecycle', () => {
  it('moves forward; a move back is refused listing the allowed next stages; the server keeps the history', async () => {
    const region = '411611';
    const { unit, handlers } = await seedHandlers(ctx.app, region);
    const c = await created(region, aCase({ orgUnitId: unit.id, handlingOfficerIds: handlers.map((h) => h.id) }), 'alice');
    expect(c.stageHistory).toEqual([{ stage: 'filed', date: today(), by: 'alice' }]);

    const moved = await patch(region, c.id, { stage: 'investigating', stageHistory: [{ stage: 'closed', date: '2020-01-01', by: 'mallory' }] }, 'bob');
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json<CaseJson>().stageHistory).toEqual([
      { stage: 'filed', date: today(), by: 'alice' },
      { stage: 'investigating', date: today(), by: 'bob' },
    ]);

    const back = refused(await patch(region, c.id, { stage: 'filed' }), '/stage');
    expect(back.detail).toBe(
      'stage cannot move from investigating to filed; from investigating it can move to legal_review, notified, decided, executed, closed, terminated, transferred.',
    );
    // An unchanged stage adds nothing to the history.
    const retitled = await patch(region, c.id, { title: '占道经营（更正）' });
    expect(retitled.json<CaseJson>().stageHistory).toHaveLength(2);
  });

  it('a jump forward needs the fields of the skipped stages', async () => {
    const region = '411612';
    const { unit, handlers } = await seedHandlers(ctx.app, region);
    const c = await created(region, aCase({ orgUnitId: unit.id, handlingOfficerIds: handlers.map((h) => h.id) }));
    refused(await patch(region, c.id, { stage: 'decided' }), '/decidedOn', /needs decidedOn/);
    refused(await patch(region, c.id, { stage: 'decided', decidedOn: today() }), '/penalties', /needs penalties/);
    refused(await patch(region, c.id, { stage: 'closed', decidedOn: today(), penalties: ['warning'] }), '/executedOn', /needs executedOn/);
    refused(await patch(region, c.id, { stage: 'closed', decidedOn: today(), penalties: ['warning'], executedOn: today() }), '/closedOn', /needs closedOn/);
    const closed = await patch(region, c.id, { stage: 'closed', decidedOn: today(), penalties: ['warning'], executedOn: today(), closedOn: today() });
    expect(closed.statusCode, closed.body).toBe(200);
    expect(closed.json<CaseJson>().stageHistory.map((h) => h.stage)).toEqual(['filed', 'closed']);
    refused(await patch(region, c.id, { stage: 'executed' }), '/stage', /it can move to nothing \(it is final\)/);
  });

  it('terminated and transferred end an undecided case; transferred needs transferredTo; a decided case cannot branch off', async () => {
    const region = '411613';
    const { unit, handlers } = await seedHandlers(ctx.app, region);
    const ids = handlers.map((h) => h.id);
    const t = await created(region, aCase({ orgUnitId: unit.id, handlingOfficerIds: ids }));
    refused(await patch(region, t.id, { stage: 'transferred' }), '/transferredTo', /needs transferredTo/);
    expect((await patch(region, t.id, { stage: 'transferred', transferredTo: '公安机关' })).statusCode).toBe(200);
    const d = await created(region, aDecidedCase({ orgUnitId: unit.id, handlingOfficerIds: ids }));
    refused(await patch(region, d.id, { stage: 'terminated' }), '/stage', /from decided it can move to executed, closed\./);
  });

  it('a major case reaches decided only through legal_review (第58条)', async () => {
    const region = '411614';
    const { unit, handlers } = await seedHandlers(ctx.app, region);
    const ids = handlers.map((h) => h.id);
    refused(await post(region, aDecidedCase({ orgUnitId: unit.id, handlingOfficerIds: ids, major: true })), '/stage', /法制审核.*第58条/);
    const c = await created(region, aCase({ orgUnitId: unit.id, handlingOfficerIds: ids, major: true, stage: 'investigating' }));
    const decision = { stage: 'decided', decidedOn: today(), penalties: ['fine'], fineFen: 2_000_000 };
    refused(await patch(region, c.id, decision), '/stage', /move it to legal_review first/);
    expect((await patch(region, c.id, { stage: 'legal_review' })).statusCode).toBe(200);
    const decided = await patch(region, c.id, decision);
    expect(decided.statusCode, decided.body).toBe(200);
    expect(decided.json<CaseJson>().stageHistory.map((h) => h.stage)).toEqual(['investigating', 'legal_review', 'decided']);
    // An ordinary case may skip the review.
    await created(region, aDecidedCase({ orgUnitId: unit.id, handlingOfficerIds: ids }));
  });

  it('decided needs its amounts: fine → fineFen, confiscation of gains → confiscationFen; property may have none', async () => {
    const region = '411615';
    const { unit, handlers } = await seedHandlers(ctx.app, region);
    const base = { orgUnitId: unit.id, handlingOfficerIds: handlers.map((h) => h.id) };
    refused(await post(region, aDecidedCase({ ...base, fineFen: null })), '/fineFen', /give its amount/);
    refused(await post(region, aDecidedCase({ ...base, fineFen: 0 })), '/fineFen');
    refused(await post(region, aDecidedCase({ ...base, penalties: ['warning'], fineFen: 100 })), '/fineFen', /no fine/);
    refused(await post(region, aDecidedCase({ ...base, penalties: ['fine', 'confiscation_of_gains'] })), '/confiscationFen', /没收违法所得/);
    refused(await post(region, aDecidedCase({ ...base, penalties: ['warning'], fineFen: null, confiscationFen: 5 })), '/confiscationFen', /no confiscation/);
    const both = await created(region, aDecidedCase({ ...base, penalties: ['confiscation_of_gains', 'fine'], confiscationFen: 300_000 }));
    expect(both.heaviestPenalty).toBe('confiscation_of_gains');
    const property = await created(region, aDecidedCase({ ...base, penalties: ['confiscation_of_property'], fineFen: null }));
    expect(property.confiscationFen).toBeNull();
    const repeated = await post(region, aDecidedCase({ ...base, penalties: ['fine', 'fine'] }));
    expect(repeated.statusCode).toBe(400);
  });

  it('dates keep their order; executed needs executedOn; filedOn is not in the future', async () => {
    const region = '411616';
    const { unit, handlers } = await seedHandlers(ctx.app, region);
    const base = { orgUnitId: unit.id, handlingOfficerIds: handlers.map((h) => h.id) };
    refused(await post(region, aCase({ ...base, filedOn: daysFromToday(1) })), '/filedOn', /future/);
    refused(await post(region, aDecidedCase({ ...base, decidedOn: daysFromToday(-20) })), '/decidedOn', /before filedOn/);
    refused(await post(region, aDecidedCase({ ...base, stage: 'executed' })), '/executedOn', /needs executedOn/);
    refused(await post(region, aDecidedCase({ ...base, stage: 'executed', executedOn: daysFromToday(-3) })), '/executedOn', /on or before/);
    await created(region, aDecidedCase({ ...base, stage: 'executed', executedOn: daysFromToday(-1) }));
  });
});

describe('case numbers, overdue cases, regions', () => {
  it('a case number is unique among the live cases of a region, not across regions', async () => {
    const [a, b] = ['411621', '411622'];
    const one = await seedHandlers(ctx.app, a);
    const two = await seedHandlers(ctx.app, b);
    const body = aCase({ caseNumber: '郑城管罚字〔2025〕第7号' });
    const first = await created(a, { ...body, orgUnitId: one.unit.id, handlingOfficerIds: one.handlers.map((h) => h.id) });
    refused(await post(a, { ...body, orgUnitId: one.unit.id, handlingOfficerIds: one.handlers.map((h) => h.id) }), '/caseNumber', /unique per region/);
    await created(b, { ...body, orgUnitId: two.unit.id, handlingOfficerIds: two.handlers.map((h) => h.id) });
    // Deleting frees the number.
    expect((await ctx.app.inject({ method: 'DELETE', url: `/v1/cases/${first.id}`, headers: await bearer({ region: a }) })).statusCode).toBe(204);
    await created(a, { ...body, orgUnitId: one.unit.id, handlingOfficerIds: one.handlers.map((h) => h.id) });
  });

  it('overdue: undecided more than 90 days after filedOn (第60条), as a read field and a list filter', async () => {
    const region = '411623';
    const { unit, handlers } = await seedHandlers(ctx.app, region);
    const base = { orgUnitId: unit.id, handlingOfficerIds: handlers.map((h) => h.id) };
    const late = await created(region, aCase({ ...base, filedOn: daysFromToday(-91), stage: 'investigating' }));
    const lastDay = await created(region, aCase({ ...base, filedOn: daysFromToday(-90) }));
    await created(region, aDecidedCase({ ...base, filedOn: daysFromToday(-200), decidedOn: daysFromToday(-150) }));
    expect(late).toMatchObject({ overdue: true, decisionDeadline: daysFromToday(-1) });
    expect(lastDay).toMatchObject({ overdue: false, decisionDeadline: today() });
    const headers = await bearer({ region });
    const list = await ctx.app.inject({ method: 'GET', url: '/v1/cases?overdue=true', headers });
    expect(list.json<{ items: CaseJson[] }>().items.map((i) => i.id)).toEqual([late.id]);
    const rest = await ctx.app.inject({ method: 'GET', url: '/v1/cases?overdue=false', headers });
    expect(rest.json<{ items: CaseJson[] }>().items).toHaveLength(2);
  });

  it("another region's officers cannot handle a case, and another region never sees the case", async () => {
    const [a, b] = ['411624', '411625'];
    const one = await seedHandlers(ctx.app, a);
    const two = await seedHandlers(ctx.app, b);
    const res = await post(a, aCase({ orgUnitId: one.unit.id, handlingOfficerIds: [one.handlers[0]!.id, two.handlers[0]!.id] }));
    expect(res.statusCode).toBe(422);
    expect(problemOf(res).detail).not.toContain(b);
    const c = await created(a, aCase({ orgUnitId: one.unit.id, handlingOfficerIds: one.handlers.map((h) => h.id) }));
    const other = await ctx.app.inject({ method: 'GET', url: `/v1/cases/${c.id}`, headers: await bearer({ region: b }) });
    expect(other.statusCode).toBe(404);
    const list = await ctx.app.inject({ method: 'GET', url: '/v1/cases', headers: await bearer({ region: b }) });
    expect(list.json<{ items: CaseJson[] }>().items).toEqual([]);
  });
});

describe('batches', () => {
  it('each rule refuses its own operation and the rest are written (non-atomic); atomic rolls back', async () => {
    const region = '411631';
    const { unit, handlers } = await seedHandlers(ctx.app, region);
    const base = { orgUnitExternalId: 'H1-OU', handlingOfficerExternalIds: ['H1', 'H2'] };
    const op = (externalId: string, data: object) => ({ op: 'upsert', collection: 'cases', regionCode: region, externalId, data });
    const operations = [
      op('OK1', aCase(base)),
      op('ONE', aCase({ ...base, handlingOfficerExternalIds: ['H1'] })),
      op('MAJOR', aDecidedCase({ ...base, major: true })),
      op('NOFINE', aDecidedCase({ ...base, fineFen: null })),
      op('NOEXEC', aDecidedCase({ ...base, stage: 'executed' })),
      op('GHOST', aCase({ ...base, handlingOfficerExternalIds: ['H1', 'NOBODY'] })),
      op('DUP', aCase({ ...base, caseNumber: 'BATCH-1' })),
      op('DUP2', aCase({ ...base, caseNumber: 'BATCH-1' })),
      op('OK2', aDecidedCase(base)),
    ];
    const headers = await bearer({ region });
    const res = await ctx.app.inject({ method: 'POST', url: '/v1/batch', headers, payload: { operations } });
    expect(res.statusCode, res.body).toBe(200);
    const results = res.json<{ results: BatchResultJson[] }>().results;
    expect(results.map((r) => r.status)).toEqual([201, 422, 422, 422, 422, 422, 201, 422, 201]);
    expect(results.map((r) => r.error?.errors?.[0]?.path ?? null)).toEqual([
      null,
      '/operations/1/data/handlingOfficerIds',
      '/operations/2/data/stage',
      '/operations/3/data/fineFen',
      '/operations/4/data/executedOn',
      '/operations/5/data/handlingOfficerExternalIds/1',
      null,
      '/operations/7/data/caseNumber',
      null,
    ]);

    // A handler's credential revoked earlier in the same batch counts for the later case.
    const later = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers,
      payload: {
        atomic: true,
        operations: [
          { op: 'upsert', collection: 'credentials', regionCode: region, externalId: 'H2-C', data: { ...aCredential({ officerId: handlers[1]!.id }), status: 'revoked' } },
          op('AFTER', aCase({ ...base, orgUnitId: unit.id })),
        ],
      },
    });
    expect(later.statusCode).toBe(422);
    expect(later.json()).toMatchObject({ code: 'batch_rolled_back', failedIndex: 1 });
  });
});

describe.skipIf(!isPostgres())('a credential revoked while a case is filed', () => {
  it('the case waits for the revocation and is refused, or the revocation waits for the case: never a case on a revoked credential', async () => {
    const region = '411641';
    for (const commitFirst of [true, false]) {
      const { unit, handlers, credentials } = await seedHandlers(ctx.app, region, commitFirst ? 'A' : 'B');
      const credential = credentials[0]!;
      const client = new pg.Client({ connectionString: ctx.url });
      await client.connect();
      try {
        await client.query('begin');
        if (commitFirst) {
          // The revocation holds the row; the case's FOR SHARE read waits, then sees it revoked.
          await client.query(`update credentials set status = 'revoked', version = version + 1 where id = $1`, [credential.id]);
          const pending = post(region, aCase({ orgUnitId: unit.id, handlingOfficerIds: handlers.map((h) => h.id) }));
          await new Promise((r) => setTimeout(r, 300));
          await client.query('commit');
          refused(await pending, '/handlingOfficerIds/0', /no valid enforcement credential/);
        } else {
          // The case commits while holding the credential FOR SHARE; a revocation started meanwhile waits for it.
          const c = await created(region, aCase({ orgUnitId: unit.id, handlingOfficerIds: handlers.map((h) => h.id) }));
          expect(c.version).toBe(1);
          await client.query('set lock_timeout = 5000');
          await client.query(`update credentials set status = 'revoked', version = version + 1 where id = $1`, [credential.id]);
          await client.query('commit');
        }
      } finally {
        await client.end();
      }
    }
  });

  it('under racing requests no committed case names a handler whose credential was revoked before the case committed', async () => {
    const region = '411642';
    for (let trial = 0; trial < 10; trial++) {
      const { unit, handlers, credentials } = await seedHandlers(ctx.app, region, `R${trial}-`);
      const revoke = ctx.app.inject({
        method: 'PUT',
        url: `/v1/credentials/external/${region}/R${trial}-1-C`,
        headers: await bearer({ region }),
        payload: { ...(await credentialBody(region, `R${trial}-1-C`)), status: 'revoked' },
      });
      const file = post(region, aCase({ orgUnitId: unit.id, handlingOfficerIds: handlers.map((h) => h.id) }));
      const [r, f] = await Promise.all([revoke, file]);
      expect(r.statusCode, r.body).toBe(200);
      expect([201, 422]).toContain(f.statusCode);
      if (f.statusCode === 201) {
        // The case committed first: its audit row precedes the revocation's.
        const rows = await auditOrder(f.json<CaseJson>().id, credentials[0]!.id);
        expect(rows).toEqual(['cases', 'credentials']);
      }
    }
  });
});

async function credentialBody(region: string, key: string) {
  const res = await ctx.app.inject({ method: 'GET', url: `/v1/credentials/external/${region}/${key}`, headers: await bearer({ region }) });
  const { credentialNumber, kind, issuingAuthority, issuedOn, expiresOn, officerId } = res.json<Record<string, string>>();
  return { credentialNumber, kind, issuingAuthority, issuedOn, expiresOn, officerId };
}

async function auditOrder(caseId: string, credentialId: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: ctx.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ collection: string }>(
      `select collection from audit_log where (record_id = $1 and op = 'create') or (record_id = $2 and op = 'update') order by id`,
      [caseId, credentialId],
    );
    return rows.map((r) => r.collection);
  } finally {
    await client.end();
  }
}

describe.skipIf(!isPostgres())('case numbers between concurrent writers', () => {
  it('two platforms filing one case number at once: exactly one is accepted, every trial', async () => {
    const region = '411631';
    const { unit, handlers } = await seedHandlers(ctx.app, region);
    const base = { orgUnitId: unit.id, handlingOfficerIds: handlers.map((h) => h.id) };
    for (let trial = 0; trial < 15; trial++) {
      const body = aCase({ ...base, caseNumber: `郑城管罚字〔2026〕并发第${trial}号` });
      const [a, b] = await Promise.all([post(region, body), post(region, body)]);
      expect([a.statusCode, b.statusCode].sort()).toEqual([201, 422]);
      refused([a, b].find((r) => r.statusCode === 422)!, '/caseNumber', /unique per region/);
    }
  });
});
