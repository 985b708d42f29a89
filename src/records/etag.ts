import { createHash } from 'node:crypto';
import { validationFailed } from '../errors.js';
import type { ApiRecord, CollectionDefinition } from './definition.js';

/** The tag of a stored version alone; also what `If-Match` compares (see `entityTag`). */
export const etagOf = (version: number) => `"${version}"`;

/**
 * The parts of a record's representation that its stored version does not determine: read-only derived
 * fields (an officer's `summary`) and the keys of the records it references (read from those records).
 */
function derivedPart(def: CollectionDefinition, record: ApiRecord): unknown[] | undefined {
  const parts: unknown[] = [];
  for (const key of Object.keys(def.computed?.shape ?? {})) parts.push(record[key] ?? null);
  for (const ref of def.refs ?? []) parts.push(record[ref.externalField] ?? null);
  return parts.some((p) => p !== null && !(Array.isArray(p) && p.length === 0)) ? parts : undefined;
}

/**
 * The ETag of a rendered record: `"<version>"` when nothing in it is derived from other records, else
 * `"<version>-<hash of the derived part>"`, so the tag changes whenever the representation does (a credential
 * added to an officer changes its summary, not its version). `If-Match` keeps comparing the version only:
 * a write depends on the writable state, which the version names, so a client holding either form may write.
 */
export function entityTag(def: CollectionDefinition, record: ApiRecord): string {
  const derived = derivedPart(def, record);
  if (!derived) return etagOf(record.version);
  const hash = createHash('sha256').update(JSON.stringify(derived)).digest('base64url').slice(0, 12);
  return `"${record.version}-${hash}"`;
}

// A version as this service writes it: no leading zero, so `"01"` names no version (tags are compared as text).
const STRONG_TAG = /^"(0|[1-9]\d{0,9})(?:-[A-Za-z0-9_-]{1,64})?"$/;
const ANY_TAG = /^(W\/)?"([\x21\x23-\x7e]*)"$/;

function tagsOf(header: string, name: 'if-match' | 'if-none-match'): { weak: boolean; opaque: string }[] {
  return header.split(',').map((part) => {
    const match = ANY_TAG.exec(part.trim());
    if (!match) throw validationFailed([{ path: `/${name}`, message: 'must be an entity tag such as "3"', in: 'headers' }]);
    return { weak: match[1] !== undefined, opaque: match[2]! };
  });
}

/**
 * If-Match → the versions it names ('*' matches any). The comparison is strong (RFC 9110 §13.1.1): a weak
 * tag never matches, so a list of only weak tags names no version and the write answers 412. Tags are opaque
 * to clients: a well-formed one this service never issued (`"-1"`, a version past any record's) matches
 * nothing, so 412 too; only text that is not an entity tag at all is 400.
 */
export function parseIfMatch(header: string | undefined): number[] | '*' | undefined {
  return versionsNamed(header, 'if-match', false);
}

/**
 * If-None-Match on a write → the versions it names ('*': any record). A write with it is carried out only
 * when no record matches (RFC 9110 §13.1.2: `*` is "create only"), else 412. The comparison is weak, and a
 * tag names the version it starts with.
 */
export function parseWriteIfNoneMatch(header: string | undefined): number[] | '*' | undefined {
  return versionsNamed(header, 'if-none-match', true);
}

function versionsNamed(header: string | undefined, name: 'if-match' | 'if-none-match', weakToo: boolean): number[] | '*' | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  if (header.trim() === '*') return '*';
  const versions: number[] = [];
  for (const tag of tagsOf(header, name)) {
    if (tag.weak && !weakToo) continue;
    const match = STRONG_TAG.exec(`"${tag.opaque}"`);
    if (match) versions.push(Number(match[1]));
  }
  return versions;
}

/** If-None-Match → the tags it names, weak or not ('*' matches any): GET compares them weakly (RFC 9110 §13.1.2). */
export function parseIfNoneMatch(header: string | undefined): string[] | '*' | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  if (header.trim() === '*') return '*';
  return tagsOf(header, 'if-none-match').map((tag) => `"${tag.opaque}"`);
}

export function etagMatches(list: number[] | '*' | undefined, version: number): boolean {
  return list === '*' || (Array.isArray(list) && list.includes(version));
}
