import { and, getTableColumns, isNull, sql } from 'drizzle-orm';
import { ruleViolation } from '../errors.js';
import type { Candidate, CollectionDefinition, StoredRow } from './definition.js';
import type { WriteScope } from './write-scope.js';

/** A record about to be written, as the `unique` rules see it. */
export interface UniqueSubject {
  candidate: Candidate;
  existing: StoredRow | undefined;
  failed: boolean;
}

/**
 * Refuses candidates whose `unique` values a live record, or an earlier candidate of the same call,
 * already holds: one statement per rule, whatever the number of candidates.
 */
export async function checkUnique<P extends UniqueSubject>(
  scope: WriteScope,
  def: CollectionDefinition,
  subjects: P[],
  blindIndex: (value: string) => string,
  fail: (subject: P, err: unknown) => void,
) {
  const keyContext = { today: scope.call.today, blindIndex };
  for (const rule of def.unique ?? []) {
    const keyed = subjects
      .filter((s) => !s.failed)
      .map((s) => ({ s, key: rule.key(s.candidate, keyContext) }))
      .filter((k): k is { s: P; key: string } => k.key !== null);
    if (keyed.length === 0) continue;
    // A stored row that this call rewrites counts with its new value, not its stored one.
    const rewritten = new Map(
      subjects.filter((s) => s.existing && !s.failed).map((s) => [s.existing!.id, rule.key(s.candidate, keyContext)]),
    );
    const held = (await scope.tx
      .select({ ...getTableColumns(def.table), uniqueKey: sql<string>`(${rule.column})::text` })
      .from(def.table)
      .where(
        and(
          isNull(def.table.deletedAt),
          rule.appliesTo?.(scope.call.today),
          sql`(${rule.column})::text = any(${sql.param([...new Set(keyed.map((k) => k.key))])}::text[])`,
        ),
      )) as (StoredRow & { uniqueKey: string })[];
    const holders = new Map<string, StoredRow[]>();
    for (const row of held) {
      if (rewritten.has(row.id) && rewritten.get(row.id) !== row.uniqueKey) continue;
      holders.set(row.uniqueKey, [...(holders.get(row.uniqueKey) ?? []), row]);
    }
    const claimed = new Set<string>();
    for (const { s, key } of keyed) {
      const holder = holders.get(key)?.find((row) => row.id !== s.existing?.id);
      if (holder || claimed.has(key)) {
        fail(s, ruleViolation(rule.path, rule.message(holder, s.candidate)));
        continue;
      }
      claimed.add(key);
    }
  }
}
