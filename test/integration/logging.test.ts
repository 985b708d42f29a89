/**
 * Personal information never reaches the logs (PIPL art. 51, DESIGN §5): not from bodies, not from
 * look-ups by ID number in the query string, not from the Authorization header.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { loggerOptions } from '../../src/logger.js';
import { openTestDatabase, testConfig, token } from '../support/context.js';
import { anIdentity, anOfficer, anOrgUnit } from '../support/people-fixtures.js';

const lines: string[] = [];
let app: App;
let drop: () => Promise<void>;

beforeAll(async () => {
  const opened = await openTestDatabase();
  drop = opened.drop;
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const options = loggerOptions({ LOG_LEVEL: 'trace' });
  app = await buildApp({ config: testConfig, database: opened.database, logger: { ...(options as object), stream } });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await drop?.();
});

describe('logs', () => {
  it('carry request ids but no ID number, phone or token', async () => {
    const jwt = await token({ region: '411901' });
    const headers = { authorization: `Bearer ${jwt}` };
    const identity = anIdentity();
    const officer = anOfficer({ ...identity, phone: '13912345678' });
    await app.inject({ method: 'PUT', url: '/v1/org-units/external/411901/U', headers, payload: anOrgUnit() });
    const created = await app.inject({
      method: 'PUT',
      url: '/v1/officers/external/411901/O',
      headers,
      payload: { ...officer, orgUnitExternalId: 'U' },
    });
    expect(created.statusCode, created.body).toBe(201);
    // A refused body, a look-up by ID number, and a malformed body all log something.
    await app.inject({ method: 'POST', url: '/v1/officers', headers, payload: { ...officer, regionCode: '411901', gender: 'x' } });
    const found = await app.inject({ method: 'GET', url: `/v1/officers?idCardNumber=${identity.idCardNumber}`, headers });
    expect(found.json().items).toHaveLength(1);
    await app.inject({ method: 'POST', url: '/v1/officers', headers: { ...headers, 'content-type': 'application/json' }, payload: `{"idCardNumber":"${identity.idCardNumber}"` });

    const log = lines.join('');
    expect(log).toContain(created.headers['x-request-id']);
    expect(log).toContain('idCardNumber=[redacted]');
    expect(log).not.toContain(identity.idCardNumber);
    expect(log).not.toContain('13912345678');
    expect(log).not.toContain(jwt);
  });

  it('have one line as each request arrives and one as it is answered, of the same shapes as Fastify writes', async () => {
    const headers = { authorization: `Bearer ${await token({ region: '411901' })}`, 'x-request-id': 'lines-1' };
    const res = await app.inject({ method: 'GET', url: '/v1/org-units/00000000-0000-4000-8000-000000000000', headers });
    expect(res.statusCode).toBe(404);
    const mine = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line['reqId'] === 'lines-1');
    expect(mine.map((line) => line['msg'])).toEqual(['incoming request', 'No such record.', 'request completed']);
    const [incoming, , completed] = mine;
    expect(Object.keys(incoming!)).toEqual(['level', 'time', 'pid', 'hostname', 'reqId', 'req', 'msg']);
    expect(incoming).toMatchObject({ level: 30, req: { method: 'GET', url: '/v1/org-units/00000000-0000-4000-8000-000000000000', host: 'localhost:80' } });
    expect(Object.keys(completed!)).toEqual(['level', 'time', 'pid', 'hostname', 'reqId', 'res', 'responseTime', 'msg']);
    expect(completed).toMatchObject({ level: 30, res: { statusCode: 404 } });
    expect(completed!['responseTime']).toBeTypeOf('number');
  });
});
