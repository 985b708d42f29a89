import { describe, it, expect } from 'vitest';
import {
  checkIdCardNumber,
  idCardCheckChar,
  ID_CARD_PATTERN,
  makeIdCardNumber,
  sexFromIdCard,
} from '../../src/domain/id-card.js';

const TODAY = '2025-06-01';

describe('checkIdCardNumber', () => {
  it('accepts the GB 11643 example 11010519491231002X', () => {
    expect(checkIdCardNumber('11010519491231002X', TODAY)).toEqual({
      ok: true,
      birthDate: '1949-12-31',
      sex: 'female',
      addressCode: '110105',
    });
  });

  it('accepts a generated male number from Zhengzhou', () => {
    const id = makeIdCardNumber({ addressCode: '410105', birthDate: '1990-01-01', sequence: 123 });
    expect(checkIdCardNumber(id, TODAY)).toEqual({ ok: true, birthDate: '1990-01-01', sex: 'male', addressCode: '410105' });
  });

  it('defaults today to the current date in Shanghai', () => {
    expect(checkIdCardNumber('11010519491231002X').ok).toBe(true);
  });

  it.each([
    ['11010519491231002x', /uppercase X/],
    ['1101051949123100', /18 characters, got 16/],
    ['11010519491231002X1', /18 characters, got 19/],
    ['1101051949123100AX', /17 digits followed by/],
    ['11010519491231002 ', /17 digits followed by/],
  ])('reports format for %j', (value, message) => {
    const result = checkIdCardNumber(value, TODAY);
    expect(result).toMatchObject({ ok: false, reason: 'format' });
    if (!result.ok) expect(result.message).toMatch(message);
  });

  it('reports an unknown province prefix', () => {
    const result = checkIdCardNumber('99010519491231002X', TODAY);
    expect(result).toMatchObject({ ok: false, reason: 'province' });
    if (!result.ok) expect(result.message).toContain('99');
    expect(checkIdCardNumber('16010519491231002X', TODAY)).toMatchObject({ reason: 'province' });
  });

  it('accepts Taiwan, Hong Kong and Macao prefixes', () => {
    for (const prefix of ['71', '81', '82']) {
      const id = makeIdCardNumber({ addressCode: `${prefix}0000`, birthDate: '1980-05-05', sequence: 2 });
      expect(checkIdCardNumber(id, TODAY).ok).toBe(true);
    }
  });

  it('reports a birth date that is not a real date', () => {
    const first17 = '11010519490230002';
    const result = checkIdCardNumber(first17 + idCardCheckChar(first17), TODAY);
    expect(result).toMatchObject({ ok: false, reason: 'birth_date' });
    if (!result.ok) expect(result.message).toMatch(/19490230.*not a real calendar date/);
  });

  it('reports a birth date in the future relative to today', () => {
    const id = makeIdCardNumber({ addressCode: '410105', birthDate: '2025-06-02', sequence: 1 });
    const result = checkIdCardNumber(id, TODAY);
    expect(result).toMatchObject({ ok: false, reason: 'birth_date' });
    if (!result.ok) expect(result.message).toMatch(/in the future/);
    expect(checkIdCardNumber(makeIdCardNumber({ addressCode: '410105', birthDate: TODAY, sequence: 1 }), TODAY).ok).toBe(true);
  });

  it('reports a birth date before 1900 (GB 11643 example 440524188001010014)', () => {
    const result = checkIdCardNumber('440524188001010014', TODAY);
    expect(result).toMatchObject({ ok: false, reason: 'birth_date' });
    if (!result.ok) expect(result.message).toMatch(/before 1900-01-01/);
    // The number itself is well-formed: only the date bound rejects it.
    expect(idCardCheckChar('44052418800101001')).toBe('4');
  });

  it('reports a wrong check digit and names the expected one', () => {
    expect(checkIdCardNumber('110105194912310021', TODAY)).toEqual({
      ok: false,
      reason: 'check_digit',
      message: 'check digit is 1 but the first 17 digits require X',
    });
  });

  it('throws on a malformed today', () => {
    expect(() => checkIdCardNumber('11010519491231002X', '2025-13-01')).toThrow(RangeError);
  });
});

describe('idCardCheckChar', () => {
  it('computes ISO 7064 MOD 11-2', () => {
    expect(idCardCheckChar('11010519491231002')).toBe('X');
    expect(idCardCheckChar('44052418800101001')).toBe('4');
  });

  it('throws unless given 17 digits', () => {
    expect(() => idCardCheckChar('1101051949123100')).toThrow(RangeError);
    expect(() => idCardCheckChar('1101051949123100X')).toThrow(RangeError);
  });
});

describe('makeIdCardNumber', () => {
  it('reproduces the GB 11643 example', () => {
    expect(makeIdCardNumber({ addressCode: '110105', birthDate: '1949-12-31', sequence: 2 })).toBe('11010519491231002X');
  });

  it('produces valid numbers whose sex follows sequence parity', () => {
    for (let sequence = 0; sequence < 1000; sequence += 37) {
      const id = makeIdCardNumber({ addressCode: '410182', birthDate: '1985-02-28', sequence });
      expect(id).toMatch(ID_CARD_PATTERN);
      const result = checkIdCardNumber(id, TODAY);
      expect(result).toMatchObject({ ok: true, sex: sequence % 2 === 1 ? 'male' : 'female' });
    }
  });

  it('rejects bad options', () => {
    expect(() => makeIdCardNumber({ addressCode: '41010', birthDate: '1990-01-01', sequence: 1 })).toThrow(RangeError);
    expect(() => makeIdCardNumber({ addressCode: '990100', birthDate: '1990-01-01', sequence: 1 })).toThrow(RangeError);
    expect(() => makeIdCardNumber({ addressCode: '410100', birthDate: '1990-02-30', sequence: 1 })).toThrow(RangeError);
    expect(() => makeIdCardNumber({ addressCode: '410100', birthDate: '1899-12-31', sequence: 1 })).toThrow(RangeError);
    expect(() => makeIdCardNumber({ addressCode: '410100', birthDate: '1990-01-01', sequence: 1000 })).toThrow(RangeError);
    expect(() => makeIdCardNumber({ addressCode: '410100', birthDate: '1990-01-01', sequence: -1 })).toThrow(RangeError);
    expect(() => makeIdCardNumber({ addressCode: '410100', birthDate: '1990-01-01', sequence: 1.5 })).toThrow(RangeError);
  });
});

describe('sexFromIdCard', () => {
  it('reads the parity of the 17th character', () => {
    expect(sexFromIdCard('11010519491231002X')).toBe('female');
    expect(sexFromIdCard('440524188001010014')).toBe('male');
  });

  it('throws on values that are not ID-number shaped', () => {
    expect(() => sexFromIdCard('1101051949123100')).toThrow(RangeError);
  });
});
