import { AppError } from '../errors.js';
import type { Principal } from '../security/tokens.js';

/**
 * Throttles ID-number probing per client (DESIGN §5). A write carrying an ID number that does not
 * commit — refused by the uniqueness claim, by another rule, or rolled back with its transaction (a
 * whole atomic batch) — tells its caller something about numbers held elsewhere, so each one spends a
 * token of the client's budget. Writes that commit spend nothing: a platform syncing its records is
 * never slowed. Once the budget is spent, further writes carrying an ID number answer 429
 * `too_many_identity_probes` with `Retry-After` until it has refilled.
 *
 * A token bucket per client (`client_id`, else `sub`): `budgetPerMinute` tokens, refilled continuously at
 * that rate. Spending may run into debt — an atomic batch of 999 candidates and one failing operation
 * costs 999 tokens, and its client waits until the debt is repaid — capped at one hour of budget.
 * State is kept in memory, per process: with N replicas behind a load balancer a client can spend up to
 * N budgets (docs/decisions.md).
 */
export interface IdentityThrottle {
  /** Seconds until `principal` may write an ID number again; 0 when it may now. */
  retryAfter(principal: Principal): number;
  /** Spends `count` tokens for writes carrying ID numbers that did not commit. */
  spend(principal: Principal, count: number): void;
  readonly budgetPerMinute: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets kept at most; full buckets are dropped first (a full bucket is the same as none). */
const MAX_CLIENTS = 100_000;

export function clientKey(principal: Principal): string {
  return principal.clientId ? `client:${principal.clientId}` : `sub:${principal.sub}`;
}

export function createIdentityThrottle(options: { budgetPerMinute: number; now?: () => number }): IdentityThrottle {
  const { budgetPerMinute } = options;
  const now = options.now ?? Date.now;
  const perMs = budgetPerMinute / 60_000;
  const maxDebt = budgetPerMinute * 60;
  const buckets = new Map<string, Bucket>();

  function current(key: string): Bucket {
    const t = now();
    const bucket = buckets.get(key);
    if (!bucket) return { tokens: budgetPerMinute, at: t };
    bucket.tokens = Math.min(budgetPerMinute, bucket.tokens + (t - bucket.at) * perMs);
    bucket.at = t;
    return bucket;
  }

  function sweep() {
    if (buckets.size < MAX_CLIENTS) return;
    for (const [key, bucket] of buckets) {
      if (current(key).tokens >= budgetPerMinute || bucket.tokens >= budgetPerMinute) buckets.delete(key);
    }
    // Still full of indebted clients: forget the oldest (Map keeps insertion order).
    for (const key of buckets.keys()) {
      if (buckets.size < MAX_CLIENTS) break;
      buckets.delete(key);
    }
  }

  return {
    budgetPerMinute,
    retryAfter(principal) {
      const bucket = current(clientKey(principal));
      return bucket.tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
    },
    spend(principal, count) {
      if (count <= 0) return;
      const key = clientKey(principal);
      const bucket = current(key);
      bucket.tokens = Math.max(-maxDebt, bucket.tokens - count);
      if (!buckets.has(key)) {
        sweep();
        buckets.set(key, bucket);
      }
    },
  };
}

export const tooManyIdentityProbes = (retryAfter: number, budgetPerMinute: number) =>
  new AppError(429, 'too_many_identity_probes', 'Too many identity probes', {
    detail: `Too many writes carrying ID numbers from this client did not commit (the budget is ${budgetPerMinute} a minute); writes carrying ID numbers are refused for ${retryAfter} s. Writes that commit do not count.`,
    headers: { 'retry-after': String(retryAfter) },
  });
