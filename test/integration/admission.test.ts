/**
 * Load without collapse (docs/decisions.md): past the admission capacity a request is answered at once with
 * 503 `overloaded`, Retry-After and a problem body, instead of queueing for seconds; requests within it are
 * served; health and readiness answer whatever the load; and a slot is given back however its request ends —
 * an answer, an error, a client that went away — so after a burst everything is served again.
 *
 * Deterministic: tiny limits (fixed, not adapted to timing) and requests held open by a test route that waits
 * for the test to let it go. No timing is asserted.
 */
import http from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { REFUSAL_PACE_MS } from '../../src/http/admission.js';
import { MAX_PIPELINED_REQUESTS } from '../../src/http/limits.js';
import type { Config } from '../../src/config.js';
import type { Database } from '../../src/db/client.js';
import { bearer, openTestDatabase, testConfig } from '../support/context.js';
import { givenOrgUnit, problemOf } from '../support/fixtures.js';
import { anOrgUnit } from '../support/people-fixtures.js';

const REGION = '410187';

/** A latch the held routes wait on; `open` lets every waiting request go on, `fail` makes them throw. */
function latch() {
  let open!: () => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  promise.catch(() => undefined);
  return { promise, open, fail };
}

let database: Database;
let drop: () => Promise<void>;
const apps: App[] = [];
let hold = latch();

/** An app on the shared database with its own admission limits and a gated test route that waits on the latch. */
async function appWith(overrides: Partial<Config>): Promise<App> {
  const app = await buildApp({ config: { ...testConfig, ADMISSION_TARGET_MS: 0, ...overrides }, database });
  // `/v1/held` is gated like a collection list (class `list`, one unit without pii:read).
  app.get('/v1/held', { config: { scope: 'records:read' } }, async () => {
    await hold.promise;
    return { held: false };
  });
  // And a write (class `write`, one unit) that waits on it too.
  app.post('/v1/held', { config: { scope: 'records:write' } }, async () => {
    await hold.promise;
    return { held: false };
  });
  await app.ready();
  apps.push(app);
  return app;
}

beforeAll(async () => {
  const opened = await openTestDatabase();
  database = opened.database;
  drop = opened.drop;
});

afterAll(async () => {
  hold.open();
  for (const app of apps) await app.close();
  await drop?.();
});

const reader = () => bearer({ region: REGION, scope: 'records:read' });

/** Waits (by polling the gate, not the clock) until the app's gate shows what the test set up. */
async function until(app: App, condition: (stats: ReturnType<App['admission']['stats']>) => boolean) {
  for (let i = 0; i < 2000 && !condition(app.admission.stats()); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition(app.admission.stats()), JSON.stringify(app.admission.stats())).toBe(true);
}

function expectOverloaded(res: LightMyRequestResponse) {
  expect(res.statusCode, res.body).toBe(503);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.headers['retry-after']).toBe('1');
  expect(problemOf(res)).toMatchObject({ status: 503, code: 'overloaded', title: 'Overloaded', requestId: res.headers['x-request-id'] });
}

const list = `/v1/officers?regionCode=${REGION}&limit=50`;

describe('admission control', () => {
  let app: App;
  beforeAll(async () => {
    // Two units at once, one request waiting per class, and a wait long enough never to end during a test.
    app = await appWith({ ADMISSION_CAPACITY: 2, ADMISSION_QUEUE_MAX: 1, ADMISSION_QUEUE_TIMEOUT_MS: 60_000 });
    await givenOrgUnit(app, await bearer({ region: REGION }), REGION, 'ADM-1');
  });

  it('serves requests within the limit', async () => {
    const headers = await reader();
    for (let i = 0; i < 3; i++) expect((await app.inject({ method: 'GET', url: list, headers })).statusCode).toBe(200);
    expect(app.admission.stats()).toMatchObject({ inFlight: 0, waiting: 0 });
  });

  it('past the limit answers 503 overloaded with Retry-After at once, while health and readiness still answer', async () => {
    const headers = await reader();
    hold = latch();
    const running = [app.inject({ method: 'GET', url: '/v1/held', headers }), app.inject({ method: 'GET', url: '/v1/held', headers })];
    await until(app, (s) => s.inFlight === 2);
    const queued = app.inject({ method: 'GET', url: '/v1/held', headers });
    await until(app, (s) => s.waiting === 1);

    // Both held requests still run and one waits: these are refused without waiting for any of them.
    expectOverloaded(await app.inject({ method: 'GET', url: '/v1/held', headers }));
    expectOverloaded(await app.inject({ method: 'GET', url: list, headers }));
    // Refused before the token is even looked at.
    expectOverloaded(await app.inject({ method: 'GET', url: list }));
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    expect(app.admission.stats()).toMatchObject({ inFlight: 2, waiting: 1 });

    hold.open();
    for (const res of await Promise.all([...running, queued])) expect(res.statusCode).toBe(200);
    expect(app.admission.stats()).toMatchObject({ inFlight: 0, waiting: 0 });
    expect((await app.inject({ method: 'GET', url: list, headers })).statusCode).toBe(200);
  });

  it('refuses a write whose body has not arrived with 503 and lets its connection go with the answer', async () => {
    const app = await appWith({ ADMISSION_CAPACITY: 1, ADMISSION_QUEUE_MAX: 0 });
    const { authorization } = await bearer({ region: REGION, scope: 'records:write' });
    hold = latch();
    const running = app.inject({ method: 'POST', url: '/v1/held', headers: { authorization }, payload: {} });
    await until(app, (s) => s.inFlight === 1);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    // Headers and the start of a body that does not come: refused before Fastify, ahead of the token check.
    const socket = connect({ host: '127.0.0.1', port });
    socket.setEncoding('utf8');
    let received = '';
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => {});
    const started = performance.now();
    socket.write('POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
    const closedIn = await new Promise<number>((resolve) => socket.on('close', () => resolve(performance.now() - started)));
    expect(received).toMatch(/^HTTP\/1\.1 503 /);
    // Not held until the request time limit (30 s) for a body no one will read.
    expect(closedIn).toBeLessThan(5_000);
    hold.open();
    expect((await running).statusCode).toBe(200);
  });

  it('keeps the connection of a refused request whose body is not still coming: a client may send its next request on it', async () => {
    const app = await appWith({ ADMISSION_CAPACITY: 1, ADMISSION_QUEUE_MAX: 0 });
    const { authorization } = await reader();
    const writer = (await bearer({ region: REGION, scope: 'records:write' })).authorization;
    hold = latch();
    const running = app.inject({ method: 'GET', url: '/v1/held', headers: { authorization } });
    await until(app, (s) => s.inFlight === 1);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    /** Sends `requests` pipelined in one packet, the last asking the server to close; what came back. */
    const exchange = (requests: { head: string; body?: string }[]) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port });
        socket.setEncoding('utf8');
        let received = '';
        socket.on('data', (chunk: string) => (received += chunk));
        socket.on('error', reject);
        socket.on('close', () => resolve(received));
        const last = requests.length - 1;
        const text = requests.map(({ head, body }, i) => {
          const length = body === undefined ? '' : `\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}`;
          return `${head}\r\nHost: 127.0.0.1${length}${i === last ? '\r\nConnection: close' : ''}\r\n\r\n${body ?? ''}`;
        });
        socket.write(text.join(''));
      });
    const statuses = (received: string) => [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
    // A write whose whole body comes with its headers, in the same packet as the requests behind it.
    const write = (auth: string) => ({ head: `PUT /v1/org-units/external/${REGION}/ADM-KEEP HTTP/1.1${auth}`, body: JSON.stringify(anOrgUnit()) });
    // The early 503s of a saturated class, ahead of Fastify (the second one paced), then a request on the same connection.
    const refused = await exchange([{ head: `GET ${list} HTTP/1.1\r\nAuthorization: ${authorization}` }, write(`\r\nAuthorization: ${writer}`), { head: 'GET /healthz HTTP/1.1' }]);
    expect(statuses(refused)).toEqual(['503', '503', '200']);
    hold.open();
    expect((await running).statusCode).toBe(200);
    // A 401 from the token check, answered as synchronously: to a read, and to a write whose body came along.
    const unauthorized = await exchange([{ head: `GET ${list} HTTP/1.1` }, write(''), { head: 'GET /healthz HTTP/1.1' }]);
    expect(statuses(unauthorized)).toEqual(['401', '401', '200']);
  });

  it('serves no request read behind an early answer that ends the connection: its answer could not be sent', async () => {
    const app = await appWith({});
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const { authorization } = await bearer({ region: REGION, scope: 'records:write' });
    // Half open: the client may still send after the server has ended its side.
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    socket.setEncoding('utf8');
    let received = '';
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => {});
    const ended = new Promise((resolve) => socket.on('end', resolve));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    // No token and a body still to come: answered 401, and the server ends the connection.
    socket.write('POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{"operations"');
    await ended;
    // The rest of the body, then a write with a token, the client's side left open: read and dropped, not served.
    const body = JSON.stringify(anOrgUnit());
    socket.write(
      `:[]}   PUT /v1/org-units/external/${REGION}/ADM-LATE HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${authorization}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    // The server reads on for 2 s before it cuts the connection: time enough for the write to commit were it served.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    socket.end();
    await closed;
    expect([...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1])).toEqual(['401']);
    const headers = await bearer({ region: REGION });
    expect((await app.inject({ method: 'GET', url: `/v1/org-units/external/${REGION}/ADM-LATE`, headers })).statusCode).toBe(404);
  });

  it('answers a connection that asks again at once no sooner than the refusal pace, so clients ignoring Retry-After cannot storm', async () => {
    const app = await appWith({ ADMISSION_CAPACITY: 1, ADMISSION_QUEUE_MAX: 0 });
    const { authorization } = await reader();
    hold = latch();
    const running = app.inject({ method: 'GET', url: '/v1/held', headers: { authorization } });
    await until(app, (s) => s.inFlight === 1);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const socket = connect({ host: '127.0.0.1', port });
    socket.setEncoding('utf8');
    const answers: { at: number; status: string }[] = [];
    let answered = () => {};
    socket.on('data', (text: string) => {
      const at = performance.now();
      for (const m of text.matchAll(/HTTP\/1\.1 (\d{3}) /g)) answers.push({ at, status: m[1]! });
      answered();
    });
    socket.on('error', () => {});
    const closed = new Promise((resolve) => socket.on('close', resolve));
    const refused = `GET ${list} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${authorization}\r\n`;
    /** Sends `count` requests at once and waits until every answer so far has come. */
    const ask = async (count: number, last = false) => {
      const expected = answers.length + count;
      const all = new Promise<void>((resolve) => (answered = () => answers.length >= expected && resolve()));
      socket.write(Array.from({ length: count }, (_, i) => `${refused}${last && i === count - 1 ? 'Connection: close\r\n' : ''}\r\n`).join(''));
      await all;
    };
    // One at a time, each sent the moment the answer before it came: each a pace after the one before.
    await ask(1);
    await ask(1);
    await ask(1);
    // Pipelined behind a refusal that waits: answered right behind it, not a pace apart each.
    await ask(30, true);
    await closed;
    hold.open();
    expect((await running).statusCode).toBe(200);
    expect(answers.map((a) => a.status)).toEqual(Array(33).fill('503'));
    // Three paces from the first to the fourth, less what the client's own delays take off: arrivals are timed
    // at the client, and an answer it reads late is a later request, paced from the answer before it.
    expect(answers[3]!.at - answers[0]!.at).toBeGreaterThanOrEqual(1.5 * REFUSAL_PACE_MS);
    // Paced one by one, the last of the 30 would come 3 s after the first.
    expect(answers[32]!.at - answers[3]!.at).toBeLessThan(10 * REFUSAL_PACE_MS);
  });

  it(`serves no more than ${MAX_PIPELINED_REQUESTS} requests unanswered on a connection, and loses no answer of a write carried out`, async () => {
    const app = await appWith({});
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const { authorization } = await bearer({ region: REGION, scope: 'records:write' });
    /** Pipelines `requests` on one connection, reading nothing until all are sent; the statuses answered. */
    const pipeline = (requests: string[]) =>
      new Promise<string[]>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port });
        socket.setEncoding('utf8');
        let received = '';
        socket.on('data', (chunk: string) => (received += chunk));
        socket.on('error', () => {});
        socket.on('close', () => resolve([...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]!)));
        socket.write(requests.join(''));
      });
    const get = `GET ${list} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    // Within the limit every request is answered, in one packet as it was sent.
    const within = await pipeline([...Array(MAX_PIPELINED_REQUESTS - 1).fill(get), get.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')]);
    expect(within).toEqual(Array(MAX_PIPELINED_REQUESTS).fill('401'));
    // Thousands of reads: the connection is cut off, the rest not worked through.
    expect((await pipeline(Array(5000).fill(get))).length).toBeLessThanOrEqual(MAX_PIPELINED_REQUESTS);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // Writes: the connection is drained rather than cut — each one carried out is answered, and none past the
    // limit is carried out.
    const body = JSON.stringify(anOrgUnit());
    const put = (i: number) =>
      `PUT /v1/org-units/external/${REGION}/ADM-PIPE-${i} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${authorization}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const answered = await pipeline(Array.from({ length: MAX_PIPELINED_REQUESTS + 8 }, (_, i) => put(i)));
    expect(answered).toHaveLength(MAX_PIPELINED_REQUESTS);
    const headers = await bearer({ region: REGION });
    const stored: number[] = [];
    for (let i = 0; i < MAX_PIPELINED_REQUESTS + 8; i++) {
      stored.push((await app.inject({ method: 'GET', url: `/v1/org-units/external/${REGION}/ADM-PIPE-${i}`, headers })).statusCode);
    }
    expect(stored.slice(0, MAX_PIPELINED_REQUESTS)).toEqual(answered.map((status) => (status === '201' ? 200 : 404)));
    expect(stored.slice(MAX_PIPELINED_REQUESTS)).toEqual(Array(8).fill(404));
  });

  it('gives the slot back when the work fails', async () => {
    const headers = await reader();
    hold = latch();
    const failing = [app.inject({ method: 'GET', url: '/v1/held', headers }), app.inject({ method: 'GET', url: '/v1/held', headers })];
    await until(app, (s) => s.inFlight === 2);
    hold.fail(new Error('boom'));
    for (const res of await Promise.all(failing)) expect(res.statusCode).toBe(500);
    // A handler's own refusal (404) too.
    const missing = await app.inject({ method: 'GET', url: '/v1/officers/00000000-0000-4000-8000-000000000000', headers });
    expect(missing.statusCode).toBe(404);
    expect(app.admission.stats()).toMatchObject({ inFlight: 0, waiting: 0 });
    expect((await app.inject({ method: 'GET', url: list, headers })).statusCode).toBe(200);
  });

  it('gives the slot back when the client goes away, waiting or running, and serves everything after a burst', async () => {
    const { authorization } = await reader();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const send = (path: string) => {
      const req = http.get({ host: '127.0.0.1', port, path, headers: { authorization } });
      const done = new Promise<number>((resolve) => {
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', () => resolve(0));
      });
      return { req, done };
    };

    hold = latch();
    const running = [send('/v1/held'), send('/v1/held')];
    await until(app, (s) => s.inFlight === 2);
    const waiting = send('/v1/held');
    await until(app, (s) => s.waiting === 1);
    // The waiting client leaves: its place in the queue is freed at once.
    waiting.req.destroy();
    await until(app, (s) => s.waiting === 0);
    // A running client leaves: its work still holds the slot until it ends, then gives it back.
    running[0]!.req.destroy();
    expect(app.admission.stats().inFlight).toBe(2);

    // A burst on top: two run, one waits, the other seven are refused while nothing has ended.
    const statuses: number[] = [];
    const burst = Array.from({ length: 8 }, () => send('/v1/held'));
    for (const b of burst) void b.done.then((status) => statuses.push(status));
    for (let i = 0; i < 1000 && statuses.length < 7; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(statuses).toEqual(Array(7).fill(503));
    expect(app.admission.stats()).toMatchObject({ inFlight: 2, waiting: 1 });

    hold.open();
    await Promise.all([...running, waiting, ...burst].map((r) => r.done));
    await until(app, (s) => s.inFlight === 0 && s.waiting === 0);
    for (let i = 0; i < 5; i++) expect(await send(list).done).toBe(200);
    expect(app.admission.stats()).toMatchObject({ inFlight: 0, waiting: 0 });
  });
});

describe('admission deadline', () => {
  it('refuses a request that waited its deadline out, and serves once capacity frees', async () => {
    const app = await appWith({ ADMISSION_CAPACITY: 1, ADMISSION_QUEUE_MAX: 5, ADMISSION_QUEUE_TIMEOUT_MS: 20 });
    const headers = await reader();
    hold = latch();
    const running = app.inject({ method: 'GET', url: '/v1/held', headers });
    await until(app, (s) => s.inFlight === 1);
    expectOverloaded(await app.inject({ method: 'GET', url: '/v1/held', headers }));
    expect(app.admission.stats()).toMatchObject({ inFlight: 1, waiting: 0 });
    hold.open();
    expect((await running).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/v1/held', headers })).statusCode).toBe(200);
  });
});
