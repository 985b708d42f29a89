import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import type { Candidate, StoredRow, Transition } from '../../src/records/definition.js';
import { checkTransitions } from '../../src/records/transitions.js';

const stage: Transition = {
  field: 'stage',
  initial: ['filed'],
  next: { filed: ['investigating', 'terminated'], investigating: ['decided'], decided: [] },
};
const candidate = (value: string): Candidate => ({ regionCode: '410100', externalId: 'X', stage: value });
const stored = (value: string) => ({ id: 'id', regionCode: '410100', externalId: 'X', version: 1, stage: value }) as unknown as StoredRow;

function refusal(fn: () => void): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('declared transitions', () => {
  it('lets a create start only at an initial value', () => {
    expect(() => checkTransitions([stage], candidate('filed'), undefined)).not.toThrow();
    const err = refusal(() => checkTransitions([stage], candidate('decided'), undefined));
    expect(err).toMatchObject({ status: 422, code: 'rule_violation' });
    expect(err.errors).toEqual([{ path: '/stage', message: expect.stringContaining('starts at filed'), in: 'body' }]);
  });

  it('allows the declared moves and staying put, refuses the rest naming where the field may go', () => {
    expect(() => checkTransitions([stage], candidate('investigating'), stored('filed'))).not.toThrow();
    expect(() => checkTransitions([stage], candidate('investigating'), stored('investigating'))).not.toThrow();
    const back = refusal(() => checkTransitions([stage], candidate('filed'), stored('investigating')));
    expect(back.detail).toBe('stage cannot move from investigating to filed; from investigating it can move to decided.');
    const final = refusal(() => checkTransitions([stage], candidate('investigating'), stored('decided')));
    expect(final.detail).toContain('nothing (it is final)');
  });
});
