/**
 * The walk over a parsed JSON body (hostile-input.ts) finds what it looks for in document order and holds
 * memory for the nesting depth only: a body of millions of array elements is walked within a small heap,
 * as the image runs the service with a capped one and bodies are parsed before any admission gate.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findBadText } from '../../src/http/hostile-input.js';

describe('findBadText', () => {
  it('names each bad value and member name by its JSON Pointer, in document order', () => {
    const body = { operations: Array.from({ length: 12 }, (_, i) => ({ data: { name: i === 2 || i === 10 ? 'a\u0000b' : 'ok' } })), ['k\u0000']: 1 };
    expect(findBadText(body).map((e) => e.path)).toEqual(['/operations/2/data/name', '/operations/10/data/name', '/k\u0000']);
    expect(findBadText('\ud800').map((e) => e.path)).toEqual(['/']);
    expect(findBadText({ 'a/b~c': ['x', '\ud800'] }).map((e) => e.path)).toEqual(['/a~1b~0c/1']);
    expect(findBadText(Array(80).fill('\u0000'))).toHaveLength(50);
  });

  it('walks 3.9 million array elements within a 96 MB heap', () => {
    const module = fileURLToPath(new URL('../../src/http/hostile-input.ts', import.meta.url));
    const script = `
      const { findBadText } = await import(${JSON.stringify(module)});
      const body = JSON.parse('{"operations":[' + '0,'.repeat(3_900_000) + '"\\\\u0000"]}');
      process.stdout.write(JSON.stringify(findBadText(body)));`;
    const out = execFileSync(process.execPath, ['--max-old-space-size=96', '--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(JSON.parse(out)).toEqual([expect.objectContaining({ path: '/operations/3900000' })]);
  });
});
