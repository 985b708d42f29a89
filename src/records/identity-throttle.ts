import { AppError } from '../errors.js';
import type { Principal } from '../security/tokens.js';

/**
 * Throttles ID-number probing per client (DESIGN §5). A write that sets an ID number — a create of a
 * person, or a change of the number — answers "is this number held by an active person?": refused means
 * perhaps, written means no. So every such write whose outcome the caller is told costs a token:
 *
 * - `refused`: refused by the uniqueness claim or any other check (IDENTITY_PROBE_BUDGET_PER_MINUTE);
 * - `new`: written — committed, or passed and then rolled back with its atomic batch
 *   (IDENTITY_NEW_BUDGET_PER_HOUR). Tokens `identities:bulk` lifts this budget for initial loads.
 *
 * Writes that keep a stored number (unchanged upserts, updates of other fields) cost nothing, so a
 * platform re-syncing its people is never slowed. A write setting a number is evaluated only while both
 * budgets hold a token: past that, it answers 429 `too_many_identity_probes` with `Retry-After` without
 * being evaluated, so no answer tells more than the budgets allow (engine.ts `chargeIdentities`).
 *
 * Token buckets per client (`client_id`, else `sub`), refilled continuously. Spending after the fact
 * (a race lost at commit) may run into debt, capped at one hour of budget. State is kept in memory, per
 * process: with N replicas behind a load balancer a client can spend up to N budgets (docs/decisions.md).
 */
export interface IdentityThrottle {
  /** Seconds until `principal` may send a write setting an ID number again; 0 when it may now. */
  retryAfter(principal: Principal): number;
  /** Spends `count` tokens of a budget. */
  spend(principal: Principal, kind: IdentityCharge, count: number): void;
  /** Gives back tokens spent for answers the caller was not given after all. */
  refund(principal: Principal, kind: IdentityCharge, count: number): void;
  readonly refusalsPerMinute: number;
  readonly newPerHour: number;
}

/** Which budget an answer about an ID number is charged to. */
export type IdentityCharge = 'refused' | 'new';

/** The scope that lifts the new-identity budget (initial loads); refusals stay throttled. */
export const BULK_IDENTITIES_SCOPE = 'identities:bulk';

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets kept at most per budget; full buckets are dropped first (a full bucket is the same as none). */
const MAX_CLIENTS = 100_000;

export function clientKey(principal: Principal): string {
  return principal.clientId ? `client:${principal.clientId}` : `sub:${principal.sub}`;
}

/** A token bucket per client: `capacity` tokens, refilled at `capacity` per `periodMs`, debt down to `-maxDebt`. */
function buckets(capacity: number, periodMs: number, maxDebt: number, now: () => number) {
  const perMs = capacity / periodMs;
  const map = new Map<string, Bucket>();

  function current(key: string): Bucket {
    const t = now();
    const bucket = map.get(key);
    if (!bucket) return { tokens: capacity, at: t };
    bucket.tokens = Math.min(capacity, bucket.tokens + (t - bucket.at) * perMs);
    bucket.at = t;
    return bucket;
  }

  function sweep() {
    if (map.size < MAX_CLIENTS) return;
    for (const [key, bucket] of map) {
      if (current(key).tokens >= capacity || bucket.tokens >= capacity) map.delete(key);
    }
    // Still full of indebted clients: forget the oldest (Map keeps insertion order).
    for (const key of map.keys()) {
      if (map.size < MAX_CLIENTS) break;
      map.delete(key);
    }
  }

  return {
    retryAfter(key: string): number {
      const bucket = current(key);
      return bucket.tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
    },
    add(key: string, delta: number) {
      if (delta === 0) return;
      const bucket = current(key);
      bucket.tokens = Math.min(capacity, Math.max(-maxDebt, bucket.tokens + delta));
      if (!map.has(key)) {
        sweep();
        map.set(key, bucket);
      }
    },
  };
}

export function createIdentityThrottle(options: { refusalsPerMinute: number; newPerHour: number; now?: () => number }): IdentityThrottle {
  const { refusalsPerMinute, newPerHour } = options;
  const now = options.now ?? Date.now;
  const refused = buckets(refusalsPerMinute, 60_000, refusalsPerMinute * 60, now);
  const fresh = buckets(newPerHour, 3_600_000, newPerHour, now);
  const bulk = (principal: Principal) => principal.scopes.has(BULK_IDENTITIES_SCOPE);
  const budget = (principal: Principal, kind: IdentityCharge) => (kind === 'refused' ? refused : bulk(principal) ? undefined : fresh);

  return {
    refusalsPerMinute,
    newPerHour,
    retryAfter(principal) {
      const key = clientKey(principal);
      return Math.max(refused.retryAfter(key), bulk(principal) ? 0 : fresh.retryAfter(key));
    },
    spend(principal, kind, count) {
      if (count > 0) budget(principal, kind)?.add(clientKey(principal), -count);
    },
    refund(principal, kind, count) {
      if (count > 0) budget(principal, kind)?.add(clientKey(principal), count);
    },
  };
}

export const tooManyIdentityProbes = (retryAfter: number, throttle: Pick<IdentityThrottle, 'refusalsPerMinute' | 'newPerHour'> | undefined) =>
  new AppError(429, 'too_many_identity_probes', 'Too many identity probes', {
    detail: `This client has used its budget of writes setting ID numbers (${throttle?.refusalsPerMinute ?? 0} refused a minute, ${throttle?.newPerHour ?? 0} new numbers an hour); such writes are refused for ${retryAfter} s. Writes that keep a stored number do not count.`,
    headers: { 'retry-after': String(retryAfter) },
  });
