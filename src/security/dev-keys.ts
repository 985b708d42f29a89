import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { generatePiiKey } from './pii.js';

/**
 * Keys for the embedded default (no DATABASE_URL, no JWT configuration): made once and kept beside the
 * PGlite data so a restart can still read its own encrypted data and tokens. Never used with PostgreSQL.
 */
export interface DevKeys {
  jwtSecret: string;
  piiKey: string;
}

export function devKeysPath(pgliteDir: string): string {
  return join(dirname(pgliteDir), 'dev-keys.json');
}

export async function loadOrCreateDevKeys(pgliteDir: string): Promise<{ keys: DevKeys; created: boolean; path: string }> {
  const path = devKeysPath(pgliteDir);
  try {
    const keys = JSON.parse(await readFile(path, 'utf8')) as DevKeys;
    if (typeof keys.jwtSecret === 'string' && typeof keys.piiKey === 'string') return { keys, created: false, path };
    throw new Error(`${path} is incomplete`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const keys: DevKeys = { jwtSecret: randomBytes(32).toString('base64url'), piiKey: generatePiiKey() };
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(keys, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  return { keys, created: true, path };
}
