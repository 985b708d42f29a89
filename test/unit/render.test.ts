import { describe, expect, it } from 'vitest';
import { itemsPageBytes } from '../../src/http/json-bytes.js';
import { instant } from '../../src/records/render.js';

describe('instant', () => {
  it('writes what toISOString writes for every form a stored time comes in', () => {
    const forms = [
      // PostgreSQL's text form in UTC, as a write's RETURNING gives it: trailing zeros of the ms dropped.
      '2026-11-28 09:51:07.815+00',
      '2026-11-28 09:51:07.81+00',
      '2026-11-28 09:51:07.8+00',
      '2026-11-28 09:51:07+00',
      '1999-12-31 23:59:59.999+00',
      // Other offsets and forms go through Date.
      '2026-11-28 17:51:07.815+08',
      '2026-11-28T09:51:07.815+08:00',
      '2026-11-28T09:51:07.815Z',
    ];
    for (const form of forms) expect(instant(form), form).toBe(new Date(form.replace(/([+-]\d{2})$/, '$1:00')).toISOString());
    const date = new Date('2026-02-03T04:05:06.007Z');
    expect(instant(date)).toBe('2026-02-03T04:05:06.007Z');
  });
});

describe('itemsPageBytes', () => {
  it('is the UTF-8 of JSON.stringify of the page, from the JSON of each item', () => {
    const items = [{ name: '冯倩月', n: 1, nested: { a: [null, true, 'x"\\\n'] } }, { emoji: '😀', lone: '\ud800' }, null, 'text'];
    const cases: [unknown[], Record<string, unknown>][] = [
      [items, { nextCursor: 'abc' }],
      [[], { nextCursor: null }],
      [items, {}],
      [[{ a: 1 }], { nextCursor: 'c', more: [1, 2] }],
    ];
    for (const [list, rest] of cases) {
      const texts = list.map((item) => JSON.stringify(item));
      expect(itemsPageBytes(texts, rest).toString('utf8')).toBe(JSON.stringify({ items: list, ...rest }));
    }
  });
});
