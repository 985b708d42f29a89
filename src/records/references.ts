import { and, arrayContains, eq, isNull, or, sql, type SQL } from 'drizzle-orm';
import { AppError, referenceNotFound, ruleViolation, validationFailed } from '../errors.js';
import type { CollectionDefinition, RefSpec, ResolvedRef, StoredRow } from './definition.js';
import { coveredBy } from './region-scope.js';
import { columnOf, definitionIn, lockCovers, selectRows, targetCondition, targetsOf, type LockStrength, type Registry, type Target } from './store.js';
import type { WriteScope } from './write-scope.js';

/**
 * References between records (DESIGN §3): by id or by the caller's key, looked up only within the caller's
 * regions, cached per transaction (a batch refers to the same unit a thousand times), fetched in bulk
 * for a batch, and guarding deletes of records that live records still point at.
 */
/** Cache keys of a looked-up record: by id, and by the caller's key in its region. */
const idKey = (collection: string, id: string) => `${collection}|id:${id}`;
const keyKey = (collection: string, regionCode: string, externalId: string) => `${collection}|ext:${regionCode}/${externalId}`;

export function createReferences(registry: Registry) {
  const definitionOf = (name: string) => definitionIn(registry, name);

  async function lookup(
    scope: WriteScope,
    targetName: string,
    by: Target,
    path: string,
    lock: LockStrength,
    hint?: string,
  ): Promise<ResolvedRef> {
    const key = 'id' in by ? idKey(targetName, by.id) : keyKey(targetName, by.regionCode, by.externalId);
    const cached = scope.refCache.get(key);
    if (cached && lockCovers(cached.lock, lock)) return cached;
    const target = definitionOf(targetName);
    const [row] = await selectRows(
      scope.tx,
      target,
      registry,
      and(targetCondition(target.table, by), coveredBy(target.table.regionCode, scope.call.principal.region)),
      { lock },
    );
    if (!row) {
      const what = 'id' in by ? `id ${by.id}` : `externalId ${by.externalId} in region ${by.regionCode}`;
      throw referenceNotFound(path, `No ${targetName} record with ${what} in your regions.${hint ? ` ${hint}` : ''}`);
    }
    const resolved = remember(scope, targetName, row, lock);
    return resolved;
  }

  /** Caches a row this transaction has locked (or written: `lock` is then its write lock). */
  function remember(scope: WriteScope, collection: string, row: StoredRow, lock: LockStrength): ResolvedRef {
    const resolved: ResolvedRef = { collection, id: row.id, externalId: row.externalId, regionCode: row.regionCode, row, lock };
    scope.refCache.set(idKey(collection, row.id), resolved);
    if (row.externalId) scope.refCache.set(keyKey(collection, row.regionCode, row.externalId), resolved);
    return resolved;
  }

  function forget(scope: WriteScope, collection: string, row: StoredRow) {
    scope.refCache.delete(idKey(collection, row.id));
    if (row.externalId) scope.refCache.delete(keyKey(collection, row.regionCode, row.externalId));
  }

  function targetName(ref: RefSpec, data: Record<string, unknown>): string | undefined {
    if (typeof ref.target === 'string') return ref.target;
    const type = data[ref.target.typeField];
    return typeof type === 'string' ? ref.target.targets[type] : undefined;
  }

  async function resolve(scope: WriteScope, def: CollectionDefinition, data: Record<string, unknown>, regionCode: string) {
    const ids: Record<string, string | string[] | null> = {};
    const externalIds: Record<string, string | null | (string | null)[]> = {};
    const resolved = new Map<string, ResolvedRef | ResolvedRef[] | null>();
    for (const ref of def.refs ?? []) {
      const byId = data[ref.field];
      const byKey = data[ref.externalField];
      const name = targetName(ref, data);
      const lock = ref.lock ?? 'key share';
      const given = ref.many
        ? (Array.isArray(byId) && byId.length > 0) || (Array.isArray(byKey) && byKey.length > 0)
        : byId != null || byKey != null;
      if (!given || !name) {
        if (ref.required && !given) {
          throw validationFailed([{ path: `/${ref.field}`, message: `give ${ref.field} or ${ref.externalField}`, in: 'body' }]);
        }
        ids[ref.field] = ref.many ? [] : null;
        externalIds[ref.externalField] = ref.many ? [] : null;
        resolved.set(ref.field, ref.many ? [] : null);
        continue;
      }
      if (ref.many) {
        const list: ResolvedRef[] = [];
        if (Array.isArray(byId) && byId.length > 0) {
          for (const [i, id] of byId.entries()) list.push(await lookup(scope, name, { id: String(id) }, `/${ref.field}/${i}`, lock, ref.notFoundHint));
        } else if (Array.isArray(byKey)) {
          for (const [i, key] of byKey.entries()) {
            list.push(await lookup(scope, name, { regionCode, externalId: String(key) }, `/${ref.externalField}/${i}`, lock, ref.notFoundHint));
          }
        }
        ids[ref.field] = list.map((r) => r.id);
        externalIds[ref.externalField] = list.map((r) => r.externalId);
        resolved.set(ref.field, list);
        continue;
      }
      const found =
        byId != null
          ? await lookup(scope, name, { id: String(byId) }, `/${ref.field}`, lock, ref.notFoundHint)
          : await lookup(scope, name, { regionCode, externalId: String(byKey) }, `/${ref.externalField}`, lock, ref.notFoundHint);
      if (byId != null && byKey != null && found.externalId !== byKey) {
        throw ruleViolation(`/${ref.externalField}`, `${ref.field} and ${ref.externalField} name different records.`);
      }
      ids[ref.field] = found.id;
      externalIds[ref.externalField] = found.externalId;
      resolved.set(ref.field, found);
    }
    return { ids, externalIds, resolved };
  }


  /**
   * Loads and locks, in one statement per target collection (rows in id order), every record the items
   * reference: later look-ups hit the cache. The locks hold until commit, so a referenced record cannot
   * be deleted — nor, with `share`, changed — while the referring records are checked and written.
   */
  async function prefetch(scope: WriteScope, def: CollectionDefinition, items: { data: Record<string, unknown> }[]) {
    const wanted = new Map<string, { ids: Set<string>; keys: Map<string, { regionCode: string; externalId: string }>; lock: LockStrength }>();
    const needs = (key: string, lock: LockStrength) => !lockCovers(scope.refCache.get(key)?.lock, lock);
    for (const ref of def.refs ?? []) {
      const lock = ref.lock ?? 'key share';
      for (const { data } of items) {
        const name = targetName(ref, data);
        if (!name) continue;
        const entry = wanted.get(name) ?? { ids: new Set<string>(), keys: new Map(), lock };
        if (lock === 'share') entry.lock = 'share';
        wanted.set(name, entry);
        const regionCode = String(data['regionCode']);
        const ids = ref.many ? data[ref.field] : [data[ref.field]];
        const keys = ref.many ? data[ref.externalField] : [data[ref.externalField]];
        for (const id of Array.isArray(ids) ? ids : []) {
          if (typeof id === 'string' && needs(idKey(name, id), lock)) entry.ids.add(id);
        }
        for (const key of Array.isArray(keys) ? keys : []) {
          if (typeof key === 'string' && needs(keyKey(name, regionCode, key), lock)) {
            entry.keys.set(`${regionCode}/${key}`, { regionCode, externalId: key });
          }
        }
      }
    }
    for (const [name, { ids, keys, lock }] of wanted) {
      const target = definitionOf(name);
      const t = target.table;
      const pairs = [...keys.values()];
      const byId = ids.size > 0 ? sql`${t.id} = any(${sql.param([...ids])}::uuid[])` : undefined;
      const byKey =
        pairs.length > 0
          ? sql`(${t.regionCode}, ${t.externalId}) in (select * from unnest(${sql.param(pairs.map((p) => p.regionCode))}::varchar[], ${sql.param(pairs.map((p) => p.externalId))}::varchar[]))`
          : undefined;
      if (!byId && !byKey) continue;
      const rows = await selectRows(
        scope.tx,
        target,
        registry,
        and(isNull(t.deletedAt), coveredBy(t.regionCode, scope.call.principal.region), or(byId, byKey)),
        { lock },
      );
      for (const row of rows) remember(scope, name, row, lock);
    }
  }


  async function assertNotReferenced(scope: WriteScope, def: CollectionDefinition, row: StoredRow) {
    for (const other of registry.values()) {
      for (const ref of other.refs ?? []) {
        if (!targetsOf(ref).includes(def.name)) continue;
        const col = columnOf(other, ref.field);
        const match: SQL = ref.many ? arrayContains(col, [row.id]) : eq(col, row.id);
        const [hit] = await scope.tx
          .select({ id: other.table.id })
          .from(other.table)
          .where(and(match, isNull(other.table.deletedAt)))
          .limit(1);
        if (hit) {
          throw new AppError(409, 'still_referenced', 'Record still referenced', {
            detail: `Live ${other.name} records still reference this ${def.name} record through ${ref.field}; delete or re-point them first.`,
          });
        }
      }
    }
  }

  return { resolve, prefetch, remember, forget, assertNotReferenced };
}

export type References = ReturnType<typeof createReferences>;
