import { eq, sql } from 'drizzle-orm';
import type { Database, Db } from '../db/client.js';
import { insertJsonRows } from '../db/bulk-insert.js';
import { auditLog, changeSequence, changes } from '../db/schema/index.js';
import { isConstraintViolation, isRetryable, rootDbError } from '../errors.js';
import type { Principal } from '../security/tokens.js';
import type { ResolvedRef } from './definition.js';

/** Who is calling and from which request: carried into every audit row. */
export interface CallContext {
  principal: Principal;
  requestId: string;
  /** Today in Asia/Shanghai (YYYY-MM-DD), fixed for the whole request. */
  today: string;
}

export type ChangeOp = 'upsert' | 'delete';
export type AuditOp = 'create' | 'update' | 'delete' | 'read_pii';

interface PendingChange {
  collection: string;
  recordId: string;
  externalId: string | null;
  regionCode: string;
  op: ChangeOp;
  version: number;
  record: Record<string, unknown> | null;
  /** On the entry that removes a moved record from its old region: the new region. */
  movedTo: string | null;
}

interface PendingAudit {
  collection: string;
  recordId: string;
  regionCode: string;
  op: AuditOp;
  version: number | null;
  /** The old region when this write moved the record. */
  movedFrom: string | null;
}

/**
 * One writing transaction. Changes and audit rows are collected while it runs and written just before
 * COMMIT, so a write, its feed entry and its audit row commit together or not at all.
 */
export interface WriteScope {
  readonly tx: Db;
  readonly call: CallContext;
  /** References already looked up in this transaction, by `collection|id:<uuid>` or `collection|ext:<region>/<key>`. */
  readonly refCache: Map<string, ResolvedRef>;
  recordChange(change: PendingChange): void;
  recordAudit(audit: PendingAudit): void;
  /** Runs `fn` inside a savepoint: if it throws, its writes and its pending feed/audit rows are undone. */
  savepoint<T>(fn: () => Promise<T>): Promise<T>;
}

class Scope implements WriteScope {
  readonly refCache = new Map<string, ResolvedRef>();
  readonly changes: PendingChange[] = [];
  readonly audits: PendingAudit[] = [];
  private savepoints = 0;

  constructor(
    readonly tx: Db,
    readonly call: CallContext,
  ) {}

  recordChange(change: PendingChange) {
    this.changes.push(change);
  }

  recordAudit(audit: PendingAudit) {
    this.audits.push(audit);
  }

  async savepoint<T>(fn: () => Promise<T>): Promise<T> {
    const name = sql.raw(`op_${++this.savepoints}`);
    const marks = { changes: this.changes.length, audits: this.audits.length };
    await this.tx.execute(sql`savepoint ${name}`);
    try {
      const result = await fn();
      await this.tx.execute(sql`release savepoint ${name}`);
      return result;
    } catch (err) {
      await this.tx.execute(sql`rollback to savepoint ${name}`);
      this.changes.length = marks.changes;
      this.audits.length = marks.audits;
      // Lookups made inside may describe rows that no longer exist.
      this.refCache.clear();
      throw err;
    }
  }

  async flush() {
    const { tx, call } = this;
    if (this.audits.length > 0) {
      await insertJsonRows(
        tx,
        auditLog,
        this.audits.map((a) => ({
          ...a,
          sub: call.principal.sub,
          clientId: call.principal.clientId ?? null,
          callerRegion: call.principal.region,
          requestId: call.requestId,
        })),
      );
    }
    if (this.changes.length === 0) return;
    // Taking the counter row's lock last and holding it to COMMIT makes sequence numbers visible in
    // commit order: a reader that has seen seq N can never later find a committed row below N.
    const [counter] = await tx
      .update(changeSequence)
      .set({ lastSeq: sql`${changeSequence.lastSeq} + ${this.changes.length}` })
      .where(eq(changeSequence.id, 1))
      .returning({ lastSeq: changeSequence.lastSeq });
    if (!counter) throw new Error('change_sequence row is missing: run the migrations');
    const first = counter.lastSeq - this.changes.length + 1;
    await insertJsonRows(
      tx,
      changes,
      this.changes.map((c, i) => ({ ...c, seq: first + i })),
    );
  }
}

const MAX_ATTEMPTS = 3;

/**
 * Runs `fn` in a transaction with its feed and audit rows, retrying the whole transaction on a
 * serialization failure or deadlock (SQLSTATE 40001, 40P01), and on a unique or exclusion constraint
 * (23505, 23P01) that a concurrent transaction got to first: that transaction has committed, so the retry
 * sees its row — an upsert of the same new key updates it, a rule's check words the refusal.
 */
export async function runWrite<T>(database: Database, call: CallContext, fn: (scope: WriteScope) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await database.transaction(async (tx) => {
        const scope = new Scope(tx, call);
        const result = await fn(scope);
        await scope.flush();
        return result;
      });
    } catch (err) {
      const root = rootDbError(err);
      if (attempt >= MAX_ATTEMPTS || !(isRetryable(root) || isConstraintViolation(root))) throw err;
      await new Promise((resolve) => setTimeout(resolve, 10 * attempt * Math.random()));
    }
  }
}
