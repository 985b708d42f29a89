import { DrizzleQueryError } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loggableError } from '../../src/logger.js';

describe('loggableError', () => {
  it('drops the bound parameters drizzle writes into a failed query’s message and stack, and pg’s detail', () => {
    const driver = Object.assign(new Error('duplicate key value violates unique constraint "officers_pkey"'), {
      code: '23505',
      constraint: 'officers_pkey',
      detail: 'Key (name)=(张伟) already exists.',
    });
    const err = new DrizzleQueryError('insert into "officers" ("name", "birth_date") values ($1, $2)', ['张伟', '1990-01-01'], driver);
    const logged = JSON.stringify(loggableError(err));
    expect(logged).toContain('insert into');
    expect(logged).toContain('params: [redacted]');
    expect(logged).toContain('23505');
    expect(logged).not.toContain('张伟');
    expect(logged).not.toContain('1990-01-01');
  });

  it('passes an already scrubbed error through unchanged', () => {
    const once = loggableError(new Error('x'));
    expect(loggableError(once)).toBe(once);
  });
});
