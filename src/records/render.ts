import { maskIdCard, maskPhone } from '../domain/masking.js';
import type { PiiCipher } from '../security/pii.js';
import type { ApiRecord, CollectionDefinition, StoredRow } from './definition.js';

export const cipherKey = (field: string) => `${field}Cipher`;
export const hashKey = (field: string) => `${field}Hash`;

function instant(value: unknown): string {
  return (value instanceof Date ? value : new Date(String(value))).toISOString();
}

export interface RenderOptions {
  cipher: PiiCipher;
  /** The caller holds pii:read: personal fields are shown in full (and the read is audited). */
  showPii: boolean;
}

/**
 * The one place a stored row (or a change-feed snapshot of one) becomes an API record: common fields,
 * business fields with absent values as null, both forms of each reference, personal fields decrypted
 * and masked unless the caller may see them.
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
    out[ref.externalField] = row[ref.externalField] ?? (ref.many ? [] : null);
  }
  for (const key of Object.keys(def.derivedFields ?? {})) out[key] = row[key] ?? null;
  return out;
}

/** The API fields a client would send to recreate the record (personal data in full): the base of a merge patch. */
export function writableView(def: CollectionDefinition, row: StoredRow, cipher: PiiCipher): Record<string, unknown> {
  const full = renderRecord(def, row, { cipher, showPii: true });
  const view: Record<string, unknown> = { regionCode: full.regionCode, externalId: full.externalId };
  for (const key of Object.keys(def.fields.shape)) view[key] = full[key];
  for (const ref of def.refs ?? []) view[ref.field] = full[ref.field];
  return view;
}
