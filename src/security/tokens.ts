import { readFile } from 'node:fs/promises';
import {
  SignJWT,
  createRemoteJWKSet,
  errors as joseErrors,
  importSPKI,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type KeyObject,
} from 'jose';
import { z } from 'zod';
import { AppError, unauthorized } from '../errors.js';
import { REGION_CODE_PATTERN } from '../domain/region.js';
import { hasLoneSurrogate } from '../domain/text.js';

/** `identities:bulk` lifts the budget of new ID numbers an hour, for initial loads (records/identity-throttle.ts). */
export const SCOPES = ['records:read', 'records:write', 'pii:read', 'stats:read', 'audit:read', 'identities:bulk'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling, from a verified access token (RFC 9068 shape). */
export interface Principal {
  sub: string;
  clientId: string | undefined;
  scopes: ReadonlySet<string>;
  /** GB/T 2260 code of the caller's jurisdiction. */
  region: string;
  /** Seconds since the epoch. */
  exp: number;
}

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
  /**
   * The principal of a token `verify` already accepted and that has not expired since, without a promise;
   * undefined for any other token (which then needs `verify`). Optional: a verifier without a cache has none.
   */
  cached?(token: string): Principal | undefined;
}

export type KeySource =
  | { kind: 'secret'; secret: string }
  | { kind: 'jwks'; url: string; algorithm: 'RS256' | 'ES256' | 'EdDSA' }
  | { kind: 'public-key-file'; path: string; algorithm: 'RS256' | 'ES256' | 'EdDSA' };

export interface VerifierOptions {
  keys: KeySource;
  issuer: string;
  audience: string;
  /**
   * Accepted `typ` header values, lower-case without `application/` (RFC 9068 access tokens: `at+jwt`).
   * A token without `typ`, or of another type (an ID token, a DPoP proof), is refused.
   */
  allowedTypes?: readonly string[];
  /** Verified tokens kept until they expire; the oldest are dropped beyond this many. */
  cacheSize?: number;
}

const textEncoder = new TextEncoder();

/** Imports the key once and returns a verifier that pins the algorithm and checks iss, aud and exp. */
export async function createTokenVerifier(options: VerifierOptions): Promise<TokenVerifier> {
  let key: Uint8Array | KeyObject | JWTVerifyGetKey;
  let algorithms: string[];
  switch (options.keys.kind) {
    case 'secret':
      key = textEncoder.encode(options.keys.secret);
      algorithms = ['HS256'];
      break;
    case 'jwks':
      key = createRemoteJWKSet(new URL(options.keys.url), { cooldownDuration: 30_000, cacheMaxAge: 600_000 });
      algorithms = [options.keys.algorithm];
      break;
    case 'public-key-file':
      key = await importSPKI(await readFile(options.keys.path, 'utf8'), options.keys.algorithm);
      algorithms = [options.keys.algorithm];
      break;
  }
  const allowedTypes = new Set((options.allowedTypes ?? ['at+jwt']).map(normalizeType));
  const cacheSize = options.cacheSize ?? 10_000;
  const cache = new Map<string, Principal>();
  /**
   * Tokens refused as expired. Unlike any other refusal this one is for good — the signature was checked
   * first, and a token's exp never moves — so a client that goes on sending its old token (a platform whose
   * refresh broke, in a loop) is refused without verifying it again. A refusal comes before the rate limit
   * can count the client, so each would otherwise cost a full verification. Bounded like the cache.
   */
  const expired = new Set<string>();
  /** Drops the oldest of `cacheSize` entries (of the cache or the expired set) to make room for one more. */
  const makeRoom = (held: Map<string, unknown> | Set<string>) => {
    if (held.size < cacheSize) return;
    const oldest = held.keys().next();
    if (!oldest.done) held.delete(oldest.value);
  };
  const rememberExpired = (token: string) => {
    makeRoom(expired);
    expired.add(token);
  };

  async function verifyUncached(token: string): Promise<Principal> {
    // Before the caches can hold it: one token, one spelling (see `canonical`).
    if (!canonical(token)) throw unauthorized(MALFORMED);
    let payload: JWTPayload;
    try {
      // A function key and a static key take different overloads; both pin the algorithm list.
      const verifyOptions = {
        issuer: options.issuer,
        audience: options.audience,
        algorithms,
        requiredClaims: ['exp', 'sub'],
      };
      const result =
        typeof key === 'function' ? await jwtVerify(token, key, verifyOptions) : await jwtVerify(token, key, verifyOptions);
      payload = result.payload;
      const typ = result.protectedHeader.typ;
      if (typeof typ !== 'string' || !allowedTypes.has(normalizeType(typ))) {
        throw unauthorized(`The token's "typ" header must be one of: ${[...allowedTypes].join(', ')} (an access token, RFC 9068).`);
      }
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (err instanceof joseErrors.JWTExpired) rememberExpired(token);
      throw unauthorized(describeJoseError(err));
    }
    return principalFrom(payload);
  }

  function cached(token: string): Principal | undefined {
    const hit = cache.get(token);
    if (hit === undefined) return undefined;
    if (hit.exp > Date.now() / 1000) return hit;
    cache.delete(token);
    rememberExpired(token);
    return undefined;
  }

  return {
    cached,
    async verify(token) {
      const hit = cached(token);
      if (hit) return hit;
      if (expired.has(token)) throw unauthorized(EXPIRED);
      const principal = await verifyUncached(token);
      makeRoom(cache);
      cache.set(token, principal);
      return principal;
    },
  };
}

const normalizeType = (typ: string) => typ.trim().toLowerCase().replace(/^application\//, '');

/** Text a claim may carry into logs, the audit log and SQL: printable, well-formed, bounded. */
const ClaimText = z
  .string()
  .min(1)
  .max(255)
  .refine((v) => !hasLoneSurrogate(v) && !/[\u0000-\u001f\u007f]/.test(v), 'must be printable text');

/** The claims this service reads, by type: a signed token with anything else in them is still refused (401). */
const AccessTokenClaims = z.object({
  sub: ClaimText,
  client_id: ClaimText.optional(),
  scope: z.string().max(1000).regex(/^[\x21-\x7e ]*$/, 'must be space-separated scope names').optional(),
  region: z.string().regex(REGION_CODE_PATTERN, 'must be a 6-digit GB/T 2260 code'),
  exp: z.number().int(),
});

function principalFrom(payload: JWTPayload): Principal {
  const parsed = AccessTokenClaims.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const claim = String(issue.path[0] ?? 'claims');
    throw unauthorized(
      claim === 'region'
        ? 'The token has no valid "region" claim (a 6-digit GB/T 2260 code).'
        : claim === 'scope'
          ? 'The "scope" claim must be a space-separated string.'
          : `The token's "${claim}" claim is not valid: ${issue.message}.`,
    );
  }
  const claims = parsed.data;
  return {
    sub: claims.sub,
    clientId: claims.client_id,
    scopes: new Set((claims.scope ?? '').split(' ').filter(Boolean)),
    region: claims.region,
    exp: claims.exp,
  };
}

const EXPIRED = 'The token has expired.';
const MALFORMED = 'The token is malformed or cannot be verified.';

/**
 * Whether each part of a compact token is base64url as it is written. jose reads the parts leniently (`atob`
 * ignores the spare bits of a part's last character and takes `=` padding), so one token had eight accepted
 * spellings, each verified and kept apart by the caches, which key on the string.
 */
const canonical = (token: string) => token.split('.').every((part) => Buffer.from(part, 'base64url').toString('base64url') === part);

function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return EXPIRED;
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `The token's "${err.claim}" claim is not accepted.`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'The token is signed with an algorithm this service does not accept.';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'The token signature is invalid.';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'No key matches the token.';
  return MALFORMED;
}

export interface MintOptions {
  secret: string;
  issuer: string;
  audience: string;
  region: string;
  scope: string;
  sub?: string;
  clientId?: string;
  ttlSeconds?: number;
}

/** Signs an HS256 access token: for admins (`npm run token`) and tests. */
export async function mintToken(options: MintOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: options.scope, region: options.region, client_id: options.clientId ?? 'officer-registry-cli' })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(options.sub ?? 'admin')
    .setIssuedAt(now)
    .setJti(crypto.randomUUID())
    .setExpirationTime(now + (options.ttlSeconds ?? 3600))
    .sign(textEncoder.encode(options.secret));
}

/** `1h`, `30m`, `45s`, `2d` or a plain number of seconds. */
export function parseTtl(value: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!match) throw new Error(`invalid TTL "${value}" (use e.g. 3600, 30m, 1h, 2d)`);
  const n = Number(match[1]);
  const unit = match[2] || 's';
  return n * { s: 1, m: 60, h: 3600, d: 86400 }[unit as 's' | 'm' | 'h' | 'd'];
}
