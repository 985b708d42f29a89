import type { SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { z } from 'zod';
import type { Db } from '../db/client.js';
import type { Principal } from '../security/tokens.js';

/** A table made with `recordColumns()`: the generic machinery reads and writes these columns by name. */
export type RecordTable = PgTable & {
  id: PgColumn;
  regionCode: PgColumn;
  externalId: PgColumn;
  version: PgColumn;
  createdAt: PgColumn;
  updatedAt: PgColumn;
  deletedAt: PgColumn;
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

export type PiiKind = 'id_card' | 'phone';

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

/** The record about to be written: validated API fields with references resolved to ids. */
export type Candidate = Record<string, unknown> & { regionCode: string; externalId: string | null; id?: string };

/**
 * A value that must not be shared by two live records the rule applies to — e.g. an ID number among
 * active officers, or (officer, kind) among valid credentials. Declared, not coded as a query, so the
 * engine checks a whole batch with one statement and also catches duplicates inside the batch.
 */
export interface UniqueRule {
  /** The candidate's value, or null when the rule does not apply to it. */
  key(candidate: Candidate, ctx: { today: string; blindIndex(value: string): string }): string | null;
  /** The same value computed from a stored row of the collection's table (compared as text). */
  column: SQL | PgColumn;
  /** Which live stored rows the rule applies to. */
  appliesTo?(today: string): SQL | undefined;
  path: string;
  /** The refusal; `holder` is the stored row holding the value, undefined when an earlier record of the same batch does. */
  message(holder: StoredRow | undefined, candidate: Candidate): string;
}

export interface ReadContext {
  db: Db;
  today: string;
  /** The caller: embedded records outside its regions must be left out. */
  principal: Principal;
}

export interface CollectionDefinition {
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
  fields: z.ZodObject;
  refs?: RefSpec[];
  pii?: { field: string; kind: PiiKind }[];
  /** Extra list filters: their query shape and the SQL they add. */
  filters?: {
    query: z.ZodRawShape;
    where(query: Record<string, unknown>, ctx: { blindIndex(value: string): string; principal: Principal; today: string }): (SQL | undefined)[];
  };
  /** Values unique among live records, checked in bulk on every write path. */
  unique?: UniqueRule[];
  /**
   * Cross-field and cross-record rules; throw `ruleViolation(path, message)`. Run on every write path that
   * changes the record (an unchanged body writes nothing and is not re-checked). Prefer `unique` to queries.
   */
  rules?(candidate: Candidate, ctx: RuleContext): Promise<void> | void;
  /** Read-only fields derived at read time (e.g. an officer's credential summary), added in bulk. */
  computed?: {
    shape: z.ZodRawShape;
    compute(records: ApiRecord[], ctx: ReadContext): Promise<void>;
  };
}

export function defineCollection<T extends CollectionDefinition>(definition: T): T {
  return definition;
}
