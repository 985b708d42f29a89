import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type Database, type Db } from '../db/client.js';
import { insertJsonRows } from '../db/bulk-insert.js';
import { auditLog, changeSequence, changes } from '../db/schema/index.js';
import { isConstraintViolation, isRetryable, rootDbError } from '../errors.js';
import type { Principal } from '../security/tokens.js';
import type { ResolvedRef } from './definition.js';
import type { MaskedView } from './render.js';
import { dropViewsStatement } from './record-views.js';
import type { IdentityCharge, IdentityThrottle } from './identity-throttle.js';

/** Who is calling and from which request: carried into every audit row. */
export interface CallContext {
  principal: Principal;
  requestId: string;
  /** Today in Asia/Shanghai (YYYY-MM-DD), fixed for the whole request. */
  today: string;
  /** Counts this caller's answers about ID numbers (identity-throttle.ts); absent, nothing is throttled. */
  identityThrottle?: IdentityThrottle | undefined;
}

export type ChangeOp = 'upsert' | 'delete';
/**
 * `identity_conflict`: a write refused because another active person holds the ID number;
 * `identity_rolled_back`: any other write carrying an ID number that did not commit (refused, or undone
 * with its transaction); `identity_throttled`: a request whose writes carrying ID numbers got 429.
 * These three are written outside the write's transaction, so they stay when it rolls back.
 */
export type AuditOp = 'create' | 'update' | 'delete' | 'read_pii' | 'identity_conflict' | 'identity_rolled_back' | 'identity_throttled';
export const AUDIT_OPS = [
  'create',
  'update',
  'delete',
  'read_pii',
  'identity_conflict',
  'identity_rolled_back',
  'identity_throttled',
] as const satisfies readonly AuditOp[];

/** A write setting an ID number, as the throttle and the audit log see it (never the number or its holder). */
export interface IdentityAttempt {
  collection: string;
  /** The record written; null for a create (no record exists). */
  recordId: string | null;
  regionCode: string;
  /** pending until the write's outcome is known; `written` still needs its transaction to commit. */
  status: 'pending' | 'written' | 'conflict' | 'refused' | 'throttled';
  /** The operation's index in a batch: an atomic batch tells the outcomes up to its failed operation only. */
  position?: number | undefined;
  /** The budget already charged for this answer (engine.ts `chargeIdentities`). */
  charged?: IdentityCharge | undefined;
  /** Its outcome is not told to the caller (after the failed operation of an atomic batch): it costs nothing. */
  concealed?: boolean;
}

interface PendingChange {
  collection: string;
  recordId: string;
  externalId: string | null;
  regionCode: string;
  op: ChangeOp;
  version: number;
  record: Record<string, unknown> | null;
  /** The record rendered for readers without pii:read (render.ts `maskedView`); absent on deletes. */
  view?: MaskedView | undefined;
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
  /**
   * Empties, with this transaction, the kept views (record-views.ts) of these records and of those the
   * queries select: records whose representation shows something this transaction changes. `from` names the
   * written rows the queries start from (table and id): they are locked FOR UPDATE first (see `flush`).
   */
  dropViews(ids: Iterable<unknown>, queries?: readonly SQL[], from?: { table: string; id: string }): void;
  /** Writes carrying ID numbers in this transaction (see `IdentityAttempt`); settled by `runWrite`. */
  readonly identityAttempts: IdentityAttempt[];
  /** Runs `fn` inside a savepoint: if it throws, its writes and its pending feed/audit rows are undone. */
  savepoint<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * An atomic batch that fails at operation `position` tells nothing about the operations after it:
   * their answers are refunded (their attempts are still audited).
   */
  concealIdentitiesAfter(position: number): void;
}

class Scope implements WriteScope {
  readonly refCache = new Map<string, ResolvedRef>();
  readonly changes: PendingChange[] = [];
  readonly audits: PendingAudit[] = [];
  readonly identityAttempts: IdentityAttempt[] = [];
  private readonly staleViews = new Set<string>();
  private readonly staleViewQueries: SQL[] = [];
  private readonly viewSources = new Map<string, Set<string>>();
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

  // Not undone with a savepoint: emptying a view that is still good costs a read its rendering, nothing more.
  dropViews(ids: Iterable<unknown>, queries: readonly SQL[] = [], from?: { table: string; id: string }) {
    for (const id of ids) if (typeof id === 'string') this.staleViews.add(id);
    this.staleViewQueries.push(...queries);
    if (from) {
      const locked = this.viewSources.get(from.table) ?? new Set<string>();
      locked.add(from.id);
      this.viewSources.set(from.table, locked);
    }
  }

  async savepoint<T>(fn: () => Promise<T>): Promise<T> {
    const name = sql.raw(`op_${++this.savepoints}`);
    const marks = { changes: this.changes.length, audits: this.audits.length, attempts: this.identityAttempts.length };
    await this.tx.execute(sql`savepoint ${name}`);
    try {
      const result = await fn();
      await this.tx.execute(sql`release savepoint ${name}`);
      return result;
    } catch (err) {
      await this.tx.execute(sql`rollback to savepoint ${name}`);
      this.changes.length = marks.changes;
      this.audits.length = marks.audits;
      // Writes undone here are replayed by the batch (and charged again then); refusals stay counted.
      const undone = this.identityAttempts.splice(marks.attempts);
      for (const a of undone) {
        if (a.status === 'written' || a.status === 'pending') refundCharge(this.call, a);
        else this.identityAttempts.push(a);
      }
      // Lookups made inside may describe rows that no longer exist.
      this.refCache.clear();
      throw err;
    }
  }

  concealIdentitiesAfter(position: number) {
    for (const a of this.identityAttempts) {
      if (a.position === undefined || a.position <= position) continue;
      refundCharge(this.call, a);
      a.concealed = true;
    }
  }

  /**
   * Writes the transaction's audit rows and feed entries with one statement, just before COMMIT: each
   * column goes as one typed array (no per-row JSON to build and take apart), the caller's fields as
   * scalars, the snapshots as one JSON array, and the rendered views as one `json` array (not `jsonb`: its
   * elements keep their text exactly as rendered, which is what readers are sent). Taking the counter row's
   * lock in this last statement and holding it to COMMIT makes sequence numbers visible in commit order: a
   * reader that has seen seq N can never later find a committed row below N.
   */
  async flush() {
    const { tx, call, audits, changes: pending } = this;
    // Before the statement below takes the feed counter's lock: whoever waits for a view's lock never holds it.
    if (this.staleViews.size > 0 || this.staleViewQueries.length > 0) {
      // The queries find the records that show a written row (that reference a moved unit, that hold an
      // item). A record coming to show it meanwhile holds the row FOR KEY SHARE, which this transaction's
      // write lock lets through: so the rows are locked FOR UPDATE first. Such a write has then either
      // committed, and the queries (a later snapshot) find its record, or it waits for this transaction to
      // commit and is rendered with what it commits.
      for (const [table, ids] of this.viewSources) {
        await tx.execute(sql`select 1 from ${sql.identifier(table)} where id = any(${sql.param([...ids])}::uuid[]) order by id for update`);
      }
      await tx.execute(dropViewsStatement([...this.staleViews], this.staleViewQueries));
    }
    if (audits.length === 0 && pending.length === 0) return;
    const auditPart =
      audits.length === 0
        ? sql``
        : sql`with audit as (
            insert into ${auditLog} (sub, client_id, caller_region, request_id, collection, record_id, region_code, op, version, moved_from)
            select ${call.principal.sub}, ${call.principal.clientId ?? null}, ${call.principal.region}, ${call.requestId}, a.*
              from unnest(
                ${sql.param(audits.map((a) => a.collection))}::text[],
                ${sql.param(audits.map((a) => a.recordId))}::uuid[],
                ${sql.param(audits.map((a) => a.regionCode))}::text[],
                ${sql.param(audits.map((a) => a.op))}::text[],
                ${sql.param(audits.map((a) => a.version))}::int[],
                ${sql.param(audits.map((a) => a.movedFrom))}::text[]
              ) as a
          )`;
    if (pending.length === 0) {
      await tx.execute(sql`${auditPart} select 1`);
      return;
    }
    const n = pending.length;
    const rows = await queryRows<{ last_seq: string | number }>(
      tx,
      sql`${auditPart}${audits.length === 0 ? sql`with` : sql`,`} counter as (
            update ${changeSequence} set last_seq = last_seq + ${n} where id = 1 returning last_seq
          ),
          inserted as (
            insert into ${changes} (seq, collection, record_id, external_id, region_code, op, version, moved_to, record,
                                    masked_record, masked_record_scope, masked_record_format)
            select counter.last_seq - ${n} + c.ord, c.collection, c.record_id, c.external_id, c.region_code, c.op, c.version, c.moved_to,
                   nullif(s.record, 'null'::jsonb), nullif(m.view::text, 'null'), c.view_scope, c.view_format
              from counter,
                   unnest(
                     ${sql.param(pending.map((c) => c.collection))}::text[],
                     ${sql.param(pending.map((c) => c.recordId))}::uuid[],
                     ${sql.param(pending.map((c) => c.externalId))}::text[],
                     ${sql.param(pending.map((c) => c.regionCode))}::text[],
                     ${sql.param(pending.map((c) => c.op))}::text[],
                     ${sql.param(pending.map((c) => c.version))}::int[],
                     ${sql.param(pending.map((c) => c.movedTo))}::text[],
                     ${sql.param(pending.map((c) => c.view?.scope ?? null))}::text[],
                     ${sql.param(pending.map((c) => c.view?.format ?? null))}::text[]
                   ) with ordinality as c(collection, record_id, external_id, region_code, op, version, moved_to, view_scope, view_format, ord)
                   join jsonb_array_elements(${JSON.stringify(pending.map((c) => c.record))}::jsonb) with ordinality as s(record, ord)
                     using (ord)
                   join json_array_elements(${`[${pending.map((c) => c.view?.json ?? 'null').join(',')}]`}::json) with ordinality as m(view, ord)
                     using (ord)
          )
          select last_seq from counter`,
    );
    if (rows.length === 0) throw new Error('change_sequence row is missing: run the migrations');
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
    let scope: Scope | undefined;
    let result: T;
    try {
      result = await database.transaction(async (tx) => {
        scope = new Scope(tx, call);
        const value = await fn(scope);
        await scope.flush();
        return value;
      });
    } catch (err) {
      const root = rootDbError(err);
      if (attempt >= MAX_ATTEMPTS || !(isRetryable(root) || isConstraintViolation(root))) {
        if (scope) await settleIdentityAttempts(database, call, scope.identityAttempts, false);
        throw err;
      }
      // The retry writes (and charges) everything again.
      for (const a of scope?.identityAttempts ?? []) refundCharge(call, a);
      await new Promise((resolve) => setTimeout(resolve, 10 * attempt * Math.random()));
      continue;
    }
    if (scope) await settleIdentityAttempts(database, call, scope.identityAttempts, true);
    return result;
  }
}

function refundCharge(call: CallContext, attempt: IdentityAttempt) {
  if (attempt.charged) call.identityThrottle?.refund(call.principal, attempt.charged, 1);
  attempt.charged = undefined;
}

/**
 * After the transaction. The engine charged each answer as it gave it (`chargeIdentities`); a write
 * refused later — a version check or a claim lost to a concurrent writer — is a refusal, and a write
 * lost with its transaction that was never charged (an error mid-way) counts as one too. Every write
 * setting an ID number that did not commit gets an audit row, written on its own, outside the
 * transaction, so a probe that rolls back its own transaction still leaves its trace. The rows name the
 * caller, the request, the collection and region written, and the record when it existed; never the
 * number nor its holder. Requests refused by the throttle leave one `identity_throttled` row.
 */
async function settleIdentityAttempts(database: Database, call: CallContext, attempts: IdentityAttempt[], committed: boolean) {
  if (attempts.length === 0) return;
  const refused = (a: IdentityAttempt) => a.status === 'conflict' || a.status === 'refused';
  const lost = attempts.filter((a) => refused(a) || (!committed && (a.status === 'written' || a.status === 'pending')));
  for (const a of lost) {
    if (a.concealed || a.charged === 'refused' || (a.charged === 'new' && !refused(a))) continue;
    refundCharge(call, a);
    call.identityThrottle?.spend(call.principal, 'refused', 1);
    a.charged = 'refused';
  }
  const throttled = attempts.find((a) => a.status === 'throttled' && !a.concealed);
  const rows: (IdentityAttempt & { op: AuditOp })[] = [
    ...lost.map((a) => ({ ...a, op: a.status === 'conflict' ? ('identity_conflict' as const) : ('identity_rolled_back' as const) })),
    ...(throttled ? [{ ...throttled, op: 'identity_throttled' as const }] : []),
  ];
  if (rows.length === 0) return;
  await insertJsonRows(
    database.db,
    auditLog,
    rows.map((a) => ({
      collection: a.collection,
      // The audit table needs a record id: a create that never happened is the nil UUID (shown as null).
      recordId: a.recordId ?? NO_RECORD,
      regionCode: a.regionCode,
      op: a.op,
      version: null,
      movedFrom: null,
      sub: call.principal.sub,
      clientId: call.principal.clientId ?? null,
      callerRegion: call.principal.region,
      requestId: call.requestId,
    })),
  );
}

/** The record id of an audit row about a create that did not happen. */
export const NO_RECORD = '00000000-0000-0000-0000-000000000000';
