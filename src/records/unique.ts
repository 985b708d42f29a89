import { and, eq, getTableColumns, inArray, isNull, sql } from 'drizzle-orm';
import { queryRows } from '../db/client.js';
import { recordClaims } from '../db/schema/index.js';
import { covers } from '../domain/region.js';
import { ruleViolation } from '../errors.js';
import type { Candidate, CollectionDefinition, StoredRow, UniqueRule } from './definition.js';
import type { WriteScope } from './write-scope.js';

/** A record about to be written, as the `unique` rules see it. */
export interface UniqueSubject {
  candidate: Candidate;
  existing: StoredRow | undefined;
  failed: boolean;
}

type KeyContext = { today: string; blindIndex(value: string): string };

/**
 * A claim was taken by a concurrent transaction between the check and the write. The batch answers it by
 * replaying the run record by record, where the check then sees the committed holder and words the refusal.
 */
export class ConcurrentClaimError extends Error {
  constructor(readonly namespace: string) {
    super(`a ${namespace} claim was taken by a concurrent transaction`);
  }
}

const inBatchMessage = 'An earlier record in this request claims the same value; only one record may hold it.';

/**
 * Refuses candidates whose `unique` values a live record, or an earlier candidate of the same call,
 * already holds: one statement per rule, whatever the number of candidates. This is the early check that
 * words the refusal; the database enforces the same rules between concurrent transactions (unique indexes,
 * and the claims written by `writeClaims`).
 */
export async function checkUnique<P extends UniqueSubject>(
  scope: WriteScope,
  def: CollectionDefinition,
  subjects: P[],
  blindIndex: (value: string) => string,
  /** `claim`: the namespace when the value is held under a claim (an identity conflict). */
  fail: (subject: P, err: unknown, claim?: string) => void,
) {
  const region = scope.call.principal.region;
  const keyContext: KeyContext = { today: scope.call.today, blindIndex };
  for (const rule of def.unique ?? []) {
    const keyed = subjects
      .filter((s) => !s.failed)
      .map((s) => ({ s, key: rule.key(s.candidate, keyContext) }))
      .filter((k): k is { s: P; key: string } => k.key !== null);
    if (keyed.length === 0) continue;
    const keys = [...new Set(keyed.map((k) => k.key))];
    // A stored record that this call rewrites counts with its new value, not its stored one.
    const rewritten = new Map(
      subjects.filter((s) => s.existing && !s.failed).map((s) => [s.existing!.id, rule.key(s.candidate, keyContext)]),
    );
    const holders = new Map<string, { id: string; row: StoredRow | undefined }[]>();
    for (const held of await holdersOf(scope, def, rule, keys)) {
      if (rewritten.has(held.id) && rewritten.get(held.id) !== held.key) continue;
      holders.set(held.key, [...(holders.get(held.key) ?? []), held]);
    }
    const claimed = new Set<string>();
    for (const { s, key } of keyed) {
      const holder = holders.get(key)?.find((h) => h.id !== s.existing?.id);
      const claim = 'claim' in rule ? rule.claim : undefined;
      if (holder) {
        // The holder is shown to the rule's message only when the caller may see it.
        const visible = holder.row && covers(region, holder.row.regionCode) ? holder.row : undefined;
        fail(s, ruleViolation(rule.path, rule.message(visible, s.candidate)), claim);
      } else if (claimed.has(key)) {
        fail(s, ruleViolation(rule.path, inBatchMessage), claim);
      } else {
        claimed.add(key);
      }
    }
  }
}

/** Who holds each of `keys` now: claims say only which record; a unique column gives the stored row. */
async function holdersOf(
  scope: WriteScope,
  def: CollectionDefinition,
  rule: UniqueRule,
  keys: string[],
): Promise<{ key: string; id: string; row: StoredRow | undefined }[]> {
  if ('claim' in rule) {
    const claims = await scope.tx
      .select({ key: recordClaims.key, id: recordClaims.recordId })
      .from(recordClaims)
      .where(and(eq(recordClaims.namespace, rule.claim), inArray(recordClaims.key, keys)));
    return claims.map((c) => ({ ...c, row: undefined }));
  }
  const rows = (await scope.tx
    .select({ ...getTableColumns(def.table), uniqueKey: sql<string>`(${rule.column})::text` })
    .from(def.table)
    .where(
      and(isNull(def.table.deletedAt), rule.appliesTo?.(), sql`(${rule.column})::text = any(${sql.param(keys)}::text[])`),
    )) as (StoredRow & { uniqueKey: string })[];
  return rows.map((row) => ({ key: row.uniqueKey, id: row.id, row }));
}

/**
 * Keeps the claims of written records in step with them, set-wise: the claims of rewritten records are
 * released, then every new claim is inserted with `ON CONFLICT DO NOTHING RETURNING`. The primary key
 * makes a concurrent claimant wait for this transaction and then find the value taken. A claim that
 * comes back missing was taken by a concurrent transaction since `checkUnique` ran: one record gets the
 * rule's refusal; several are replayed one by one by the caller (`ConcurrentClaimError`).
 */
export async function writeClaims(
  scope: WriteScope,
  def: CollectionDefinition,
  subjects: (UniqueSubject & { id: string })[],
  blindIndex: (value: string) => string,
) {
  const keyContext: KeyContext = { today: scope.call.today, blindIndex };
  for (const rule of def.unique ?? []) {
    if (!('claim' in rule)) continue;
    const claims = subjects
      .map((s) => ({ s, key: rule.key(s.candidate, keyContext) }))
      .filter((c): c is { s: UniqueSubject & { id: string }; key: string } => c.key !== null);
    // A rewritten record that keeps its value keeps its claim row: only changed claims are released
    // and taken again (a re-sync that changes a phone number rewrites no claim).
    const rewritten = subjects.filter((s) => s.existing).map((s) => s.id);
    const kept = new Set<string>();
    if (rewritten.length > 0) {
      const held = await scope.tx
        .select({ key: recordClaims.key, id: recordClaims.recordId })
        .from(recordClaims)
        .where(and(eq(recordClaims.namespace, rule.claim), inArray(recordClaims.recordId, rewritten)));
      const wanted = new Map(claims.map((c) => [c.s.id, c.key]));
      const released: string[] = [];
      for (const h of held) {
        if (wanted.get(h.id) === h.key) kept.add(h.id);
        else released.push(h.id);
      }
      if (released.length > 0) {
        await scope.tx.delete(recordClaims).where(and(eq(recordClaims.namespace, rule.claim), inArray(recordClaims.recordId, released)));
        for (const id of released) kept.delete(id);
      }
    }
    const taking = claims.filter((c) => !kept.has(c.s.id));
    if (taking.length === 0) continue;
    const taken = await queryRows<{ key: string }>(
      scope.tx,
      sql`insert into ${recordClaims} (namespace, key, collection, record_id)
          select ${rule.claim}, x.key, ${def.name}, x.record_id
            from unnest(${sql.param(taking.map((c) => c.key))}::text[], ${sql.param(taking.map((c) => c.s.id))}::uuid[]) as x(key, record_id)
          on conflict do nothing returning key`,
    );
    if (taken.length === taking.length) continue;
    if (taking.length > 1) throw new ConcurrentClaimError(rule.claim);
    throw ruleViolation(rule.path, rule.message(undefined, taking[0]!.s.candidate));
  }
}

/** Releases every claim of deleted records. */
export async function releaseClaims(scope: WriteScope, def: CollectionDefinition, ids: string[]) {
  if (ids.length === 0 || !(def.unique ?? []).some((rule) => 'claim' in rule)) return;
  await scope.tx.delete(recordClaims).where(inArray(recordClaims.recordId, ids));
}
