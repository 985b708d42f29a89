import { maskIdCard, maskPhone } from '../domain/masking.js';
import { covers } from '../domain/region.js';
import type { PiiCipher } from '../security/pii.js';
import type { ApiRecord, CollectionDefinition, RefSpec, StoredRow } from './definition.js';

export const cipherKey = (field: string) => `${field}Cipher`;
export const hashKey = (field: string) => `${field}Hash`;
/**
 * Stored beside `<ref>ExternalId` in rows and feed snapshots (never rendered): the region of the
 * referenced record, so the key is shown only to callers covering it.
 */
export const refRegionKey = (ref: RefSpec) => `${ref.field}RegionCode`;

function instant(value: unknown): string {
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
  const out: ApiRecord = {
    id: row.id,
    externalId: row.externalId ?? null,
    regionCode: row.regionCode,
    version: row.version,
    createdAt: instant(row.createdAt),
    updatedAt: instant(row.updatedAt),
  };
  const piiKinds = new Map((def.pii ?? []).map((p) => [p.field, p.kind]));
  for (const key of Object.keys(def.fields.shape)) {
    const kind = piiKinds.get(key);
    if (!kind) {
      out[key] = row[key] ?? null;
      continue;
    }
    if (kind === 'birth_date') {
      out[key] = options.showPii ? (row[key] ?? null) : null;
      continue;
    }
    const stored = row[cipherKey(key)];
    if (typeof stored !== 'string') {
      out[key] = null;
      continue;
    }
    const plain = options.cipher.decrypt(stored);
    out[key] = options.showPii ? plain : kind === 'id_card' ? maskIdCard(plain) : maskPhone(plain);
  }
  for (const ref of def.refs ?? []) {
    out[ref.field] = row[ref.field] ?? (ref.many ? [] : null);
    const keys = row[ref.externalField];
    const regions = row[refRegionKey(ref)];
    if (ref.many) {
      const list = Array.isArray(keys) ? keys : [];
      out[ref.externalField] = list.map((key, i) => visibleKey(key, Array.isArray(regions) ? regions[i] : undefined, options.region));
    } else {
      out[ref.externalField] = visibleKey(keys, regions, options.region);
    }
  }
  for (const key of Object.keys(def.derivedFields ?? {})) out[key] = row[key] ?? null;
  return out;
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
