import { createHash } from 'node:crypto';
import { maskIdCard, maskPhone } from '../domain/masking.js';
import { commonRegion, covers } from '../domain/region.js';
import type { PiiCipher } from '../security/pii.js';
import type { ApiRecord, CollectionDefinition, PiiKind, RefSpec, StoredRow } from './definition.js';

export const cipherKey = (field: string) => `${field}Cipher`;
export const hashKey = (field: string) => `${field}Hash`;
/** The masked form of a personal field, stored at write time (`maskedValue`) so masked reads decrypt nothing. */
export const maskedKey = (field: string) => `${field}Masked`;

/** What a caller without pii:read sees of an encrypted personal field. */
export function maskedValue(kind: PiiKind, plain: string): string {
  return kind === 'id_card' ? maskIdCard(plain) : maskPhone(plain);
}
/**
 * Stored beside `<ref>ExternalId` in rows and feed snapshots (never rendered): the region of the
 * referenced record, so the key is shown only to callers covering it.
 */
export const refRegionKey = (ref: RefSpec) => `${ref.field}RegionCode`;

/** The form `toISOString` writes: times a snapshot took from a Date are already in it. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/**
 * A `timestamptz` as PostgreSQL writes it in UTC (the pool's time zone), trailing zeros of the milliseconds
 * dropped: the form of times a write's RETURNING gave back, which the snapshots of new versions carry.
 */
const PG_UTC_INSTANT = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,3}))?\+00$/;

export function instant(value: unknown): string {
  if (typeof value === 'string') {
    if (ISO_INSTANT.test(value)) return value;
    // Rewritten rather than parsed: a Date from this string costs a microsecond, and a feed page has 2000.
    const pg = PG_UTC_INSTANT.exec(value);
    if (pg) return `${pg[1]}T${pg[2]}.${(pg[3] ?? '').padEnd(3, '0')}Z`;
  }
  return (value instanceof Date ? value : new Date(String(value))).toISOString();
}

export interface RenderOptions {
  cipher: PiiCipher;
  /** The caller holds pii:read: personal fields are shown in full (and the read is audited). */
  showPii: boolean;
  /** The caller's region: keys of referenced records outside it are rendered as null. */
  region: string;
}

/** The caller's key of a referenced record, or null when that record lies outside the caller's regions. */
function visibleKey(key: unknown, regionCode: unknown, region: string): string | null {
  return typeof key === 'string' && typeof regionCode === 'string' && covers(region, regionCode) ? key : null;
}

/**
 * The one place a stored row (or a change-feed snapshot of one) becomes an API record: common fields,
 * business fields with absent values as null, both forms of each reference — the key only when the
 * referenced record lies in the caller's regions (a snapshot without the region shows no key) —
 * personal fields decrypted and masked unless the caller may see them, birth dates hidden.
 */
export function renderRecord(def: CollectionDefinition, row: StoredRow, options: RenderOptions): ApiRecord {
  const plan = planOf(def);
  const out: ApiRecord = {
    id: row.id,
    externalId: row.externalId ?? null,
    regionCode: row.regionCode,
    version: row.version,
    createdAt: instant(row.createdAt),
    updatedAt: instant(row.updatedAt),
  };
  renderOwn(plan, row, options, out);
  addReferenceKeys(plan, row, options.region, out);
  return out;
}

/**
 * What the version itself determines of a record: business fields (personal ones masked or in full), the
 * ids of the records it refers to, and the fields its writes derive. Not the stamps, not the keys of the
 * referenced records (read from those records), not the read-time fields.
 */
function renderOwn(plan: RenderPlan, row: Record<string, unknown>, options: RenderOptions, out: Record<string, unknown>) {
  for (const field of plan.fields) {
    const { key, kind } = field;
    if (!kind) {
      out[key] = row[key] ?? null;
      continue;
    }
    if (kind === 'birth_date') {
      out[key] = options.showPii ? (row[key] ?? null) : null;
      continue;
    }
    const stored = row[field.cipherKey];
    if (typeof stored !== 'string') {
      out[key] = null;
      continue;
    }
    const masked = row[field.maskedKey];
    if (!options.showPii && typeof masked === 'string') {
      out[key] = masked;
      continue;
    }
    // Full for pii:read; masked from the ciphertext for a row (or snapshot) written before masked forms were stored.
    const plain = options.cipher.decrypt(stored);
    out[key] = options.showPii ? plain : maskedValue(kind, plain);
  }
  for (const { ref } of plan.refs) out[ref.field] = row[ref.field] ?? (ref.many ? [] : null);
  for (const key of plan.derived) out[key] = row[key] ?? null;
}

/** The caller's keys of a reference's records: each null when that record lies outside the caller's regions. */
function referenceKeys(ref: RefSpec, keys: unknown, regions: unknown, region: string): string | null | (string | null)[] {
  if (!ref.many) return visibleKey(keys, regions, region);
  const list = Array.isArray(keys) ? keys : [];
  return list.map((key, i) => visibleKey(key, Array.isArray(regions) ? regions[i] : undefined, region));
}

interface RenderPlan {
  fields: { key: string; kind: PiiKind | undefined; cipherKey: string; hashKey: string; maskedKey: string }[];
  refs: { ref: RefSpec; regionKey: string }[];
  derived: string[];
}

const plans = new WeakMap<CollectionDefinition, RenderPlan>();

/** What rendering a collection's rows needs, worked out once per collection rather than per row. */
function planOf(def: CollectionDefinition): RenderPlan {
  let plan = plans.get(def);
  if (!plan) {
    const kinds = new Map((def.pii ?? []).map((p) => [p.field, p.kind]));
    plan = {
      fields: Object.keys(def.fields.shape).map((key) => ({ key, kind: kinds.get(key), cipherKey: cipherKey(key), hashKey: hashKey(key), maskedKey: maskedKey(key) })),
      refs: (def.refs ?? []).map((ref) => ({ ref, regionKey: refRegionKey(ref) })),
      derived: Object.keys(def.derivedFields ?? {}),
    };
    plans.set(def, plan);
  }
  return plan;
}

/** A collection's fields in order, each with its kind of personal data (if any) and its column names. */
export const fieldsOf = (def: CollectionDefinition): RenderPlan['fields'] => planOf(def).fields;

/**
 * Names how `renderRecord` lays out a collection's records: its name and its fields, references and derived
 * fields in order, with a version of the renderer itself (bump it when `renderRecord` changes what it writes).
 * A record rendered and kept in another format — by an earlier release — is rendered afresh.
 */
const RENDERER_VERSION = 1;
const formats = new WeakMap<CollectionDefinition, string>();

export function renderFormat(def: CollectionDefinition): string {
  let format = formats.get(def);
  if (!format) {
    const plan = planOf(def);
    const layout = JSON.stringify([
      RENDERER_VERSION,
      def.name,
      plan.fields.map((f) => [f.key, f.kind ?? null]),
      plan.refs.map((r) => [r.ref.field, r.ref.externalField, r.ref.many === true]),
      plan.derived,
    ]);
    format = createHash('sha256').update(layout).digest('base64url').slice(0, 16);
    formats.set(def, format);
  }
  return format;
}

/** A record rendered once for every reader without pii:read who covers `scope` (feed entries keep it). */
export interface MaskedView {
  json: string;
  /** Readers covering it see every reference key the view shows; null when it shows none. */
  scope: string | null;
  format: string;
}

/**
 * The masked rendering of a stored row as JSON (from the body its write kept, else rendered), and the readers
 * it is right for: those covering the common region of the records it refers to (their keys show), or every
 * reader when it refers to none. Undefined when its references lie in different provinces: no one region
 * covers them, so each reader is rendered for afresh.
 */
export function maskedView(def: CollectionDefinition, row: StoredRow, cipher: PiiCipher): MaskedView | undefined {
  const plan = planOf(def);
  const regions: string[] = [];
  for (const { ref, regionKey } of plan.refs) {
    const keys = row[ref.externalField];
    const refRegions = row[regionKey];
    if (ref.many) {
      if (!Array.isArray(keys)) continue;
      keys.forEach((key, i) => {
        if (typeof key === 'string') regions.push(String(Array.isArray(refRegions) ? refRegions[i] : undefined));
      });
    } else if (typeof keys === 'string') {
      regions.push(String(refRegions));
    }
  }
  const scope = regions.length === 0 ? null : commonRegion(regions);
  if (scope === undefined) return undefined;
  const region = scope ?? row.regionCode;
  // A write has just rendered the body (`maskedBody`): the view is that body with its stamps and these keys.
  const body = row['maskedBody'];
  const json =
    typeof body === 'string'
      ? viewFromBody({ ...(row as unknown as BodyRow), maskedBody: body }, referenceKeysOf(def, row, region))
      : JSON.stringify(renderRecord(def, row, { cipher, showPii: false, region }));
  return { json, scope, format: renderFormat(def) };
}

/**
 * Names the layout of a collection's kept masked bodies: `renderFormat` and the body's own version (bump it
 * when `maskedBody` or `viewFromBody` change what they write). A body kept in another format is not used.
 */
const BODY_VERSION = 1;
const bodyFormats = new WeakMap<CollectionDefinition, string>();

export function bodyFormat(def: CollectionDefinition): string {
  let format = bodyFormats.get(def);
  if (!format) {
    format = `${BODY_VERSION}.${renderFormat(def)}`;
    bodyFormats.set(def, format);
  }
  return format;
}

/**
 * The masked body of a version about to be written, from the columns the write sets (`renderOwn` as a reader
 * without pii:read sees it), as JSON. Kept on the row (`masked_body`), it is the same for every such reader.
 */
export function maskedBody(def: CollectionDefinition, columns: Record<string, unknown>, cipher: PiiCipher): string {
  const out: Record<string, unknown> = {};
  renderOwn(planOf(def), columns, { cipher, showPii: false, region: '' }, out);
  return JSON.stringify(out);
}

/**
 * A JSON value as PostgreSQL wrote it (a `computed` source read in the `body` form, compiled-read.ts):
 * `viewFromBody` writes its text as it is rather than parsing and writing it again. Anything else that
 * serializes it (an entity tag) sees the parsed value.
 */
export class RawJson {
  constructor(readonly text: string) {}
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/** A row read for a reader without pii:read (store.ts `bodySelectionOf`): the stamps, the kept body, the references. */
export interface BodyRow {
  id: string;
  externalId: string | null;
  regionCode: string;
  version: number;
  createdAt: unknown;
  updatedAt: unknown;
  maskedBody: string | null;
  maskedBodyFormat: string | null;
  [key: string]: unknown;
}

/** Whether a row's kept body can be shown as it is: present, and in the format this release writes. */
export const bodyFits = (def: CollectionDefinition, row: BodyRow): row is BodyRow & { maskedBody: string } =>
  typeof row.maskedBody === 'string' && row.maskedBody.length > 2 && row.maskedBodyFormat === bodyFormat(def);

/** The reference keys a reader of `region` sees, by field: what a record adds to its body as it is read. */
export function referenceKeysOf(def: CollectionDefinition, row: Record<string, unknown>, region: string): Record<string, unknown> {
  return addReferenceKeys(planOf(def), row, region, {});
}

function addReferenceKeys(plan: RenderPlan, row: Record<string, unknown>, region: string, out: Record<string, unknown>) {
  for (const { ref, regionKey } of plan.refs) out[ref.externalField] = referenceKeys(ref, row[ref.externalField], row[regionKey], region);
  return out;
}

/**
 * The JSON of a record for a reader without pii:read, made from a row's kept body: the stamps, the body as
 * it was rendered at write time, then `extra` — the reference keys for this reader and the read-time fields.
 */
export function viewFromBody(row: BodyRow & { maskedBody: string }, extra: Record<string, unknown>): string {
  let json = `{"id":${JSON.stringify(row.id)},"externalId":${JSON.stringify(row.externalId ?? null)},"regionCode":${JSON.stringify(row.regionCode)},"version":${row.version},"createdAt":"${instant(row.createdAt)}","updatedAt":"${instant(row.updatedAt)}",${row.maskedBody.slice(1, -1)}`;
  for (const key in extra) {
    const value = extra[key];
    json += `,${JSON.stringify(key)}:${value instanceof RawJson ? value.text : JSON.stringify(value ?? null)}`;
  }
  return `${json}}`;
}

/** The API fields a client would send to recreate the record (personal data in full): the base of a merge patch. */
export function writableView(def: CollectionDefinition, row: StoredRow, cipher: PiiCipher): Record<string, unknown> {
  // Keys are not part of the writable view, so the region given does not matter.
  const full = renderRecord(def, row, { cipher, showPii: true, region: row.regionCode });
  const view: Record<string, unknown> = { regionCode: full.regionCode, externalId: full.externalId };
  for (const key of Object.keys(def.fields.shape)) view[key] = full[key];
  for (const ref of def.refs ?? []) view[ref.field] = full[ref.field];
  return view;
}
