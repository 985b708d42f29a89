import { and, arrayContains, eq, isNull, or, sql, type SQL } from 'drizzle-orm';
import { covers } from '../domain/region.js';
import { AppError, referenceNotFound, ruleViolation, validationFailed } from '../errors.js';
import type { CollectionDefinition, RefSpec, ResolvedRef, StoredRow } from './definition.js';
import { coveredBy } from './region-scope.js';
import { refRegionKey } from './render.js';
import { columnOf, definitionIn, lockCovers, selectRows, targetCondition, targetsOf, type LockStrength, type Registry, type Target } from './store.js';
import type { WriteScope } from './write-scope.js';

/**
 * References between records (DESIGN §3): by id or by the caller's key, looked up only within the caller's
 * regions — except the reference a record already holds, which an update may keep whatever its region —
 * cached per transaction (a batch refers to the same unit a thousand times), fetched in bulk for a batch,
 * and guarding deletes of records that live records still point at.
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
    /** The record being written already refers to this one: keeping it is allowed wherever it lies. */
    kept = false,
    hint?: string,
  ): Promise<ResolvedRef> {
    const region = scope.call.principal.region;
    const notFound = () => {
      const what = 'id' in by ? `id ${by.id}` : `externalId ${by.externalId} in region ${by.regionCode}`;
      return referenceNotFound(path, `No ${targetName} record with ${what} in your regions.${hint ? ` ${hint}` : ''}`);
    };
    const key = 'id' in by ? idKey(targetName, by.id) : keyKey(targetName, by.regionCode, by.externalId);
    const cached = scope.refCache.get(key);
    if (cached && lockCovers(cached.lock, lock)) {
      // The cache also holds kept references outside the caller's regions: only a kept one may use them.
      if (!kept && !covers(region, cached.regionCode)) throw notFound();
      return cached;
    }
    const target = definitionOf(targetName);
    const [row] = await selectRows(
      scope.tx,
      target,
      registry,
      and(targetCondition(target.table, by), kept ? undefined : coveredBy(target.table.regionCode, region)),
      { lock },
    );
    if (!row) throw notFound();
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

  /**
   * Resolves the references of one record. `existing` is the stored record an update replaces: a
   * reference by id to the record it already refers to resolves even outside the caller's regions (a
   * district unit keeps its city parent), still locked like any other; a new one must be in them.
   * Returns the ids, and the keys and regions of the referenced records for the stored row.
   */
  async function resolve(
    scope: WriteScope,
    def: CollectionDefinition,
    data: Record<string, unknown>,
    regionCode: string,
    existing?: StoredRow,
  ) {
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
        externalIds[refRegionKey(ref)] = ref.many ? [] : null;
        resolved.set(ref.field, ref.many ? [] : null);
        continue;
      }
      // What the stored record refers to now, when it refers to the same target collection.
      const held = existing && targetName(ref, existing) === name ? existing[ref.field] : undefined;
      const kept = (id: unknown) => (Array.isArray(held) ? held.includes(id) : held != null && held === id);
      if (ref.many) {
        const list: ResolvedRef[] = [];
        if (Array.isArray(byId) && byId.length > 0) {
          for (const [i, id] of byId.entries()) list.push(await lookup(scope, name, { id: String(id) }, `/${ref.field}/${i}`, lock, kept(id), ref.notFoundHint));
        } else if (Array.isArray(byKey)) {
          for (const [i, key] of byKey.entries()) {
            list.push(await lookup(scope, name, { regionCode, externalId: String(key) }, `/${ref.externalField}/${i}`, lock, false, ref.notFoundHint));
          }
        }
        ids[ref.field] = list.map((r) => r.id);
        externalIds[ref.externalField] = list.map((r) => r.externalId);
        externalIds[refRegionKey(ref)] = list.map((r) => r.regionCode);
        resolved.set(ref.field, list);
        continue;
      }
      const found =
        byId != null
          ? await lookup(scope, name, { id: String(byId) }, `/${ref.field}`, lock, kept(byId), ref.notFoundHint)
          : await lookup(scope, name, { regionCode, externalId: String(byKey) }, `/${ref.externalField}`, lock, false, ref.notFoundHint);
      if (byId != null && byKey != null && found.externalId !== byKey) {
        throw ruleViolation(`/${ref.externalField}`, `${ref.field} and ${ref.externalField} name different records.`);
      }
      ids[ref.field] = found.id;
      externalIds[ref.externalField] = found.externalId;
      externalIds[refRegionKey(ref)] = found.regionCode;
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


  /**
   * Refuses to delete a record that live records still point at. The refusal names the referring
   * collection only when a referrer lies in the caller's regions; referrers elsewhere get a neutral
   * message that says neither where they are nor what they are.
   */
  async function assertNotReferenced(scope: WriteScope, def: CollectionDefinition, row: StoredRow) {
    const region = scope.call.principal.region;
    let elsewhere = false;
    for (const other of registry.values()) {
      for (const ref of other.refs ?? []) {
        if (!targetsOf(ref).includes(def.name)) continue;
        const col = columnOf(other, ref.field);
        const match: SQL = ref.many ? arrayContains(col, [row.id]) : eq(col, row.id);
        // Referrers in the caller's regions first: one of them is worth naming.
        const hits = await scope.tx
          .select({ regionCode: other.table.regionCode })
          .from(other.table)
          .where(and(match, isNull(other.table.deletedAt)))
          .orderBy(sql`${coveredBy(other.table.regionCode, region)} desc`)
          .limit(1);
        const hit = hits[0] as { regionCode: string } | undefined;
        if (hit && covers(region, hit.regionCode)) {
          throw new AppError(409, 'still_referenced', 'Record still referenced', {
            detail: `Live ${other.name} records still reference this ${def.name} record through ${ref.field}; delete or re-point them first.`,
          });
        }
        if (hit) elsewhere = true;
      }
    }
    if (elsewhere) {
      throw new AppError(409, 'still_referenced', 'Record still referenced', {
        detail: `Live records still reference this ${def.name} record, so it cannot be deleted; they must be re-pointed or deleted first.`,
      });
    }
  }

  return { resolve, prefetch, remember, forget, assertNotReferenced };
}

export type References = ReturnType<typeof createReferences>;
