import { validationFailed } from '../errors.js';

export const etagOf = (version: number) => `"${version}"`;

/**
 * Parses an If-Match / If-None-Match value into the versions it names ('*' matches any).
 * Weak validators compare equal here: a version number identifies the whole representation.
 */
export function parseEtagList(header: string | undefined, name: 'if-match' | 'if-none-match'): number[] | '*' | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  if (header.trim() === '*') return '*';
  const versions: number[] = [];
  for (const part of header.split(',')) {
    const match = /^\s*(?:W\/)?"(\d{1,10})"\s*$/.exec(part);
    if (!match) {
      throw validationFailed([{ path: `/${name}`, message: 'must be an entity tag such as "3"', in: 'headers' }]);
    }
    versions.push(Number(match[1]));
  }
  return versions;
}

export function etagMatches(list: number[] | '*' | undefined, version: number): boolean {
  return list === '*' || (Array.isArray(list) && list.includes(version));
}
