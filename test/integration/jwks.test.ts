/**
 * Production keys: tokens signed by an identity provider and verified against its JWKS endpoint, with the
 * algorithm pinned (DESIGN §5). The JWKS is served by a local HTTP server on 127.0.0.1.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type KeyObject } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { createTokenVerifier } from '../../src/security/tokens.js';
import { openTestDatabase, testConfig } from '../support/context.js';

type Key = CryptoKey | KeyObject;
let server: Server;
let url: string;
let signing: { privateKey: Key; publicKey: Key };
let app: App;
let drop: () => Promise<void>;

function sign(privateKey: Key, alg: string, claims: Record<string, unknown> = {}) {
  return new SignJWT({ scope: 'records:read', region: '410100', ...claims })
    .setProtectedHeader({ alg, kid: 'k1', typ: 'at+jwt' })
    .setIssuer(testConfig.JWT_ISSUER)
    .setAudience(testConfig.JWT_AUDIENCE)
    .setSubject('platform-410100')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey);
}

beforeAll(async () => {
  signing = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(signing.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  const opened = await openTestDatabase();
  drop = opened.drop;
  app = await buildApp({
    config: { ...testConfig, JWT_SECRET: undefined, JWT_JWKS_URL: url, JWT_ALGORITHM: 'ES256' },
    database: opened.database,
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await drop?.();
  await new Promise((resolve) => server.close(resolve));
});

describe('JWKS verification', () => {
  it('accepts a token signed by the provider and answers the request', async () => {
    const token = await sign(signing.privateKey, 'ES256');
    const res = await app.inject({ method: 'GET', url: '/v1/org-units', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode, res.body).toBe(200);
  });

  it('refuses a token signed by another key with the same kid', async () => {
    const other = await generateKeyPair('ES256');
    const token = await sign(other.privateKey, 'ES256');
    const res = await app.inject({ method: 'GET', url: '/v1/org-units', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'unauthorized' });
  });

  it('refuses any algorithm but the pinned one, and an HS256 token made with the public key as secret', async () => {
    const rsa = await generateKeyPair('RS256');
    const verifier = await createTokenVerifier({
      keys: { kind: 'jwks', url, algorithm: 'ES256' },
      issuer: testConfig.JWT_ISSUER,
      audience: testConfig.JWT_AUDIENCE,
    });
    await expect(verifier.verify(await sign(rsa.privateKey, 'RS256'))).rejects.toMatchObject({ code: 'unauthorized' });
    const confused = await sign(new TextEncoder().encode(JSON.stringify(await exportJWK(signing.publicKey))) as unknown as Key, 'HS256');
    await expect(verifier.verify(confused)).rejects.toMatchObject({ code: 'unauthorized' });
  });
});
