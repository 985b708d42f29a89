import type { SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { z } from 'zod';
import type { Db } from '../db/client.js';
import type { Principal } from '../security/tokens.js';
import type { LockStrength } from './store.js';

/** A table made with `recordColumns()`: the generic machinery reads and writes these columns by name. */
export type RecordTable = PgTable & {
  id: PgColumn;
  regionCode: PgColumn;
  externalId: PgColumn;
  version: PgColumn;
  createdAt: PgColumn;
  updatedAt: PgColumn;
  deletedAt: PgColumn;
  maskedBody: PgColumn;
  maskedBodyFormat: PgColumn;
};

/** A row as read from a record table, plus the caller's keys of its references (`<ref>ExternalId`). */
export type StoredRow = Record<string, unknown> & {
  id: string;
  regionCode: string;
  externalId: string | null;
  version: number;
  createdAt: Date | string;
  updatedAt: Date | string;
  deletedAt: Date | string | null;
};

/** The API representation of a record. */
export type ApiRecord = Record<string, unknown> & { id: string; regionCode: string; version: number };

/**
 * `id_card` and `phone` are stored encrypted with a keyed hash and masked without `pii:read`. `birth_date`
 * is stored in clear (rules and statistics compute ages from it) and shown only with `pii:read`: beside
 * the masked ID number it would leave ~91 candidates for the whole number (docs/decisions.md).
 */
export type PiiKind = 'id_card' | 'phone' | 'birth_date';

/** Personal kinds kept encrypted, with a blind index, in `<field>Cipher` / `<field>Hash`. */
export const ENCRYPTED_PII_KINDS: ReadonlySet<PiiKind> = new Set(['id_card', 'phone']);

export interface PiiSpec {
  field: string;
  kind: PiiKind;
  /**
   * A field that together with this one narrows down a person's ID number (a birth date with the ID
   * number it must match). A caller without `pii:read` cannot see either, so a merge patch from it must
   * set both or neither: otherwise the rule comparing them answers whether a guess equals the stored value.
   */
  tiedTo?: string;
}

/**
 * A reference to records of another (or the same) collection, accepted as UUID (`field`) or as the
 * caller's key (`externalField`, looked up in the referring record's region). A polymorphic reference
 * names its target by the value of another field (e.g. `personType` → officers | assistants).
 */
export interface RefSpec {
  field: string;
  externalField: string;
  target: string | { typeField: string; targets: Record<string, string> };
  required: boolean;
  many?: boolean;
  /**
   * How the referenced row is locked while the referring record is written: `key share` (default) keeps
   * it from being deleted before commit; `share` also keeps its fields from changing — for rules that
   * read them (e.g. a credential reads its officer's staffing type).
   */
  lock?: 'key share' | 'share';
  /** Added to the refusal when a referenced record is not found, e.g. what kind of record it must be. */
  notFoundHint?: string;
  /** Shown in the OpenAPI document, English with the Chinese term. */
  description: string;
}

/** A referenced record as found while writing: rules may look at its row. */
export interface ResolvedRef {
  collection: string;
  id: string;
  externalId: string | null;
  regionCode: string;
  row: StoredRow;
  /** The lock this transaction holds on the row (written rows: their write lock). */
  lock: LockStrength;
}

export interface RuleContext {
  tx: Db;
  /** Today in Asia/Shanghai, YYYY-MM-DD. */
  today: string;
  principal: Principal;
  /** The stored row before this write; undefined on create. */
  previous: StoredRow | undefined;
  /** Resolved references by `RefSpec.field`. */
  refs: ReadonlyMap<string, ResolvedRef | ResolvedRef[] | null>;
  /** Keyed hashes of personal fields, by field name, for uniqueness checks. */
  blindIndex(value: string): string;
}

/**
 * The record about to be written: validated API fields (absent optional ones as null) with references
 * resolved to ids, typed from the collection's zod fields.
 */
export type Candidate<F extends Record<string, unknown> = Record<string, unknown>> = { [K in keyof F]-?: F[K] | null } & Record<
  string,
  unknown
> & { regionCode: string; externalId: string | null; id?: string };

/** The candidate type of a collection's zod fields. */
export type CandidateOf<Fields extends z.ZodObject> = Candidate<z.infer<Fields>>;

/** One record of a run as a set-wise rule sees it: the candidate, its previous version, its references. */
export interface RuleSubject<F extends Record<string, unknown> = Record<string, unknown>> {
  candidate: Candidate<F>;
  /** The stored row this write replaces; undefined on create. */
  previous: StoredRow | undefined;
  refs: ReadonlyMap<string, ResolvedRef | ResolvedRef[] | null>;
  /** Refuses this record (422 rule_violation at `path`); the rest of the run goes on. */
  fail(path: string, message: string): void;
}

/** What a set-wise rule may use besides the subjects: the transaction, today, the caller. */
export interface RunContext {
  tx: Db;
  today: string;
  principal: Principal;
  blindIndex(value: string): string;
}

/**
 * A rule over a whole run of records (a single write is a run of one; a batch run holds up to 1000):
 * one query for the run, not one per record. Records written earlier in the same transaction (an
 * earlier run of the batch) are visible to its queries. Rows of other records it reads must be locked
 * (`FOR SHARE`) so that their state cannot change before this transaction commits.
 */
export interface SetRule<F extends Record<string, unknown> = Record<string, unknown>> {
  /** For logs and tests, e.g. `one-valid-credential-per-kind`. */
  name: string;
  check(subjects: RuleSubject<F>[], ctx: RunContext): Promise<void> | void;
}

/**
 * A field that only moves along allowed transitions (e.g. a case's stage). Checked with the previous
 * version at hand on every write path; a create may start only at `initial` values when given.
 */
export interface Transition<F extends Record<string, unknown> = Record<string, unknown>> {
  field: string;
  /** For each value, the values it may move to (staying put is always allowed). */
  next: Readonly<Record<string, readonly string[]>>;
  initial?: readonly string[];
}

interface UniqueRuleBase<F extends Record<string, unknown>> {
  /** The candidate's value, or null when the rule does not apply to it. */
  key(candidate: Candidate<F>, ctx: { today: string; blindIndex(value: string): string }): string | null;
  path: string;
  /**
   * The refusal; `holder` is the stored row holding the value when the rule can show it (never for claims),
   * and only when it lies in the caller's regions: nothing of a record elsewhere may be named.
   */
  message(holder: StoredRow | undefined, candidate: Candidate<F>): string;
}

/**
 * A value held by one live record at most, enforced by the database. Either a **claim**: a row in
 * `record_claims` under a namespace that several collections may share (ID numbers of officers and
 * assistants), written set-wise with the record; or a **unique index** on the collection's own table,
 * named by `constraint`, with `column`/`appliesTo` describing it for the early, clearly worded check.
 */
export type UniqueRule<F extends Record<string, unknown> = Record<string, unknown>> = UniqueRuleBase<F> &
  (
    | { claim: string }
    | {
        /** The same value computed from a stored row of the collection's table (compared as text). */
        column: SQL | PgColumn;
        /** Which live stored rows the rule applies to (the unique index's predicate). */
        appliesTo?(): SQL | undefined;
        /** The unique index that enforces it between concurrent transactions. */
        constraint: string;
      }
  );

export interface ReadContext {
  today: string;
  /** The stored rows the records were rendered from, index for index, with the values of `sources`. */
  rows: readonly StoredRow[];
}

/** Parameters of a read's `sources`: the caller's region range (inclusive) and today, as SQL (values or placeholders). */
export interface SourceParams {
  lo: SQL;
  hi: SQL;
  today: SQL;
}

/** A database constraint's refusal in words a client can act on (never the constraint's name). */
export interface ConstraintProblem {
  status: 409 | 422;
  path: string;
  message: string;
}

export interface CollectionDefinition<Fields extends z.ZodObject = z.ZodObject> {
  /** URL segment and change-feed collection name, e.g. `org-units`. */
  name: string;
  /** PascalCase singular and plural, for schema ids and operationIds (`upsertOrgUnitByExternalId`). */
  singular: string;
  plural: string;
  tag: string;
  /** OpenAPI tag description, English with the Chinese term. */
  description: string;
  table: RecordTable;
  /**
   * The writable business fields, excluding `regionCode`, `externalId` and references. Each key is also
   * the table column's key; a personal field `f` is stored in `fCipher` and `fHash` instead.
   */
  fields: Fields;
  refs?: RefSpec[];
  pii?: PiiSpec[];
  /** Extra list filters: their query shape and the SQL they add. */
  filters?: {
    query: z.ZodRawShape;
    where(query: Record<string, unknown>, ctx: { blindIndex(value: string): string; principal: Principal; today: string }): (SQL | undefined)[];
  };
  /** Values unique among live records, enforced by the database and checked in bulk on every write path. */
  unique?: UniqueRule<z.infer<Fields>>[];
  /** Other constraints of the table (exclusion constraints, checks) and how to word their refusal. */
  constraints?: Record<string, ConstraintProblem>;
  /**
   * Per-record rules without I/O (cross-field checks); throw `ruleViolation(path, message)`. Run on every
   * write path that changes the record (an unchanged body writes nothing and is not re-checked).
   */
  rules?(candidate: Candidate<z.infer<Fields>>, ctx: RuleContext): Promise<void> | void;
  /** Set-wise rules, one query per run: those that read other records. */
  checks?: SetRule<z.infer<Fields>>[];
  /** Fields that only move along allowed transitions. */
  transitions?: Transition<z.infer<Fields>>[];
  /**
   * Server-derived fields (e.g. a case's stage history), computed from the candidate and the previous
   * version after the rules pass; the client never writes them. Their keys must be table columns.
   */
  derive?(candidate: Candidate<z.infer<Fields>>, ctx: RuleContext): Record<string, unknown>;
  /**
   * The read-only fields among those `derive` writes that responses show, rendered from their columns
   * (a case's `stageHistory`). A client that sends them back is ignored, like any unknown field.
   */
  derivedFields?: z.ZodRawShape;
  /** Refuses or prepares deletes (after the still-referenced guard); throw an AppError to refuse. */
  beforeDelete?(rows: StoredRow[], ctx: RunContext): Promise<void> | void;
  /**
   * Read-only fields derived at read time (e.g. an officer's credential summary). What they are made of
   * is read with the records themselves, in the same statement (`sources`); `compute` then fills them in
   * without I/O. They may only show records in the caller's regions: sources filter by `lo`/`hi`.
   */
  computed?: {
    shape: z.ZodRawShape;
    /**
     * Named SQL expressions evaluated per row of the collection's table (correlated subqueries, usually
     * a `json_agg`), given the caller's region range and today. Their values reach `compute` as `rows[i][name]`.
     */
    sources?(params: SourceParams): Record<string, SQL>;
    /**
     * The business fields of the record `compute` reads (a credential's status and expiry). A read for a
     * caller without pii:read selects these columns only, beside the kept masked body (store.ts
     * `bodySelectionOf`), and gives `compute` records holding them alone.
     */
    reads?: readonly string[];
    compute(records: ApiRecord[], ctx: ReadContext): void;
    /**
     * The regions of every row the sources could show the record with, whether or not in the caller's
     * regions: a query of one column `region_code`, correlated with the record's row like the sources.
     * A record is kept whole (record-views.ts) only for readers who cover all of them.
     */
    regions?(): SQL;
    /**
     * For each collection the sources read, which records' computed fields show a row of it: a write of such
     * a row drops those records' kept views with it. `owner` names them from the row itself (called with the
     * row before and after the write); `owners` selects them given the written ids (as `uuid[]`).
     */
    dependsOn?: Record<string, { owner: (row: StoredRow) => unknown } | { owners: (ids: SQL) => SQL }>;
  };
}

/** Types a collection's rules from its zod fields. */
export function defineCollection<Fields extends z.ZodObject>(definition: CollectionDefinition<Fields>): CollectionDefinition<Fields> {
  return definition;
}
