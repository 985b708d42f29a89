import { randomUUID } from 'node:crypto';
import { and, between, eq, getTableName, gt, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { z } from 'zod';
import { queryRows, type Database, type Db } from '../db/client.js';
import { insertJsonRows, updateJsonRows } from '../db/bulk-insert.js';
import { prepared } from '../db/prepared.js';
import { auditLog, recordViews } from '../db/schema/index.js';
import { covers } from '../domain/region.js';
import {
  AppError,
  constraintOf,
  forbiddenRegion,
  isConstraintViolation,
  rootDbError,
  ruleViolation,
  notFound,
  validationFailed,
  versionConflict,
  type FieldError,
} from '../errors.js';
import { cursorText, UUID_TEXT } from '../http/cursor.js';
import type { PiiCipher } from '../security/pii.js';
import { ENCRYPTED_PII_KINDS, type ApiRecord, type Candidate, type CollectionDefinition, type RuleContext, type RunContext, type SourceParams, type StoredRow } from './definition.js';
import { tooManyIdentityProbes } from './identity-throttle.js';
import { entityTag, etagMatches } from './etag.js';
import { checkTransitions } from './transitions.js';
import { compiledList } from './compiled-read.js';
import { applyMergePatch } from './merge-patch.js';
import { coverageRange, coveredBy, regionFilter } from './region-scope.js';
import {
  bodyFits,
  bodyFormat,
  fieldsOf,
  hashKey,
  maskedBody,
  maskedValue,
  maskedView,
  referenceKeysOf,
  renderRecord,
  viewFromBody,
  writableView,
  type BodyRow,
} from './render.js';
import { createReferences } from './references.js';
import { goodViewOf, keptRange, ViewKeeper, viewDependentsOf, type ViewToKeep } from './record-views.js';
import { bodySelectionOf, definitionIn, loadSources, readSelectionOf, sourceKeysOf, selectRows, selectionOf, targetCondition, tombstoneVersions, type LockStrength, type Registry, type Target } from './store.js';
import { checkUnique, releaseClaims, writeClaims, type UniqueSubject } from './unique.js';
import type { CallContext, IdentityAttempt, WriteScope } from './write-scope.js';

export interface EngineDeps {
  database: Database;
  registry: Registry;
  cipher: PiiCipher;
}

export interface WriteOutcome {
  status: 200 | 201;
  row: StoredRow;
  /** False when the body equalled the stored record: no new version, no feed entry. */
  changed: boolean;
}

export type IfMatch = number[] | '*' | undefined;

/** `full`: rows with every column the record is rendered from; `body`: with the kept masked body instead. */
export type ReadForm = 'full' | 'body';

/** A record as JSON for a caller without pii:read, and how to tag it (`presentViews`; a list page tags nothing). */
export interface RecordView {
  id: string;
  json: string;
  etag: () => string;
}

export interface ListQuery {
  limit: number;
  cursor?: string | undefined;
  regionCode?: string | undefined;
  externalId?: string | undefined;
  updatedAfter?: string | undefined;
  [filter: string]: unknown;
}

/** One upsert by the caller's key: the path's region and key, the validated body, an optional If-Match. */
export interface UpsertItem {
  regionCode: string;
  externalId: string;
  data: Record<string, unknown>;
  ifMatch: IfMatch;
  /** If-None-Match: written only when no record matches it — `*`, "create only". */
  ifNoneMatch?: IfMatch;
  /** The operation's index in a batch (identity attempts carry it: see `WriteScope.concealIdentitiesAfter`). */
  position?: number | undefined;
}

interface WriteItem {
  /** Validated body, with regionCode and externalId. */
  data: Record<string, unknown>;
  /** The stored row, locked, when this write updates it. */
  existing: StoredRow | undefined;
  position?: number | undefined;
}

interface Prepared extends UniqueSubject {
  index: number;
  existing: StoredRow | undefined;
  candidate: Candidate;
  externalIds: Record<string, unknown>;
  columns: Record<string, unknown>;
  refs: RuleContext['refs'];
  failed: boolean;
  /** Set when the write sets an ID number (new, or changed): charged, and audited unless it commits. */
  identity?: IdentityAttempt;
}

/** Converts zod issues into problem `errors` under a JSON Pointer prefix (e.g. `/operations/3/data`). */
export function zodFieldErrors(error: z.ZodError, prefix = '', location: FieldError['in'] = 'body'): FieldError[] {
  return error.issues.map((issue) => ({
    path: `${prefix}/${issue.path.map(String).join('/')}`.replace(/\/$/, '') || '/',
    message: issue.message,
    in: location,
  }));
}

function encodeCursor(id: string): string {
  return Buffer.from(JSON.stringify({ k: id })).toString('base64url');
}

function decodeCursor(cursor: string): string {
  try {
    const parsed = JSON.parse(cursorText(cursor) ?? '') as { k?: unknown };
    // A UUID as PostgreSQL writes it: anything else (36 dashes) would reach the database and fail there.
    if (typeof parsed.k === 'string' && UUID_TEXT.test(parsed.k)) return parsed.k;
  } catch {
    // fall through to the validation error
  }
  throw validationFailed([{ path: '/cursor', message: 'is not a cursor this service issued', in: 'query' }]);
}

/** The one row of `listFromViews`. */
interface PageOfViews extends Record<string, unknown> {
  n: number;
  shown: number;
  kept: number;
  last: string | null;
  joined: string | null;
}

function comparable(value: unknown): string {
  return JSON.stringify(value instanceof Date ? value.toISOString() : (value ?? null));
}

/** The kept masked body and its format: rendered from the other columns, never compared or carried in the feed. */
const KEPT_BODY_KEYS = ['maskedBody', 'maskedBodyFormat'];

const unrenderedKeys = new WeakMap<CollectionDefinition, Set<string>>();

/**
 * What a feed entry carries of its record (docs/decisions.md, "What a feed entry carries"): the stored row
 * as of that version — every column and the references' keys and regions — without what the entry's own
 * columns already say (id, regionCode, externalId, version: the feed adds them back), without what no
 * reader is ever shown (the keyed hashes of personal fields, the tombstone mark), without the kept masked
 * body (the feed keeps its own view, `maskedView`) and without absent values,
 * which the renderer reads as null. Smaller snapshots cost less to write, store and read.
 */
export function feedSnapshot(def: CollectionDefinition, row: StoredRow): Record<string, unknown> {
  let skip = unrenderedKeys.get(def);
  if (!skip) {
    skip = new Set(['id', 'regionCode', 'externalId', 'version', 'deletedAt', ...KEPT_BODY_KEYS, ...(def.pii ?? []).map((p) => hashKey(p.field))]);
    unrenderedKeys.set(def, skip);
  }
  const out: Record<string, unknown> = {};
  for (const key in row) {
    const value = row[key];
    if (value === null || value === undefined || skip.has(key)) continue;
    out[key] = value;
  }
  return out;
}

/** The generic record verbs (DESIGN §3), written once for every collection. */
export function createRecordEngine(deps: EngineDeps) {
  const { registry, cipher, database } = deps;

  const references = createReferences(registry);
  const viewDependents = viewDependentsOf(registry);
  let reportViewError: (err: unknown) => void = () => {};
  const keeper = new ViewKeeper(database.db, registry, (err) => reportViewError(err));

  const definition = (name: string) => definitionIn(registry, name);

  // ---- writes -----------------------------------------------------------------------------------

  function assertCovered(scope: WriteScope, regionCode: string) {
    const region = scope.call.principal.region;
    if (!covers(region, regionCode)) throw forbiddenRegion(regionCode, region);
  }

  /** Column values for a candidate: business fields, personal fields encrypted with their blind index, reference ids. */
  function toColumns(def: CollectionDefinition, candidate: Candidate, blindIndex: (value: string) => string): Record<string, unknown> {
    const columns: Record<string, unknown> = { regionCode: candidate.regionCode, externalId: candidate.externalId };
    for (const { key, kind, cipherKey: cipherColumn, hashKey: hash, maskedKey: masked } of fieldsOf(def)) {
      const value = candidate[key] ?? null;
      if (kind && ENCRYPTED_PII_KINDS.has(kind)) {
        const text = typeof value === 'string' ? value : undefined;
        columns[cipherColumn] = text === undefined ? null : cipher.encrypt(text);
        columns[hash] = text === undefined ? null : blindIndex(text);
        columns[masked] = text === undefined ? null : maskedValue(kind, text);
      } else {
        columns[key] = value;
      }
    }
    for (const ref of def.refs ?? []) columns[ref.field] = candidate[ref.field] ?? (ref.many ? [] : null);
    return columns;
  }

  function unchanged(columns: Record<string, unknown>, existing: StoredRow): boolean {
    // Ciphertexts differ on every encryption; their blind indexes stand for them (and for the masked forms,
    // which rows written before those were stored lack).
    return Object.entries(columns).every(
      ([key, value]) =>
        key.endsWith('Cipher') || key.endsWith('Masked') || KEPT_BODY_KEYS.includes(key) || comparable(value) === comparable(existing[key]),
    );
  }

  /**
   * Whether a write's answer tells something about personal data the caller may not see: it sets an ID
   * number (on create, or one that differs from the stored record's — a claim conflict answers "held
   * elsewhere"), or, for a caller without pii:read, it changes any personal field of a stored record (an
   * unchanged answer would confirm a guess of the masked value).
   */
  function probesPersonalData(def: CollectionDefinition, columns: Record<string, unknown>, existing: StoredRow | undefined, blind: boolean): boolean {
    return (def.pii ?? []).some((p) => {
      const hash = columns[hashKey(p.field)];
      if (p.kind === 'id_card' && hash != null && (!existing || existing[hashKey(p.field)] !== hash)) return true;
      return blind && existing !== undefined && hash !== undefined && existing[hashKey(p.field)] !== hash;
    });
  }

  /** Whether a write names a value of a personal field the caller cannot see (its hash is in the columns). */
  function namesPersonalData(def: CollectionDefinition, columns: Record<string, unknown>): boolean {
    return (def.pii ?? []).some((p) => columns[hashKey(p.field)] != null);
  }

  const blindIndexOf = (value: string) => cipher.blindIndex(value);

  /** What set-wise rules and delete hooks see: the transaction, today, the caller, the blind index. */
  function runContext(scope: WriteScope): RunContext {
    return { tx: scope.tx, today: scope.call.today, principal: scope.call.principal, blindIndex: blindIndexOf };
  }

  function ruleContext(scope: WriteScope, previous: StoredRow | undefined, refs: RuleContext['refs']): RuleContext {
    return { ...runContext(scope), previous, refs };
  }

  /**
   * Writes records of one collection in bulk — the one write path of single writes, upserts, patches and
   * batches. Stages, each set-wise over the run: references looked up and locked per target collection;
   * per-record rules and transitions; set-wise rules (`checks`, one query per rule); unique values
   * checked in one statement per rule; server-derived fields; claims; then one INSERT for new records and
   * one UPDATE for changed ones. A failure that belongs to one record (validation, rule, reference,
   * version) is returned in its place; a database error is thrown for the caller to isolate (the batch
   * replays the run record by record). An unchanged body writes nothing and is not re-checked.
   */
  async function writeMany(scope: WriteScope, def: CollectionDefinition, items: WriteItem[]): Promise<(WriteOutcome | AppError)[]> {
    const results: (WriteOutcome | AppError | undefined)[] = new Array(items.length);
    const failItem = (index: number, err: unknown) => {
      if (!(err instanceof AppError)) throw err;
      results[index] = err;
    };
    const live = items.map((item, index) => ({ ...item, index })).filter(({ data, index }) => {
      try {
        assertCovered(scope, String(data['regionCode']));
        return true;
      } catch (err) {
        failItem(index, err);
        return false;
      }
    });
    await references.prefetch(scope, def, live);
    // The columns, the unique checks and the claims all need the keyed hash of the same values: one HMAC each.
    const hashes = new Map<string, string>();
    const blindIndex = (value: string) => {
      let hash = hashes.get(value);
      if (hash === undefined) {
        hash = cipher.blindIndex(value);
        hashes.set(value, hash);
      }
      return hash;
    };

    const prepared: Prepared[] = [];
    const identities: { index: number; identity: IdentityAttempt; prepared?: Prepared }[] = [];
    for (const { data, existing, index, position } of live) {
      try {
        const regionCode = String(data['regionCode']);
        const { ids, externalIds, resolved } = await references.resolve(scope, def, data, regionCode, existing);
        const candidate: Candidate = { regionCode, externalId: (data['externalId'] as string | null | undefined) ?? null };
        if (existing) candidate.id = existing.id;
        for (const key of Object.keys(def.fields.shape)) candidate[key] = data[key] ?? null;
        Object.assign(candidate, ids);
        const columns = toColumns(def, candidate, blindIndex);
        const throttle = scope.call.identityThrottle;
        const blind = !scope.call.principal.scopes.has('pii:read');
        const probing = probesPersonalData(def, columns, existing, blind);
        // Out of budget already: not even evaluated. For a caller without pii:read that includes any write
        // naming a stored person's masked fields — even "unchanged" would confirm a guess for free.
        const wait = throttle?.retryAfter(scope.call.principal) ?? 0;
        if (throttle && wait > 0 && (probing || (existing && blind && namesPersonalData(def, columns)))) {
          scope.identityAttempts.push({ collection: def.name, recordId: existing?.id ?? null, regionCode, status: 'throttled', position });
          throw tooManyIdentityProbes(wait, throttle);
        }
        if (existing && unchanged(columns, existing)) {
          results[index] = { status: 200, row: existing, changed: false };
          continue;
        }
        let identity: IdentityAttempt | undefined;
        if (probing) {
          identity = { collection: def.name, recordId: existing?.id ?? null, regionCode, status: 'pending', position };
          scope.identityAttempts.push(identity);
          identities.push({ index, identity });
        }
        const item: Prepared = { index, existing, candidate, externalIds, columns, refs: resolved, failed: false, identity };
        if (identity) identities[identities.length - 1]!.prepared = item;
        try {
          checkTransitions(def.transitions ?? [], candidate, existing);
          await def.rules?.(candidate, ruleContext(scope, existing, resolved));
        } catch (err) {
          if (identity) identity.status = 'refused';
          throw err;
        }
        prepared.push(item);
      } catch (err) {
        failItem(index, err);
      }
    }
    const markFailed = (p: Prepared, err: unknown, claim?: string) => {
      p.failed = true;
      if (p.identity) p.identity.status = claim ? 'conflict' : 'refused';
      failItem(p.index, err);
    };
    const checkContext = runContext(scope);
    for (const rule of def.checks ?? []) {
      const subjects = prepared
        .filter((p) => !p.failed)
        .map((p) => ({
          candidate: p.candidate,
          previous: p.existing,
          refs: p.refs,
          fail: (path: string, message: string) => {
            if (!p.failed) markFailed(p, ruleViolation(path, message));
          },
        }));
      if (subjects.length > 0) await rule.check(subjects, checkContext);
    }
    await checkUnique(scope, def, prepared, blindIndex, markFailed);
    chargeIdentities(scope, identities, results);
    for (const p of prepared) {
      // A claim lost to a concurrent writer below throws: the attempt stays pending, i.e. not committed.
      if (p.identity && !p.failed) p.identity.status = 'pending';
    }

    const writing = prepared.filter((p) => !p.failed);
    for (const p of writing) {
      if (def.derive) Object.assign(p.columns, def.derive(p.candidate, ruleContext(scope, p.existing, p.refs)));
      p.columns['maskedBody'] = maskedBody(def, p.columns, cipher);
      p.columns['maskedBodyFormat'] = bodyFormat(def);
      // Ids made here, so claims can name new records and returned rows are matched by id.
      if (!p.existing) p.columns['id'] = randomUUID();
    }
    await writeClaims(
      scope,
      def,
      writing.map((p) => Object.assign(p, { id: String(p.existing?.id ?? p.columns['id']) })),
      blindIndex,
    );

    const table = def.table;
    const inserts = writing.filter((p) => !p.existing);
    if (inserts.length > 0) {
      // A key with tombstones continues its numbering, so a tag held from a deleted record never matches.
      const keyed = inserts.flatMap((p) => (p.candidate.externalId === null ? [] : [{ regionCode: p.candidate.regionCode, externalId: p.candidate.externalId }]));
      const previous = await tombstoneVersions(scope.tx, table, keyed);
      for (const p of inserts) {
        const key = p.candidate.externalId === null ? undefined : `${p.candidate.regionCode}/${p.candidate.externalId}`;
        p.columns['version'] = (key === undefined ? 0 : (previous.get(key) ?? 0)) + 1;
      }
      const stamps = await insertJsonRows(scope.tx, table, inserts.map((p) => p.columns), ['id', 'version', 'createdAt', 'updatedAt']);
      const byId = new Map(stamps.map((row) => [String(row['id']), row]));
      for (const p of inserts) {
        const stamp = byId.get(String(p.columns['id']));
        finish(scope, def, p, stamp && { ...p.columns, ...stamp, deletedAt: null }, results);
      }
    }
    const updates = writing.filter((p) => p.existing);
    if (updates.length > 0) {
      // Only the columns the statement sets itself come back: the rest of the row is what was written over
      // what was stored.
      const written = await updateJsonRows(
        scope.tx,
        table,
        updates.map((p) => ({ ...p.columns, id: p.existing!.id, expectedVersion: p.existing!.version })),
        ['id', 'version', 'updatedAt'],
      );
      const byId = new Map(written.map((row) => [String(row['id']), row]));
      for (const p of updates) {
        const stamp = byId.get(p.existing!.id);
        const row = stamp && { ...p.existing!, ...p.columns, ...stamp };
        if (!row) {
          results[p.index] = versionConflict(undefined, 'The record changed while it was being written; retry.');
          if (p.identity) p.identity.status = 'refused';
        } else finish(scope, def, p, row, results);
      }
    }
    return results.map((r) => r ?? new AppError(500, 'internal_error', 'Internal server error'));
  }

  /**
   * Charges, in request order, the answer each write setting an ID number is about to give: a refusal to
   * the refused budget, a write to the new-identity budget (identity-throttle.ts). Once either budget is
   * spent, every later one answers 429 in its place and is not written, whatever its outcome: so no
   * answer tells more than the budgets allow, however many candidates one request carries. Synchronous,
   * so concurrent requests of one client cannot both spend the same token.
   */
  function chargeIdentities(
    scope: WriteScope,
    identities: { index: number; identity: IdentityAttempt; prepared?: Prepared }[],
    results: (WriteOutcome | AppError | undefined)[],
  ) {
    const throttle = scope.call.identityThrottle;
    if (!throttle) return;
    const { principal } = scope.call;
    let spent = false;
    for (const { index, identity, prepared } of identities) {
      if (identity.status === 'throttled') continue;
      const wait = spent ? throttle.retryAfter(principal) || 1 : throttle.retryAfter(principal);
      if (wait > 0) {
        spent = true;
        identity.status = 'throttled';
        if (prepared) prepared.failed = true;
        results[index] = tooManyIdentityProbes(wait, throttle);
        continue;
      }
      identity.charged = identity.status === 'conflict' || identity.status === 'refused' ? 'refused' : 'new';
      throttle.spend(principal, identity.charged, 1);
    }
  }

  function finish(
    scope: WriteScope,
    def: CollectionDefinition,
    p: Prepared,
    written: Record<string, unknown> | undefined,
    results: (WriteOutcome | AppError | undefined)[],
  ) {
    if (!written) throw new Error('a written row was not returned');
    const row = { ...written, ...p.externalIds } as StoredRow;
    const movedFrom = p.existing && p.existing.regionCode !== row.regionCode ? p.existing.regionCode : null;
    if (movedFrom) {
      // Readers of the old region that do not cover the new one see the record leave (DESIGN §4).
      scope.recordChange({
        collection: def.name,
        recordId: row.id,
        externalId: row.externalId,
        regionCode: movedFrom,
        op: 'delete',
        version: row.version,
        record: null,
        movedTo: row.regionCode,
      });
    }
    scope.recordChange({
      collection: def.name,
      recordId: row.id,
      externalId: row.externalId,
      regionCode: row.regionCode,
      op: 'upsert',
      version: row.version,
      record: feedSnapshot(def, row),
      view: maskedView(def, row, cipher),
      movedTo: null,
    });
    scope.recordAudit({
      collection: def.name,
      recordId: row.id,
      regionCode: row.regionCode,
      op: p.existing ? 'update' : 'create',
      version: row.version,
      movedFrom,
    });
    dropDependentViews(scope, def, p.existing, row);
    if (p.existing) references.forget(scope, def.name, p.existing);
    references.remember(scope, def.name, row, p.existing ? 'no key update' : 'update');
    if (p.identity) p.identity.status = 'written';
    results[p.index] = { status: p.existing ? 200 : 201, row, changed: true };
  }

  /**
   * Empties the kept views (record-views.ts) a write of `def` changes: of the records whose computed fields
   * show the row, before and after; of the records referencing it, when it moves to another region or takes
   * another key (whether a reader may see the key depends on its region). The record's own view is left
   * behind by its new version.
   */
  function dropDependentViews(scope: WriteScope, def: CollectionDefinition, before: StoredRow | undefined, after: StoredRow | undefined) {
    // A deleted record's view is emptied too: nothing reads it again, and the JSON need not be kept.
    if (!after && before) scope.dropViews([before.id]);
    const dependents = viewDependents.get(def.name);
    if (!dependents) return;
    const id = (after ?? before)!.id;
    const moved = before !== undefined && after !== undefined && (before.regionCode !== after.regionCode || before.externalId !== after.externalId);
    const queries = moved ? [...dependents.ownerQueries, ...dependents.referrers] : dependents.ownerQueries;
    const ids = queries.length > 0 ? sql`${sql.param([id])}::uuid[]` : undefined;
    scope.dropViews(
      dependents.owners.flatMap((owner) => [before, after].map((row) => row && owner(row))),
      queries.map((query) => query(ids!)),
      queries.length > 0 && after ? { table: getTableName(def.table), id } : undefined,
    );
  }

  /**
   * One record through the bulk path; its own failure is thrown. A unique index or exclusion constraint
   * that a concurrent transaction got to first is worded by the collection (never by the index name) and
   * keeps the database error as its cause, so `runWrite` retries the transaction — where the early
   * checks now see the committed holder, and an upsert finds the record a concurrent request created.
   */
  async function write(scope: WriteScope, def: CollectionDefinition, data: Record<string, unknown>, existing: StoredRow | undefined, position?: number) {
    let outcomes: (WriteOutcome | AppError)[];
    try {
      outcomes = await writeMany(scope, def, [{ data, existing, position }]);
    } catch (err) {
      throw constraintProblem(def, err, data) ?? err;
    }
    const [outcome] = outcomes;
    if (!outcome || outcome instanceof AppError) throw outcome ?? new Error('no outcome');
    return outcome;
  }

  function constraintProblem(def: CollectionDefinition, err: unknown, data: Record<string, unknown>): AppError | undefined {
    const root = rootDbError(err);
    if (!isConstraintViolation(root)) return undefined;
    const name = constraintOf(root);
    const table = getTableName(def.table);
    if (name === `${table}_external_key`) {
      const where = `${String(data['regionCode'])}/${String(data['externalId'])}`;
      return new AppError(409, 'conflict', 'Conflict', {
        detail: `A ${def.name} record with externalId ${String(data['externalId'])} already exists in region ${String(data['regionCode'])}; update it with PUT /v1/${def.name}/external/${where}.`,
        cause: err,
      });
    }
    for (const rule of def.unique ?? []) {
      if ('constraint' in rule && rule.constraint === name) return ruleViolation(rule.path, rule.message(undefined, data as Candidate), err);
    }
    const declared = name ? def.constraints?.[name] : undefined;
    if (declared?.status === 409) return new AppError(409, 'conflict', 'Conflict', { detail: declared.message, cause: err });
    if (declared) return ruleViolation(declared.path, declared.message, err);
    return undefined;
  }

  /** Locks the record a write replaces (`no key update`: referrers holding `key share` may go on) or deletes (`update`). */
  async function lockTarget(scope: WriteScope, def: CollectionDefinition, target: Target, lock: LockStrength = 'no key update'): Promise<StoredRow | undefined> {
    const [row] = await selectRows(
      scope.tx,
      def,
      registry,
      and(targetCondition(def.table, target), coveredBy(def.table.regionCode, scope.call.principal.region)),
      { lock },
    );
    return row;
  }

  /**
   * If-Match (strong: the record must be at a version it names) and If-None-Match on a write (the record must
   * not exist, for `*`, or not be at a version it names): 412 otherwise (RFC 9110 §13.1.1–2).
   */
  function checkIfMatch(ifMatch: IfMatch, row: StoredRow | undefined, ifNoneMatch?: IfMatch) {
    if (ifMatch !== undefined) {
      if (!row) throw versionConflict(undefined, 'If-Match was given but the record does not exist.');
      if (!etagMatches(ifMatch, row.version)) throw versionConflict(row.version);
    }
    if (row && ifNoneMatch !== undefined && etagMatches(ifNoneMatch, row.version)) {
      throw versionConflict(row.version, 'If-None-Match: the record exists (at this version) and was not written.');
    }
  }

  function parseBody(schema: z.ZodObject, body: unknown, prefix = ''): Record<string, unknown> {
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw validationFailed(zodFieldErrors(parsed.error, prefix));
    return parsed.data;
  }

  async function create(scope: WriteScope, def: CollectionDefinition, body: Record<string, unknown>): Promise<WriteOutcome> {
    return write(scope, def, body, undefined);
  }

  async function replace(scope: WriteScope, def: CollectionDefinition, target: Target, body: Record<string, unknown>, ifMatch: IfMatch, ifNoneMatch?: IfMatch) {
    const existing = await lockTarget(scope, def, target);
    if (!existing) throw notFound();
    checkIfMatch(ifMatch, existing, ifNoneMatch);
    return write(scope, def, body, existing);
  }

  async function patch(
    scope: WriteScope,
    def: CollectionDefinition,
    target: Target,
    mergePatch: Record<string, unknown>,
    bodySchema: z.ZodObject,
    ifMatch: IfMatch,
    ifNoneMatch?: IfMatch,
  ) {
    const existing = await lockTarget(scope, def, target);
    if (!existing) throw notFound();
    checkIfMatch(ifMatch, existing, ifNoneMatch);
    if (!scope.call.principal.scopes.has('pii:read')) assertTiedTogether(def, mergePatch);
    const base = writableView(def, existing, cipher);
    // A reference given by the caller's key replaces the stored id (and the other way round).
    for (const ref of def.refs ?? []) {
      if (ref.externalField in mergePatch) delete base[ref.field];
    }
    const merged = parseBody(bodySchema, applyMergePatch(base, mergePatch));
    return write(scope, def, merged, existing);
  }

  /**
   * A caller without pii:read sees neither the ID number nor the birth date, so it may patch them only
   * together: merged with the stored other half, a guess would be answered by the rule comparing them
   * (refused when wrong, unchanged when right) — a way to read the hidden value one guess at a time.
   */
  function assertTiedTogether(def: CollectionDefinition, mergePatch: Record<string, unknown>) {
    for (const spec of def.pii ?? []) {
      if (!spec.tiedTo || (spec.field in mergePatch) === (spec.tiedTo in mergePatch)) continue;
      const missing = spec.field in mergePatch ? spec.tiedTo : spec.field;
      throw validationFailed([
        {
          path: `/${missing}`,
          message: `without the pii:read scope, ${spec.field} and ${spec.tiedTo} can only be changed together: give both`,
          in: 'body',
        },
      ]);
    }
  }

  function upsertData(item: UpsertItem): Record<string, unknown> {
    const { data, regionCode, externalId } = item;
    if (data['regionCode'] != null && data['regionCode'] !== regionCode) {
      throw validationFailed([{ path: '/regionCode', message: `must equal the path's region ${regionCode}`, in: 'body' }]);
    }
    if (data['externalId'] != null && data['externalId'] !== externalId) {
      throw validationFailed([{ path: '/externalId', message: `must equal the path's key ${externalId}`, in: 'body' }]);
    }
    return { ...data, regionCode, externalId };
  }

  /** PUT …/external/{regionCode}/{externalId}: 201 when created, 200 otherwise. */
  async function upsert(scope: WriteScope, def: CollectionDefinition, item: UpsertItem): Promise<WriteOutcome> {
    const data = upsertData(item);
    assertCovered(scope, item.regionCode);
    const existing = await lockTarget(scope, def, item);
    checkIfMatch(item.ifMatch, existing, item.ifNoneMatch);
    return write(scope, def, data, existing, item.position);
  }

  /**
   * Batch upserts of one collection: existing records locked in one statement, then `writeMany`. Each
   * item's own failure is returned in its place. Keys must be distinct within one call.
   */
  async function upsertMany(scope: WriteScope, def: CollectionDefinition, items: UpsertItem[]): Promise<(WriteOutcome | AppError)[]> {
    const results: (WriteOutcome | AppError | undefined)[] = new Array(items.length);
    const accepted: { index: number; item: UpsertItem; data: Record<string, unknown> }[] = [];
    for (const [index, item] of items.entries()) {
      try {
        assertCovered(scope, item.regionCode);
        accepted.push({ index, item, data: upsertData(item) });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        results[index] = err;
      }
    }
    const t = def.table;
    const existingRows =
      accepted.length === 0
        ? []
        : await selectRows(
            scope.tx,
            def,
            registry,
            and(
              isNull(t.deletedAt),
              coveredBy(t.regionCode, scope.call.principal.region),
              sql`(${t.regionCode}, ${t.externalId}) in (select * from unnest(${sql.param(accepted.map((a) => a.item.regionCode))}::varchar[], ${sql.param(accepted.map((a) => a.item.externalId))}::varchar[]))`,
            ),
            { lock: 'no key update' },
          );
    const existingByKey = new Map(existingRows.map((row) => [`${row.regionCode}/${row.externalId}`, row]));
    const writes: { index: number; item: WriteItem }[] = [];
    for (const { index, item, data } of accepted) {
      const existing = existingByKey.get(`${item.regionCode}/${item.externalId}`);
      try {
        checkIfMatch(item.ifMatch, existing);
        writes.push({ index, item: { data, existing, position: item.position } });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        results[index] = err;
      }
    }
    const outcomes = await writeMany(scope, def, writes.map((w) => w.item));
    writes.forEach((w, i) => (results[w.index] = outcomes[i]));
    return results.map((r) => r ?? new AppError(500, 'internal_error', 'Internal server error'));
  }

  async function remove(scope: WriteScope, def: CollectionDefinition, target: Target, ifMatch: IfMatch, ifNoneMatch?: IfMatch): Promise<StoredRow> {
    const existing = await lockTarget(scope, def, target, 'update');
    if (!existing) throw notFound();
    checkIfMatch(ifMatch, existing, ifNoneMatch);
    await references.assertNotReferenced(scope, def, existing);
    await def.beforeDelete?.([existing], runContext(scope));
    await releaseClaims(scope, def, [existing.id]);
    const table = def.table;
    const [deleted] = await scope.tx
      .update(table)
      .set({ deletedAt: sql`now()`, updatedAt: sql`now()`, version: sql`${table.version} + 1` })
      .where(and(eq(table.id, existing.id), eq(table.version, existing.version)))
      .returning({ id: table.id, version: table.version });
    if (!deleted) throw versionConflict(undefined);
    const version = Number(deleted.version);
    scope.recordChange({
      collection: def.name,
      recordId: existing.id,
      externalId: existing.externalId,
      regionCode: existing.regionCode,
      op: 'delete',
      version,
      record: null,
      movedTo: null,
    });
    scope.recordAudit({ collection: def.name, recordId: existing.id, regionCode: existing.regionCode, op: 'delete', version, movedFrom: null });
    dropDependentViews(scope, def, existing, undefined);
    references.forget(scope, def.name, existing);
    return { ...existing, version };
  }

  // ---- reads ------------------------------------------------------------------------------------

  /** The caller's region range and today, as values of a read's `computed` sources. */
  function sourceParams(call: CallContext): SourceParams {
    const [lo, hi] = coverageRange(call.principal.region);
    return { lo: sql`${lo}`, hi: sql`${hi}`, today: sql`${call.today}` };
  }

  /**
   * The selection of a read: `full`, every column the record is rendered from; `body`, for a caller
   * without pii:read, the kept masked body in their place (render.ts `viewFromBody`). Both with the sources.
   */
  function selectionFor(def: CollectionDefinition, form: ReadForm, params: SourceParams) {
    return form === 'body' ? bodySelectionOf(def, registry, params) : readSelectionOf(def, registry, params);
  }

  async function get(db: Db, call: CallContext, def: CollectionDefinition, target: Target, form: ReadForm = 'full'): Promise<StoredRow> {
    const [lo, hi] = coverageRange(call.principal.region);
    // The hottest reads, by id and by key: a prepared statement each per collection and form, with the sources.
    const byId = 'id' in target;
    const statement = prepared(db, `get_${byId ? 'id' : 'key'}_${form}_${getTableName(def.table)}`, (handle, name) =>
      handle
        .select(
          selectionFor(def, form, {
            lo: sql`${sql.placeholder('lo')}`,
            hi: sql`${sql.placeholder('hi')}`,
            today: sql`${sql.placeholder('today')}`,
          }),
        )
        .from(def.table)
        .where(
          and(
            ...(byId
              ? [eq(def.table.id, sql.placeholder('id'))]
              : [eq(def.table.regionCode, sql.placeholder('regionCode')), eq(def.table.externalId, sql.placeholder('externalId'))]),
            isNull(def.table.deletedAt),
            between(def.table.regionCode, sql.placeholder('lo'), sql.placeholder('hi')),
          ),
        )
        .prepare(name),
    );
    const [row] = (await statement.execute({ ...target, lo, hi, today: call.today })) as StoredRow[];
    if (!row) throw notFound();
    return row;
  }

  /** Which records a list query asks for, in the caller's regions. */
  function listWhere(call: CallContext, def: CollectionDefinition, query: ListQuery): SQL | undefined {
    const table = def.table;
    return and(
      isNull(table.deletedAt),
      regionFilter(table.regionCode, call.principal.region, query.regionCode),
      query.externalId ? eq(table.externalId, query.externalId) : undefined,
      query.updatedAfter ? gt(table.updatedAt, new Date(query.updatedAfter)) : undefined,
      query.cursor ? gt(table.id, decodeCursor(query.cursor)) : undefined,
      ...(def.filters?.where(query, { blindIndex: (v) => cipher.blindIndex(v), principal: call.principal, today: call.today }) ?? []),
    );
  }

  /**
   * A list page for a caller without pii:read from the records' kept views (record-views.ts), as the JSON
   * it is sent as — or undefined when a record of the page has no good view: then the page is read and
   * rendered (`list`, `presentViews`), which keeps their views for the next read.
   */
  async function listFromViews(db: Db, call: CallContext, def: CollectionDefinition, query: ListQuery): Promise<string | undefined> {
    const [lo, hi] = coverageRange(call.principal.region);
    const table = def.table;
    const where = listWhere(call, def, query);
    const good = goodViewOf(def, registry, { id: sql`p.id`, version: sql`p.version`, today: sql`${call.today}`, lo: sql`${lo}`, hi: sql`${hi}` });
    // One row: the page's record count (one more than asked tells there is a next page), its last id,
    // and its views joined in order. The views stay text from table to socket. Each view is looked up by its
    // key in a subquery: joined instead, the planner chose to scan the whole table of views whenever its
    // statistics showed few good ones (a fresh day, a table analyzed before reads), 3 ms a page instead of 0.5.
    const statement = sql`with p as (select ${table.id} as id, ${table.version} as version from ${table}${where ? sql` where ${where}` : sql``} order by ${table.id} limit ${query.limit + 1}),
      q as (select p.id, (select ${recordViews.json} from ${recordViews} where ${good}) as json from p order by p.id limit ${query.limit})
      select (select count(*) from p)::int as n, count(*)::int as shown, count(q.json)::int as kept, max(q.id::text) as last,
        string_agg(q.json, ',' order by q.id) as joined from q`;
    const [page] = await queryRows<PageOfViews>(db, statement);
    if (!page || page.kept !== page.shown) return undefined;
    const nextCursor = page.n > query.limit && page.last ? encodeCursor(page.last) : null;
    return `{"items":[${page.joined ?? ''}],"nextCursor":${JSON.stringify(nextCursor)}}`;
  }

  /**
   * A record by id or key for a caller without pii:read from its kept view (record-views.ts): its JSON and
   * tag; `undefined` when the record has no good view (read and render it: `get`, `presentViews`).
   */
  async function getFromView(db: Db, call: CallContext, def: CollectionDefinition, target: Target): Promise<{ json: string; etag: string } | undefined> {
    const [lo, hi] = coverageRange(call.principal.region);
    const byId = 'id' in target;
    const table = def.table;
    const statement = prepared(db, `view_${byId ? 'id' : 'key'}_${getTableName(table)}`, (handle, name) =>
      handle
        .select({ json: recordViews.json, etag: recordViews.etag })
        .from(table)
        .leftJoin(
          recordViews,
          goodViewOf(def, registry, {
            id: table.id,
            version: table.version,
            today: sql`${sql.placeholder('today')}`,
            lo: sql`${sql.placeholder('lo')}`,
            hi: sql`${sql.placeholder('hi')}`,
          }),
        )
        .where(
          and(
            ...(byId
              ? [eq(table.id, sql.placeholder('id'))]
              : [eq(table.regionCode, sql.placeholder('regionCode')), eq(table.externalId, sql.placeholder('externalId'))]),
            isNull(table.deletedAt),
            between(table.regionCode, sql.placeholder('lo'), sql.placeholder('hi')),
          ),
        )
        .prepare(name),
    );
    const [row] = (await statement.execute({ ...target, lo, hi, today: call.today })) as { json: string | null; etag: string | null }[];
    if (!row) throw notFound();
    return row.json !== null && row.etag !== null ? { json: row.json, etag: row.etag } : undefined;
  }

  async function list(db: Db, call: CallContext, def: CollectionDefinition, query: ListQuery, form: ReadForm = 'full') {
    const table = def.table;
    const where = listWhere(call, def, query);
    const [lo, hi] = coverageRange(call.principal.region);
    if (database.pool && db === database.db) {
      // Two statements (compiled-read.ts): the page is what the first chose, even where the second no longer
      // finds a record of it (deleted or moved away meanwhile), so the next page starts after it all the same.
      const { ids, rows } = await compiledList(database.pool, def, registry, { where, limit: query.limit + 1, lo, hi, today: call.today }, form);
      const page = new Set(ids.slice(0, query.limit));
      const last = ids[query.limit - 1];
      return { rows: rows.filter((row) => page.has(row.id)), nextCursor: ids.length > query.limit && last ? encodeCursor(last) : null };
    }
    const rows = (await db
      .select(selectionFor(def, form, sourceParams(call)))
      .from(table)
      .where(where)
      .orderBy(table.id)
      .limit(query.limit + 1)) as StoredRow[];
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return { rows: page, nextCursor: rows.length > query.limit && last ? encodeCursor(last.id) : null };
  }

  /**
   * Records for a caller without pii:read, as JSON, from rows read in the `body` form: each row's kept
   * masked body with its stamps, the reference keys this caller may see and the read-time fields. A row
   * whose body is missing (written before bodies were kept) or in another format is rendered from its
   * columns instead, as `present` would. With each, its entity tag.
   */
  async function presentViews(db: Db, call: CallContext, def: CollectionDefinition, rows: StoredRow[]): Promise<RecordView[]> {
    // Bodies are masked: a caller who may see personal data is rendered for with `present` (and audited).
    if (call.principal.scopes.has('pii:read')) throw new Error('presentViews is for callers without pii:read');
    const region = call.principal.region;
    const bodyRows = rows as unknown as BodyRow[];
    const fitting: (BodyRow & { maskedBody: string })[] = [];
    const stale: string[] = [];
    for (const row of bodyRows) {
      if (bodyFits(def, row)) fitting.push(row);
      else stale.push(row.id);
    }
    const extras = new Map<string, Record<string, unknown>>();
    const computed = def.computed;
    const stubs: ApiRecord[] = [];
    for (const row of fitting) {
      const extra = referenceKeysOf(def, row, region);
      extras.set(row.id, extra);
      if (computed) {
        const stub: Record<string, unknown> = {};
        for (const key of computed.reads ?? []) stub[key] = row[key];
        stubs.push(stub as ApiRecord);
      }
    }
    if (computed && fitting.length > 0) {
      computed.compute(stubs, { today: call.today, rows: fitting as unknown as StoredRow[] });
      const keys = Object.keys(computed.shape);
      fitting.forEach((row, i) => {
        const extra = extras.get(row.id)!;
        for (const key of keys) extra[key] = stubs[i]![key] ?? null;
      });
    }
    const rendered = new Map<string, ApiRecord>();
    if (stale.length > 0) {
      // Read again as the list or get read them: live, in the caller's regions (it may have changed meanwhile).
      const where = and(inArray(def.table.id, stale), isNull(def.table.deletedAt), coveredBy(def.table.regionCode, region));
      const full = await selectRows(db, def, registry, where, { sources: sourceParams(call) });
      for (const record of await present(db, call, def, full)) rendered.set(record.id, record);
    }
    const views: RecordView[] = [];
    const keep: ViewToKeep[] = [];
    const [lo, hi] = coverageRange(region);
    for (const row of bodyRows) {
      const extra = extras.get(row.id);
      let view: RecordView | undefined;
      let version = row.version;
      if (extra) {
        view = { id: row.id, json: viewFromBody(row as BodyRow & { maskedBody: string }, extra), etag: () => entityTag(def, { ...extra, version: row.version } as ApiRecord) };
      } else {
        const record = rendered.get(row.id);
        if (record) {
          view = { id: row.id, json: JSON.stringify(record), etag: () => entityTag(def, record) };
          version = record.version;
        }
      }
      if (!view) continue;
      views.push(view);
      const range = keptRange(def, row, { lo, hi });
      if (range) keep.push({ id: row.id, version, gen: Number(row['viewGen'] ?? 0), json: view.json, etag: view.etag(), ...range });
    }
    keeper.offer(def, call.today, keep);
    return views;
  }

  /** Renders rows for a caller: masking by scope, derived fields in bulk, and an audit row per unmasked read. */
  async function present(db: Db, call: CallContext, def: CollectionDefinition, rows: StoredRow[]): Promise<ApiRecord[]> {
    const showPii = call.principal.scopes.has('pii:read');
    const region = call.principal.region;
    const records = rows.map((row) => renderRecord(def, row, { cipher, showPii, region }));
    if (def.computed && records.length > 0) {
      let withSources = rows;
      const [first] = sourceKeysOf(def);
      if (first !== undefined && rows.some((row) => !(first in row))) {
        // Rows a write returned: their sources in one statement.
        const loaded = await loadSources(db, def, rows.map((row) => row.id), sourceParams(call));
        withSources = rows.map((row) => ({ ...row, ...loaded.get(row.id) }));
      }
      def.computed.compute(records, { today: call.today, rows: withSources });
    }
    if (showPii && (def.pii?.length ?? 0) > 0 && rows.length > 0) await auditPiiReads(db, call, def.name, rows);
    return records;
  }

  async function auditPiiReads(db: Db, call: CallContext, collection: string, rows: { id: string; regionCode: string; version: number }[]) {
    await db.insert(auditLog).values(
      rows.map((row) => ({
        sub: call.principal.sub,
        clientId: call.principal.clientId ?? null,
        callerRegion: call.principal.region,
        requestId: call.requestId,
        collection,
        recordId: row.id,
        regionCode: row.regionCode,
        op: 'read_pii',
        version: row.version,
      })),
    );
  }

  return {
    registry,
    definition,
    parseBody,
    create,
    replace,
    patch,
    upsert,
    upsertMany,
    remove,
    get,
    list,
    present,
    presentViews,
    listFromViews,
    getFromView,
    /** Resolves when the views of records read so far have been kept (record-views.ts `ViewKeeper`). */
    viewsKept: () => keeper.settled(),
    /** Where a failure to keep views is reported (they are rendered again on the next read). */
    onViewError(report: (err: unknown) => void) {
      reportViewError = report;
    },
    auditPiiReads,
    selection: (def: CollectionDefinition) => selectionOf(def, registry),
  };
}

export type RecordEngine = ReturnType<typeof createRecordEngine>;
