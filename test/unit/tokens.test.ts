import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runTokenCommand, TokenCliError } from '../../src/cli/token.js';
import { AppError } from '../../src/errors.js';
import { loadOrCreateDevKeys } from '../../src/security/dev-keys.js';
import { createTokenVerifier, mintToken, parseTtl, type TokenVerifier } from '../../src/security/tokens.js';

// Count signature verifications: tokens.ts calls jose's jwtVerify for every token it actually verifies.
vi.mock('jose', async (importOriginal) => {
  const actual = await importOriginal<typeof import('jose')>();
  return { ...actual, jwtVerify: vi.fn(actual.jwtVerify) };
});
const verifications = vi.mocked(jwtVerify);

const SECRET = 'unit-test-secret-that-is-long-enough!';
const ISSUER = 'officer-registry';
const AUDIENCE = 'officer-registry';
const encoder = new TextEncoder();

function mint(overrides: Partial<Parameters<typeof mintToken>[0]> = {}) {
  return mintToken({
    secret: SECRET,
    issuer: ISSUER,
    audience: AUDIENCE,
    region: '410100',
    scope: 'records:read records:write',
    sub: 'platform-zz',
    clientId: 'zz-platform',
    ttlSeconds: 600,
    ...overrides,
  });
}

const hsVerifier = () => createTokenVerifier({ keys: { kind: 'secret', secret: SECRET }, issuer: ISSUER, audience: AUDIENCE });

/** Resolves to the AppError the verifier rejects with. */
async function refusal(verifier: TokenVerifier, token: string): Promise<AppError> {
  const error = await verifier.verify(token).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error, 'the token was accepted').toBeInstanceOf(AppError);
  expect(error).toMatchObject({ status: 401, code: 'unauthorized' });
  return error as AppError;
}

const now = () => Math.floor(Date.now() / 1000);
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claims = (overrides: Record<string, unknown> = {}) => ({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'x',
  scope: 'records:read',
  region: '410100',
  iat: now(),
  exp: now() + 600,
  ...overrides,
});

beforeEach(() => {
  verifications.mockClear();
});

describe('HS256 tokens (DESIGN §5)', () => {
  it('round-trips: a minted token verifies to its principal', async () => {
    const token = await mint();
    const principal = await (await hsVerifier()).verify(token);
    expect(principal.sub).toBe('platform-zz');
    expect(principal.clientId).toBe('zz-platform');
    expect(principal.region).toBe('410100');
    expect([...principal.scopes]).toEqual(['records:read', 'records:write']);
    expect(principal.exp).toBeGreaterThan(now() + 590);
    expect(principal.exp).toBeLessThanOrEqual(now() + 600);
    const [header] = token.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'at+jwt' });
  });

  it('checks iss', async () => {
    const error = await refusal(await hsVerifier(), await mint({ issuer: 'someone-else' }));
    expect(error.detail).toBe('The token\'s "iss" claim is not accepted.');
  });

  it('checks aud', async () => {
    const error = await refusal(await hsVerifier(), await mint({ audience: 'another-service' }));
    expect(error.detail).toBe('The token\'s "aud" claim is not accepted.');
  });

  it('checks exp', async () => {
    const error = await refusal(await hsVerifier(), await mint({ ttlSeconds: -60 }));
    expect(error.detail).toBe('The token has expired.');
  });

  it('requires exp to be present', async () => {
    const { exp: _exp, ...withoutExp } = claims();
    const token = await new SignJWT(withoutExp).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(encoder.encode(SECRET));
    await refusal(await hsVerifier(), token);
  });

  it('refuses a wrong signature', async () => {
    const error = await refusal(await hsVerifier(), await mint({ secret: 'another-secret-that-is-also-long-enough' }));
    expect(error.detail).toBe('The token signature is invalid.');
  });

  it('refuses a token without a valid region claim', async () => {
    for (const region of [undefined, '4101', 410100]) {
      const token = await new SignJWT(claims({ region })).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(encoder.encode(SECRET));
      const error = await refusal(await hsVerifier(), token);
      expect(error.detail).toMatch(/region/);
    }
  });
});

describe('the algorithm is pinned to HS256 for a secret', () => {
  it('refuses an RS256 token', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' }).sign(privateKey);
    const error = await refusal(await hsVerifier(), token);
    expect(error.detail).toBe('The token is signed with an algorithm this service does not accept.');
  });

  it('refuses an HS512 token signed with the same secret', async () => {
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS512' }).sign(encoder.encode(SECRET));
    const error = await refusal(await hsVerifier(), token);
    expect(error.detail).toBe('The token is signed with an algorithm this service does not accept.');
  });

  it('refuses an unsigned token (alg: none)', async () => {
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims())}.`;
    await refusal(await hsVerifier(), token);
  });
});

describe('verified tokens are cached (DESIGN §5, §9)', () => {
  afterEach(() => vi.useRealTimers());

  it('verifies a token once and serves it from the cache afterwards', async () => {
    const verifier = await hsVerifier();
    const token = await mint();
    const first = await verifier.verify(token);
    expect(verifications).toHaveBeenCalledTimes(1);
    const second = await verifier.verify(token);
    expect(verifications).toHaveBeenCalledTimes(1);
    expect(second).toBe(first);
    // Another token is verified on its own.
    await verifier.verify(await mint({ sub: 'someone-else' }));
    expect(verifications).toHaveBeenCalledTimes(2);
  });

  it('accepts a token only as it was signed: another spelling of the same bytes is refused, and not cached', async () => {
    const verifier = await hsVerifier();
    const token = await mint();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // The signature's last character carries 2 spare bits: flipping one spells the same 32 bytes otherwise.
    const last = alphabet.indexOf(token.at(-1)!);
    const respelled = [`${token.slice(0, -1)}${alphabet[last ^ 1]}`, `${token}=`];
    for (const variant of respelled) expect(Buffer.from(variant.split('.')[2]!, 'base64url')).toEqual(Buffer.from(token.split('.')[2]!, 'base64url'));
    await verifier.verify(token);
    for (const variant of respelled) expect((await refusal(verifier, variant)).detail).toBe('The token is malformed or cannot be verified.');
    expect(verifier.cached!(respelled[0]!)).toBeUndefined();
  });

  it('never caches a refused token', async () => {
    const verifier = await hsVerifier();
    const forged = await mint({ secret: 'another-secret-that-is-also-long-enough' });
    await refusal(verifier, forged);
    await refusal(verifier, forged);
    expect(verifications).toHaveBeenCalledTimes(2);
  });

  it('does not serve a cached token past its exp', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2025-06-01T00:00:00Z'));
    const verifier = await hsVerifier();
    const token = await mint({ ttlSeconds: 60 });
    await verifier.verify(token);
    vi.setSystemTime(new Date('2025-06-01T00:02:00Z'));
    const error = await refusal(verifier, token);
    expect(error.detail).toBe('The token has expired.');
    // Its exp is known from the cache: refused without verifying it again.
    expect(verifications).toHaveBeenCalledTimes(1);
  });

  it('refuses an expired token for good: verified once, then refused from memory (bounded)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2025-06-01T00:00:00Z'));
    const verifier = await createTokenVerifier({ keys: { kind: 'secret', secret: SECRET }, issuer: ISSUER, audience: AUDIENCE, cacheSize: 1 });
    const [a, b] = await Promise.all(['a', 'b'].map((sub) => mint({ sub, ttlSeconds: 60 })));
    vi.setSystemTime(new Date('2025-06-01T00:02:00Z'));
    for (let i = 0; i < 3; i++) expect((await refusal(verifier, a!)).detail).toBe('The token has expired.');
    expect(verifications).toHaveBeenCalledTimes(1);
    // One remembered at a time here: b takes a's place, and a is verified again.
    await refusal(verifier, b!);
    await refusal(verifier, a!);
    expect(verifications).toHaveBeenCalledTimes(3);
    // A refusal for any other reason is not remembered (the existing test: a forged token is verified each time).
  });

  it('stays bounded: beyond cacheSize the oldest entry is verified again', async () => {
    const verifier = await createTokenVerifier({ keys: { kind: 'secret', secret: SECRET }, issuer: ISSUER, audience: AUDIENCE, cacheSize: 2 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((sub) => mint({ sub })));
    for (const token of [a!, b!, c!]) await verifier.verify(token);
    expect(verifications).toHaveBeenCalledTimes(3);
    await verifier.verify(c!); // still cached
    expect(verifications).toHaveBeenCalledTimes(3);
    await verifier.verify(a!); // dropped as the oldest
    expect(verifications).toHaveBeenCalledTimes(4);
  });

  it('answers `cached` only for a token verify accepted, unexpired, still held', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2025-06-01T00:00:00Z'));
    const verifier = await createTokenVerifier({ keys: { kind: 'secret', secret: SECRET }, issuer: ISSUER, audience: AUDIENCE, cacheSize: 2 });
    const token = await mint({ ttlSeconds: 60 });
    // Never verified, or refused: nothing to answer from.
    expect(verifier.cached!(token)).toBeUndefined();
    const forged = await mint({ secret: 'another-secret-that-is-also-long-enough' });
    await refusal(verifier, forged);
    expect(verifier.cached!(forged)).toBeUndefined();

    const principal = await verifier.verify(token);
    expect(verifier.cached!(token)).toBe(principal);
    expect(verifications).toHaveBeenCalledTimes(2);
    // One second before exp still served; at exp and after, not — and dropped, so verify checks it in full.
    vi.setSystemTime(new Date('2025-06-01T00:00:59Z'));
    expect(verifier.cached!(token)).toBe(principal);
    vi.setSystemTime(new Date('2025-06-01T00:01:00Z'));
    expect(verifier.cached!(token)).toBeUndefined();
    expect((await refusal(verifier, token)).detail).toBe('The token has expired.');

    // Bounded: the oldest of three is no longer held.
    vi.setSystemTime(new Date('2025-06-01T00:00:00Z'));
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((sub) => mint({ sub })));
    for (const t of [a!, b!, c!]) await verifier.verify(t);
    expect(verifier.cached!(a!)).toBeUndefined();
    expect(verifier.cached!(b!)).toBeDefined();
    expect(verifier.cached!(c!)).toBeDefined();
  });
});

describe('RS256 with a public key file (JWT_PUBLIC_KEY_FILE)', () => {
  let dir: string;
  let keyFile: string;
  let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  let verifier: TokenVerifier;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    privateKey = pair.privateKey;
    dir = await mkdtemp(join(tmpdir(), 'or-jwt-'));
    keyFile = join(dir, 'public.pem');
    await writeFile(keyFile, await exportSPKI(pair.publicKey));
    verifier = await createTokenVerifier({
      keys: { kind: 'public-key-file', path: keyFile, algorithm: 'RS256' },
      issuer: ISSUER,
      audience: AUDIENCE,
    });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('accepts a token signed with the matching private key', async () => {
    const token = await new SignJWT(claims({ sub: 'idp-user', client_id: 'idp-client', scope: 'stats:read' }))
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' })
      .sign(privateKey);
    const principal = await verifier.verify(token);
    expect(principal).toMatchObject({ sub: 'idp-user', clientId: 'idp-client', region: '410100' });
    expect([...principal.scopes]).toEqual(['stats:read']);
  });

  it('refuses a token signed by another key', async () => {
    const other = await generateKeyPair('RS256');
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' }).sign(other.privateKey);
    const error = await refusal(verifier, token);
    expect(error.detail).toBe('The token signature is invalid.');
  });

  it('refuses an HS256 token (no algorithm confusion with the public key)', async () => {
    await refusal(verifier, await mint());
  });

  it('checks iss and aud as with a secret', async () => {
    for (const overrides of [{ iss: 'evil' }, { aud: 'elsewhere' }]) {
      const token = await new SignJWT(claims(overrides)).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' }).sign(privateKey);
      await refusal(verifier, token);
    }
  });
});

describe('parseTtl', () => {
  it.each([
    ['3600', 3600],
    ['45s', 45],
    ['30m', 1800],
    ['1h', 3600],
    ['2d', 172_800],
  ])('%s → %d seconds', (input, seconds) => expect(parseTtl(input)).toBe(seconds));

  it.each(['', '1y', '-5', '1.5h', 'h'])('refuses %j', (input) => expect(() => parseTtl(input)).toThrow(/invalid TTL/));
});

describe('npm run token (src/cli/token.ts)', () => {
  const env = { JWT_SECRET: SECRET };

  it('mints a token the service accepts, with the given claims', async () => {
    const { token } = await runTokenCommand(
      ['--region', '410100', '--scope', 'records:read records:write', '--sub', 'alice', '--client-id', 'curl', '--ttl', '30m'],
      env,
    );
    const principal = await (await hsVerifier()).verify(token!);
    expect(principal).toMatchObject({ sub: 'alice', clientId: 'curl', region: '410100' });
    expect([...principal.scopes]).toEqual(['records:read', 'records:write']);
    expect(principal.exp - now()).toBeGreaterThan(1790);
    expect(principal.exp - now()).toBeLessThanOrEqual(1800);
  });

  it('prints help', async () => {
    const result = await runTokenCommand(['--help'], {});
    expect(result.token).toBeUndefined();
    expect(result.help).toMatch(/^Usage: npm run token -- --region/);
  });

  it.each([
    [[], /--region is required/],
    [['--region', '4101', '--scope', 'records:read'], /--region must be a 6-digit/],
    [['--region', '410100'], /--scope is required/],
    [['--region', '410100', '--scope', ' '], /--scope is empty/],
    [['--region', '410100', '--scope', 'records:read records:delete'], /unknown scope "records:delete"/],
    [['--region', '410100', '--scope', 'records:read', '--ttl', 'forever'], /--ttl: invalid TTL/],
    [['--region', '410100', '--scope', 'records:read', '--ttl', '0'], /--ttl must be longer than 0/],
    [['--regoin', '410100'], /Unknown option '--regoin'/],
    [['--region', '410100', '--scope', 'records:read', 'extra'], /Unexpected argument 'extra'/],
  ])('refuses %j with one line', async (argv, message) => {
    const error = await runTokenCommand(argv, env).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(TokenCliError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('refuses to sign when the service verifies with a public key', async () => {
    await expect(
      runTokenCommand(['--region', '410100', '--scope', 'records:read'], { JWT_PUBLIC_KEY_FILE: '/etc/registry/jwt.pem' }),
    ).rejects.toThrow(/JWT_PUBLIC_KEY_FILE; npm run token signs with JWT_SECRET only/);
  });

  it('reports a bad environment as a TokenCliError', async () => {
    await expect(runTokenCommand(['--region', '410100', '--scope', 'records:read'], { JWT_SECRET: 'short' })).rejects.toThrow(
      /Invalid configuration: JWT_SECRET: must be at least 32 characters/,
    );
  });

  it('without JWT_SECRET and DATABASE_URL, signs with the development secret npm start uses', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'or-data-'));
    try {
      const pgliteDir = join(dataDir, 'pglite');
      const first = await runTokenCommand(['--region', '410000', '--scope', 'audit:read'], { PGLITE_DIR: pgliteDir });
      expect(first.notes.join()).toMatch(/created development keys/);
      // What openRuntime (npm start) loads for the same data folder.
      const { keys, created } = await loadOrCreateDevKeys(pgliteDir);
      expect(created).toBe(false);
      const verifier = await createTokenVerifier({ keys: { kind: 'secret', secret: keys.jwtSecret }, issuer: ISSUER, audience: AUDIENCE });
      expect((await verifier.verify(first.token!)).region).toBe('410000');
      const second = await runTokenCommand(['--region', '410000', '--scope', 'audit:read'], { PGLITE_DIR: pgliteDir });
      expect(second.notes).toEqual([]);
      expect((await verifier.verify(second.token!)).scopes.has('audit:read')).toBe(true);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
