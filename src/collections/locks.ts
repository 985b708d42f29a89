import { and, eq, isNull, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { RecordTable } from '../records/definition.js';

/**
 * Cross-record rules read another record's state and lock what they read (`FOR SHARE`) until commit: a
 * concurrent change of that record (a revoked credential, an item sent to maintenance) waits for this
 * transaction, or — when it came first — is seen by it, so it cannot slip past the rule.
 */
export async function lockLiveForShare<T extends RecordTable>(tx: Db, table: T, id: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await tx
    .select()
    .from(table as RecordTable)
    .where(and(eq(table.id, id), isNull(table.deletedAt)))
    .for('share');
  return row;
}

/** Locks (`FOR SHARE`) and returns the live rows of `table` matching `where`. */
export async function lockRowsForShare<T extends RecordTable>(tx: Db, table: T, where: SQL | undefined): Promise<Record<string, unknown>[]> {
  return tx
    .select()
    .from(table as RecordTable)
    .where(and(isNull(table.deletedAt), where))
    .for('share');
}
