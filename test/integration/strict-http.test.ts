/**
 * Strict HTTP (DESIGN §3): If-Match by strong comparison, ETags that follow the representation (embedded
 * summaries included), unknown query parameters refused, JWT `typ` checked, request ids checked before they
 * reach the audit log, HEAD that audits nothing, PII query parameters redacted in logs in every spelling.
 */
import { request as httpRequest } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { loggerOptions, redactUrl } from '../../src/logger.js';
import { createTokenVerifier } from '../../src/security/tokens.js';
import { bearer, testConfig, TEST_JWT_SECRET, useTestApp } from '../support/context.js';
import { auditEntries, problemOf } from '../support/fixtures.js';
import { aCredential, anIdentity, anOrgUnit, put, seedOfficer } from '../support/people-fixtures.js';

const ctx = useTestApp();

describe('If-Match', () => {
  it('a weak tag never satisfies it (412), the strong one does', async () => {
    const region = '410301';
    const unit = await put(ctx.app, 'org-units', region, 'W', anOrgUnit());
    const headers = await bearer({ region });
    const weak = await ctx.app.inject({
      method: 'PATCH',
      url: `/v1/org-units/${unit.id}`,
      headers: { ...headers, 'if-match': `W/"${unit.version}"` },
      payload: { name: 'changed' },
    });
    expect(weak.statusCode, weak.body).toBe(412);
    expect(problemOf(weak).code).toBe('version_conflict');
    const strong = await ctx.app.inject({
      method: 'PATCH',
      url: `/v1/org-units/${unit.id}`,
      headers: { ...headers, 'if-match': `"${unit.version}"` },
      payload: { name: 'changed' },
    });
    expect(strong.statusCode, strong.body).toBe(200);
  });
});

describe('conditional writes by key', () => {
  it('If-None-Match: * creates only: 201 for a new key, then 412 and nothing written', async () => {
    const region = '410310';
    const headers = { ...(await bearer({ region })), 'if-none-match': '*' };
    const url = `/v1/org-units/external/${region}/ONLY-ONCE`;
    const created = await ctx.app.inject({ method: 'PUT', url, headers, payload: anOrgUnit({ name: '第一次' }) });
    expect(created.statusCode, created.body).toBe(201);
    const again = await ctx.app.inject({ method: 'PUT', url, headers, payload: anOrgUnit({ name: '第二次' }) });
    expect(again.statusCode, again.body).toBe(412);
    expect(problemOf(again).code).toBe('version_conflict');
    // A tag of the current version stops it too (weakly compared); one of another version does not.
    const current = { ...headers, 'if-none-match': `W/"${created.json().version}"` };
    expect((await ctx.app.inject({ method: 'PUT', url, headers: current, payload: anOrgUnit({ name: '第二次' }) })).statusCode).toBe(412);
    const other = { ...headers, 'if-none-match': '"9"' };
    const written = await ctx.app.inject({ method: 'PUT', url, headers: other, payload: anOrgUnit({ name: '第三次' }) });
    expect(written.statusCode, written.body).toBe(200);
    expect(written.json()).toMatchObject({ name: '第三次', version: 2 });
  });

  it('If-None-Match: * raced by two writers of one new key: one creates it, the other is 412', async () => {
    const region = '410310';
    const headers = { ...(await bearer({ region })), 'if-none-match': '*' };
    for (let round = 0; round < 5; round++) {
      const url = `/v1/org-units/external/${region}/RACE-${round}`;
      const answers = await Promise.all(
        ['甲', '乙'].map((name) => ctx.app.inject({ method: 'PUT', url, headers, payload: anOrgUnit({ name }) })),
      );
      expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 412]);
      const stored = await ctx.app.inject({ method: 'GET', url, headers: { authorization: headers.authorization } });
      expect(stored.json()).toMatchObject({ version: 1, name: answers.find((a) => a.statusCode === 201)!.json().name });
    }
  });

  it('If-None-Match on a write by id or key is evaluated too: *, or a tag of the current version, is 412 and changes nothing', async () => {
    const region = '410310';
    const auth = await bearer({ region });
    const unit = await put(ctx.app, 'org-units', region, 'INM-BY-ID', anOrgUnit({ name: '原名' }));
    const byId = `/v1/org-units/${unit.id}`;
    for (const ifNoneMatch of ['*', `"${unit.version}"`]) {
      const headers = { ...auth, 'if-none-match': ifNoneMatch };
      const replaced = { ...anOrgUnit({ name: '改名' }), regionCode: region, externalId: 'INM-BY-ID' };
      const put412 = await ctx.app.inject({ method: 'PUT', url: byId, headers, payload: replaced });
      expect(put412.statusCode, put412.body).toBe(412);
      expect((await ctx.app.inject({ method: 'PATCH', url: byId, headers, payload: { name: '改名' } })).statusCode).toBe(412);
      expect((await ctx.app.inject({ method: 'DELETE', url: byId, headers })).statusCode).toBe(412);
      expect((await ctx.app.inject({ method: 'DELETE', url: `/v1/org-units/external/${region}/INM-BY-ID`, headers })).statusCode).toBe(412);
    }
    expect((await ctx.app.inject({ method: 'GET', url: byId, headers: auth })).json()).toMatchObject({ name: '原名', version: unit.version });
    // A tag of another version does not stop the write.
    const other = await ctx.app.inject({ method: 'PATCH', url: byId, headers: { ...auth, 'if-none-match': '"99"' }, payload: { name: '改名' } });
    expect(other.statusCode, other.body).toBe(200);
  });

  it('an entity tag this service never issued is a precondition that fails (412), not a bad request', async () => {
    const region = '410310';
    const auth = await bearer({ region });
    const url = `/v1/org-units/external/${region}/OPAQUE`;
    expect((await ctx.app.inject({ method: 'PUT', url, headers: auth, payload: anOrgUnit() })).statusCode).toBe(201);
    for (const tag of ['"99999999999999999999999"', '"-1"', '"abc"']) {
      const res = await ctx.app.inject({ method: 'PUT', url, headers: { ...auth, 'if-match': tag }, payload: anOrgUnit({ name: '改' }) });
      expect(res.statusCode, `${tag}: ${res.body}`).toBe(412);
    }
    // Nor does a tag that names the version in another spelling: tags compare as text.
    const zero = await ctx.app.inject({ method: 'PUT', url, headers: { ...auth, 'if-match': '"01"' }, payload: anOrgUnit({ name: '改' }) });
    expect(zero.statusCode, zero.body).toBe(412);
    // Text that is not an entity tag at all is still 400, at the header.
    const bad = await ctx.app.inject({ method: 'PUT', url, headers: { ...auth, 'if-match': '3' }, payload: anOrgUnit() });
    expect(bad.statusCode).toBe(400);
    expect(problemOf(bad).errors?.[0]).toMatchObject({ path: '/if-match', in: 'headers' });
  });
});

describe('ETags', () => {
  it('change when an officer’s summary does (a credential added): no stale 304', async () => {
    const region = '410302';
    const { officer } = await seedOfficer(ctx.app, region, 'E', { credential: false });
    const headers = await bearer({ region });
    const url = `/v1/officers/${officer.id}`;
    const before = await ctx.app.inject({ method: 'GET', url, headers });
    const tag = before.headers['etag'] as string;
    expect(tag).toMatch(new RegExp(`^"${officer.version}-[A-Za-z0-9_-]+"$`));
    expect((await ctx.app.inject({ method: 'GET', url, headers: { ...headers, 'if-none-match': tag } })).statusCode).toBe(304);
    expect((await ctx.app.inject({ method: 'GET', url, headers: { ...headers, 'if-none-match': `W/${tag}` } })).statusCode).toBe(304);

    await put(ctx.app, 'credentials', region, 'E-C', aCredential({ officerId: officer.id }));
    const after = await ctx.app.inject({ method: 'GET', url, headers: { ...headers, 'if-none-match': tag } });
    expect(after.statusCode).toBe(200);
    expect(after.json().version).toBe(officer.version);
    expect(after.json().summary.holdsValidCredential).toBe(true);
    expect(after.headers['etag']).not.toBe(tag);

    // Either form of the tag names the writable state: the old one still allows a write of this version.
    const write = await ctx.app.inject({
      method: 'PATCH',
      url,
      headers: { ...headers, 'if-match': tag },
      payload: { position: '副中队长' },
    });
    expect(write.statusCode, write.body).toBe(200);
    expect(write.headers['etag']).toMatch(new RegExp(`^"${officer.version + 1}-`));
  });

  it('stay "<version>" for a record that embeds nothing derived', async () => {
    const unit = await ctx.app.inject({
      method: 'PUT',
      url: '/v1/org-units/external/410303/PLAIN',
      headers: await bearer({ region: '410303' }),
      payload: anOrgUnit(),
    });
    expect(unit.headers['etag']).toBe('"1"');
  });
});

describe('unknown query parameters', () => {
  it('are 400 naming them, on lists, reads, the feed and the audit log', async () => {
    const region = '410304';
    const headers = await bearer({ region });
    const unit = await put(ctx.app, 'org-units', region, 'Q', anOrgUnit());
    const cases: [string, string][] = [
      ['/v1/officers?employment_status=active', 'employment_status'],
      [`/v1/org-units/${unit.id}?expand=all`, 'expand'],
      ['/v1/audit?page=2', 'page'],
    ];
    for (const [url, name] of cases) {
      const res = await ctx.app.inject({ method: 'GET', url, headers });
      expect(res.statusCode, url).toBe(400);
      const problem = problemOf(res);
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors).toEqual([expect.objectContaining({ path: `/${name}`, in: 'query' })]);
      expect(problem.errors![0]!.message).toContain(name);
    }
    const feed = await ctx.app.inject({ method: 'GET', url: '/v1/changes?cursor=abc', headers });
    expect(feed.statusCode).toBe(400);
    expect(problemOf(feed).errors![0]!.message).toMatch(/after/);
  });

  it('are reported 50 at most, however many are sent', async () => {
    const names = Array.from({ length: 1000 }, (_, i) => `p${i}`);
    const res = await ctx.app.inject({ method: 'GET', url: `/v1/officers?${names.map((n) => `${n}=1`).join('&')}`, headers: await bearer({ region: '410304' }) });
    expect(res.statusCode).toBe(400);
    const problem = problemOf(res);
    expect(problem.errors).toHaveLength(50);
    expect(problem.errors![0]).toMatchObject({ path: '/p0', in: 'query' });
    expect(problem.detail).toContain('1000 in all');
    expect(res.body.length).toBeLessThan(20_000);
  });

  it('known ones still work', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/officers?employmentStatus=active&limit=5', headers: await bearer({ region: '410304' }) });
    expect(res.statusCode).toBe(200);
  });
});

describe('JWT typ', () => {
  const sign = (typ: string | undefined) =>
    new SignJWT({ scope: 'records:read', region: '410305', client_id: 'c' })
      .setProtectedHeader(typ ? { alg: 'HS256', typ } : { alg: 'HS256' })
      .setSubject('s')
      .setIssuer(testConfig.JWT_ISSUER)
      .setAudience(testConfig.JWT_AUDIENCE)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));

  it.each(['id_token', 'JWT', 'dpop+jwt', undefined])('typ %s is 401 by default', async (typ) => {
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/org-units', headers: { authorization: `Bearer ${await sign(typ)}` } });
    expect(res.statusCode).toBe(401);
    expect(problemOf(res).detail).toMatch(/typ/);
  });

  it.each(['at+jwt', 'application/at+jwt', 'AT+JWT'])('typ %s is accepted', async (typ) => {
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/org-units', headers: { authorization: `Bearer ${await sign(typ)}` } });
    expect(res.statusCode).toBe(200);
  });

  it('JWT_ALLOWED_TYPES widens the list for providers that send "JWT"', async () => {
    const config = loadConfig({ JWT_SECRET: TEST_JWT_SECRET, PII_ENCRYPTION_KEY: testConfig.PII_ENCRYPTION_KEY, JWT_ALLOWED_TYPES: 'at+jwt, JWT' });
    expect(config.JWT_ALLOWED_TYPES).toEqual(['at+jwt', 'jwt']);
    const verifier = await createTokenVerifier({
      keys: { kind: 'secret', secret: TEST_JWT_SECRET },
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      allowedTypes: config.JWT_ALLOWED_TYPES,
    });
    await expect(verifier.verify(await sign('JWT'))).resolves.toMatchObject({ region: '410305' });
    await expect(verifier.verify(await sign('id_token'))).rejects.toMatchObject({ status: 401 });
  });
});

describe('request ids and HEAD in the audit log', () => {
  it('an invalid x-request-id is replaced before it reaches the audit log', async () => {
    const region = '410306';
    const bad = 'evil id\twith spaces<script>'.padEnd(60, 'x');
    const tooLong = 'a'.repeat(129);
    for (const given of [bad, tooLong]) {
      const res = await ctx.app.inject({
        method: 'PUT',
        url: `/v1/org-units/external/${region}/RID-${given.length}`,
        headers: { ...(await bearer({ region })), 'x-request-id': given },
        payload: anOrgUnit(),
      });
      expect(res.statusCode).toBe(201);
      expect(res.headers['x-request-id']).not.toBe(given);
    }
    const good = await ctx.app.inject({
      method: 'PUT',
      url: `/v1/org-units/external/${region}/RID-OK`,
      headers: { ...(await bearer({ region })), 'x-request-id': 'sync-2024.07:batch_1' },
      payload: anOrgUnit(),
    });
    expect(good.headers['x-request-id']).toBe('sync-2024.07:batch_1');
    const entries = await auditEntries(ctx.app, await bearer({ region }), { regionCode: region });
    const ids = entries.map((e) => e.requestId);
    expect(ids).toContain('sync-2024.07:batch_1');
    expect(ids).not.toContain(bad);
    expect(ids).not.toContain(tooLong);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  });

  it('HEAD with pii:read writes no read_pii audit row; GET does', async () => {
    const region = '410307';
    const { officer } = await seedOfficer(ctx.app, region, 'H', { credential: false });
    const headers = await bearer({ region });
    const reads = async () => (await auditEntries(ctx.app, headers, { regionCode: region, op: 'read_pii' })).length;
    // Seeding with a pii:read token audited the write responses; count from here.
    const before = await reads();
    const head = await ctx.app.inject({ method: 'HEAD', url: `/v1/officers/${officer.id}`, headers });
    expect(head.statusCode).toBe(200);
    const headList = await ctx.app.inject({ method: 'HEAD', url: `/v1/officers?regionCode=${region}`, headers });
    expect(headList.statusCode).toBe(200);
    expect(await reads()).toBe(before);
    const get = await ctx.app.inject({ method: 'GET', url: `/v1/officers/${officer.id}`, headers });
    expect(get.statusCode).toBe(200);
    expect(get.headers['etag']).toBe(head.headers['etag']);
    expect(await reads()).toBe(before + 1);
  });
});

describe('log redaction of personal query parameters', () => {
  it.each([
    '/v1/officers?%69dCardNumber=VALUE',
    '/v1/officers?idcardnumber=VALUE',
    '/v1/officers?IDCARDNUMBER=VALUE&limit=5',
    '/v1/officers?limit=5&%70hone=VALUE',
    '/v1/officers?id%43ard%4Eumber=VALUE#x',
    '/v1/officers?%ZZ=VALUE',
    '/v1/officers?idCardNumber[]=VALUE',
    '/v1/officers?idCardNumber%5B%5D=VALUE',
    '/v1/officers?phone[0]=VALUE',
  ])('%s', (url) => {
    expect(redactUrl(url)).not.toContain('VALUE');
  });

  it('keeps other parameters readable', () => {
    expect(redactUrl('/v1/officers?limit=5&namePrefix=%E5%BC%A0&idCardNumber=1')).toBe(
      '/v1/officers?limit=5&namePrefix=%E5%BC%A0&idCardNumber=[redacted]',
    );
  });

  it('applies to the logged request line', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const app = await buildApp({
      config: testConfig,
      database: ctx.database,
      logger: { ...(loggerOptions({ LOG_LEVEL: 'info' }) as object), stream },
    });
    try {
      const identity = anIdentity();
      await app.inject({ method: 'GET', url: `/v1/officers?%69dCardNumber=${identity.idCardNumber}`, headers: await bearer({ region: '410308' }) });
      const log = lines.join('');
      expect(log).toContain('[redacted]');
      expect(log).not.toContain(identity.idCardNumber);
    } finally {
      await app.close();
    }
  });
});

/**
 * A second app on this file's database, listening, for what happens before Fastify's inject (the HTTP parser,
 * pipelining): its port, once the describe's `beforeAll` has run.
 */
function useListeningApp(): { port: () => number } {
  let app: App | undefined;
  let port = 0;
  beforeAll(async () => {
    app = await buildApp({ config: testConfig, database: ctx.database });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app?.close();
  });
  return { port: () => port };
}

describe('pipelined requests', () => {
  const listening = useListeningApp();

  /** Sends `requests` in one packet, the last asking to close; the answers' statuses and bodies, in order. */
  function pipelined(requests: string[], port = listening.port()): Promise<{ status: number; body: string }[]> {
    return new Promise((resolve, reject) => {
      let text = '';
      const socket = connect({ host: '127.0.0.1', port }, () => {
        const last = requests.length - 1;
        socket.write(requests.map((r, i) => (i === last ? r.replace('\r\n', '\r\nConnection: close\r\n') : r)).join(''));
      });
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('error', reject);
      socket.on('close', () =>
        resolve(
          text
            .split(/(?=HTTP\/1\.1 \d{3} )/)
            .map((answer) => ({ status: Number(answer.slice(9, 12)), body: answer.slice(answer.indexOf('\r\n\r\n') + 4) })),
        ),
      );
    });
  }

  const request = (method: string, path: string, authorization: string, body?: string) =>
    `${method} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${authorization}\r\n` +
    (body === undefined ? '\r\n' : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);

  it('are carried out in the order sent when one is a write: a read behind a write sees it, the last write wins', async () => {
    const region = '410309';
    const { authorization } = await bearer({ region });
    const path = `/v1/org-units/external/${region}/ORDER`;
    const named = (name: string) => JSON.stringify(anOrgUnit({ name }));
    const writes = Array.from({ length: 8 }, (_, i) => request('PUT', path, authorization, named(`第${i}次`)));
    const answers = await pipelined([...writes, request('GET', path, authorization)]);
    expect(answers.map((a) => a.status)).toEqual([201, 200, 200, 200, 200, 200, 200, 200, 200]);
    expect(JSON.parse(answers[8]!.body)).toMatchObject({ name: '第7次', version: 8 });

    // A delete behind the write it follows deletes what that write made; the read behind it finds nothing.
    const gone = `/v1/org-units/external/${region}/ORDER-DEL`;
    const deleted = await pipelined([request('PUT', gone, authorization, named('删除')), request('DELETE', gone, authorization), request('GET', gone, authorization)]);
    expect(deleted.map((a) => a.status)).toEqual([201, 204, 404]);
  });

  it('behind an answer that closes the connection (a body that is not JSON), nothing is carried out', async () => {
    const region = '410309';
    const { authorization } = await bearer({ region });
    const after = `/v1/org-units/external/${region}/AFTER-CLOSE`;
    const answers = await pipelined([
      request('PUT', `/v1/org-units/external/${region}/NOT-JSON`, authorization, '{bad'),
      request('PUT', after, authorization, JSON.stringify(anOrgUnit())),
      request('GET', after, authorization),
    ]);
    expect(answers.map((a) => a.status)).toEqual([400]);
    // The write behind it was not answered, and so not carried out.
    expect((await ctx.app.inject({ method: 'GET', url: after, headers: { authorization } })).statusCode).toBe(404);
  });

  it('reads pipelined behind reads are still worked out at once', async () => {
    const region = '410309';
    const { authorization } = await bearer({ region });
    // Three reads of a route that is slow on purpose would take three times as long one after another.
    let running = 0;
    let most = 0;
    const slow = await buildApp({ config: testConfig, database: ctx.database });
    slow.get('/v1/slow', { config: { scope: 'records:read' } }, async () => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 100));
      running--;
      return { ok: true };
    });
    await slow.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = (slow.server.address() as AddressInfo).port;
      const answers = await pipelined([1, 2, 3].map(() => request('GET', '/v1/slow', authorization)), port);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(most).toBe(3);
    } finally {
      await slow.close();
    }
  });
});

describe('errors from the HTTP parser', () => {
  const listening = useListeningApp();

  function raw(path: string, headers: Record<string, string>) {
    return new Promise<{ status: number; type: string | undefined; requestId: unknown; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: listening.port(), path, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], requestId: res.headers['x-request-id'], body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('headers too large: 431 as problem+json', async () => {
    const res = await raw('/healthz', { 'x-padding': 'x'.repeat(20_000) });
    expect(res.status).toBe(431);
    expect(res.type).toBe('application/problem+json; charset=utf-8');
    // Like every other problem, with a request id in the body and the header.
    expect(JSON.parse(res.body)).toMatchObject({ status: 431, code: 'headers_too_large', requestId: res.requestId });
    expect(res.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('after pipelined requests, the answers to those come first and in order, then the 400', async () => {
    const region = '410306';
    const { authorization } = await bearer({ region });
    const body = JSON.stringify(anOrgUnit({ name: '管道化写入' }));
    const received = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect({ host: '127.0.0.1', port: listening.port() }, () => {
        // One write: a read, a write that commits, another read, then bytes that are not HTTP.
        socket.write(
          'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' +
            `PUT /v1/org-units/external/${region}/PIPE HTTP/1.1\r\nHost: x\r\nAuthorization: ${authorization}\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}` +
            'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' +
            'GARBAGE\r\n\r\n',
        );
      });
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([200, 201, 200, 400]);
    // The write the client was answered 201 for is there.
    const read = await ctx.app.inject({ method: 'GET', url: `/v1/org-units/external/${region}/PIPE`, headers: { authorization } });
    expect(read.json()).toMatchObject({ version: 1, name: '管道化写入' });
  });

  it('a large answer still being sent when garbage keeps arriving is delivered whole, then the 400', async () => {
    const received = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = connect({ host: '127.0.0.1', port: listening.port() }, () => {
        socket.pause(); // the client reads late: the answer queues up in the server's socket
        socket.write('GET /openapi.json HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n\u0001bad\r\n');
        setTimeout(() => socket.write('\u0001bad again\r\n\r\n'), 200);
        setTimeout(() => socket.resume(), 500);
      });
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('close', () => resolve(Buffer.concat(chunks)));
      socket.on('error', reject);
    });
    const text = received.toString('latin1');
    const length = Number(/content-length: (\d+)/i.exec(text)?.[1]);
    const bodyStart = text.indexOf('\r\n\r\n') + 4;
    expect(text.slice(0, 15)).toBe('HTTP/1.1 200 OK');
    expect(length).toBeGreaterThan(100_000);
    // The whole 200, then the 400 for the bytes after it.
    expect(text.slice(bodyStart + length)).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('a request line too long: 414 as problem+json', async () => {
    const res = await raw(`/healthz?${'q'.repeat(20_000)}`, {});
    expect(res.status).toBe(414);
    expect(res.type).toBe('application/problem+json; charset=utf-8');
    expect(JSON.parse(res.body)).toMatchObject({ status: 414, code: 'uri_too_long', title: 'URI too long', requestId: res.requestId });
  });
});
